/* Threads racing through what the library sets up on first use, and
 * through the allocator's shared lists, for ThreadSanitizer (`make
 * check-tsan`, which runs it with GC_DONT_GC=1: a collection's stop
 * cannot work under ThreadSanitizer) as much as for its own checks.
 * Nothing here needs a collection.
 *
 * Found with ThreadSanitizer:
 *  - the typed kinds were made on first use behind a plain check of
 *    typed_array_kind, so a thread could see it set and typed_kind not
 *    yet (the compiler may order the two stores either way);
 *  - GC_finalized_malloc's kind was visible before its disclaim
 *    procedure was registered;
 *  - free-run lists and pools were looked at without their locks (to
 *    skip empty ones) with plain reads, racing with the locked writers;
 *    the heap policy read the finalizer counts the same way; a thief
 *    read a context's node while a new thread took the context over.
 *
 * Part 1: eight threads start together (a barrier) on their first typed,
 * finalized and finalizer-registered objects; every typed object must
 * be of one kind, and every object intact.  Part 2: threads come and go
 * (reusing parked contexts) while others allocate and free large
 * objects, whose runs may be taken from other threads' lists. */
#include "config.h"
#include <gc.h>
#include <gc/gc_disclaim.h>
#include <gc/gc_mark.h>
#include <gc/gc_typed.h>
#include "check.h"
#include <pthread.h>
#include <stdint.h>
#include <string.h>

#define THREADS 8
#define PER_THREAD 2000

struct node { struct node *next; uintptr_t val; };

static pthread_barrier_t start;
static GC_descr node_descr;
static int typed_kinds[THREADS];
static void fin_proc(void *obj, void *cd) { (void)obj, (void)cd; }
static const struct GC_finalizer_closure closure = {fin_proc, NULL};

static void *first_use(void *arg)
{
  int id = (int)(intptr_t)arg;
  pthread_barrier_wait(&start);
  long bad = 0;
  struct node *list = NULL;
  for (int i = 0; i < PER_THREAD; i++) {
    struct node *n = GC_malloc_explicitly_typed(sizeof *n, node_descr);
    if (!n)
      return (void *)1;
    n->next = list;
    n->val = (uintptr_t)i;
    list = n;
    if (i == 0) {
      size_t size;
      typed_kinds[id] = GC_get_kind_and_size(n, &size);
    }
    uintptr_t *f = GC_finalized_malloc(4 * sizeof(uintptr_t), &closure);
    if (!f)
      return (void *)1;
    f[0] = (uintptr_t)i;
    bad += f[1] != 0 || f[2] != 0 || f[3] != 0; /* cleared, as GC_MALLOC */
    uintptr_t *g = GC_MALLOC(3 * sizeof(uintptr_t));
    GC_REGISTER_FINALIZER(g, fin_proc, NULL, NULL, NULL);
    if (i % 2)
      GC_REGISTER_FINALIZER(g, NULL, NULL, NULL, NULL); /* and unregister */
  }
  for (long i = PER_THREAD - 1; list; list = list->next, i--)
    bad += list->val != (uintptr_t)i;
  return (void *)bad;
}

static void *large_churn(void *arg)
{
  (void)arg;
  for (int i = 0; i < 200; i++) {
    size_t n = (size_t)(64 + i % 7 * 32) * 1024;
    char *p = GC_MALLOC_ATOMIC(n);
    if (!p)
      return (void *)1;
    memset(p, i, n);
    if (p[n - 1] != (char)i)
      return (void *)1;
    GC_FREE(p);
  }
  return NULL;
}

static void *short_lived(void *arg)
{
  (void)arg;
  for (int i = 0; i < 50; i++)
    GC_FREE(GC_MALLOC(128 * 1024)); /* a thread context, taken and parked */
  return NULL;
}

int main(void)
{
  GC_INIT();
  GC_word bm[GC_BITMAP_SIZE(struct node)] = {0};
  GC_set_bit(bm, GC_WORD_OFFSET(struct node, next));
  node_descr = GC_make_descriptor(bm, GC_WORD_LEN(struct node));

  /* Part 1 */
  pthread_barrier_init(&start, NULL, THREADS);
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++)
    CHECK_EQ(GC_pthread_create(&t[i], NULL, first_use, (void *)(intptr_t)i), 0);
  for (int i = 0; i < THREADS; i++) {
    void *bad;
    CHECK_EQ(GC_pthread_join(t[i], &bad), 0);
    CHECK_EQ((long)(intptr_t)bad, 0);
  }
  for (int i = 1; i < THREADS; i++)
    CHECK_EQ(typed_kinds[i], typed_kinds[0]);

  /* Part 2 */
  pthread_t churn[2];
  for (int i = 0; i < 2; i++)
    CHECK_EQ(GC_pthread_create(&churn[i], NULL, large_churn, NULL), 0);
  for (int round = 0; round < 10; round++) {
    pthread_t s[3];
    for (int i = 0; i < 3; i++)
      CHECK_EQ(GC_pthread_create(&s[i], NULL, short_lived, NULL), 0);
    for (int i = 0; i < 3; i++)
      CHECK_EQ(GC_pthread_join(s[i], NULL), 0);
  }
  for (int i = 0; i < 2; i++) {
    void *bad;
    CHECK_EQ(GC_pthread_join(churn[i], &bad), 0);
    CHECK_EQ((long)(intptr_t)bad, 0);
  }
  return CHECK_SUMMARY();
}
