/* Unit test of api/finalize.c (and the kinds and debug hooks that share
 * its collection-time pass), through the public API but linked with the
 * library's internals, under PARGC_VERIFY:
 *  - a finalizer that stores its object somewhere reachable resurrects
 *    it: the object and what it references stay intact, and its long
 *    link stays set, while its short link was cleared;
 *  - finalizers of large objects run; links into large objects clear;
 *  - GC_finalize_all runs the finalizers of reachable objects too;
 *  - registration, links and collections from several threads at once;
 *  - a link stored inside a heap object that dies is forgotten (no write
 *    into freed memory);
 *  - a finalizer on a typed object sees its untyped words intact. */
#include "config.h"
#include <gc.h>
#include <gc/gc_typed.h>
#include <gc/javaxfc.h>
#include "check.h"

#include <pthread.h>
#include <stdint.h>
#include <string.h>

#define NOINLINE __attribute__((noinline))

static NOINLINE void collect(int rounds)
{
  for (int i = 0; i < rounds; i++) {
    check_wipe_stack();
    GC_gcollect();
    GC_invoke_finalizers();
  }
}

/* ---- resurrection ------------------------------------------------------- */

struct res {
  struct res *self_check;
  char *payload;
};
static void **resurrected; /* uncollectable: one slot */
static void **res_short, **res_long; /* atomic uncollectable: links */
static int res_runs;

static void GC_CALLBACK resurrect_fin(void *obj, void *cd)
{
  (void)cd;
  res_runs++;
  *resurrected = obj;
}

static NOINLINE void make_resurrectable(void)
{
  struct res *r = GC_MALLOC(sizeof *r);
  r->self_check = r;
  r->payload = GC_MALLOC_ATOMIC(64);
  memset(r->payload, 'r', 64);
  *res_short = r;
  *res_long = r;
  GC_general_register_disappearing_link(res_short, r);
  GC_register_long_link(res_long, r);
  /* r points to itself: only _ignore_self finalizes it (with plain
   * ordering a self-cycle is never finalized, as in Boehm GC). */
  GC_register_finalizer_ignore_self(r, resurrect_fin, 0, 0, 0);
}

/* Checks the resurrected object in its own frame, so that no copy of its
 * address stays in test_resurrection's registers. */
static NOINLINE void check_resurrected(void)
{
  struct res *r = *resurrected;
  CHECK(r != NULL);
  if (!r)
    return;
  CHECK(r->self_check == r);
  int intact = 1;
  for (int i = 0; i < 64; i++)
    intact &= r->payload[i] == 'r';
  CHECK(intact);
  CHECK(*res_short == NULL); /* cleared before finalization */
  CHECK(*res_long == r);     /* the object lives on */
  *resurrected = NULL;       /* let it go: no finalizer any more */
}

static void test_resurrection(void)
{
  resurrected = GC_MALLOC_UNCOLLECTABLE(sizeof(void *));
  res_short = GC_MALLOC_ATOMIC_UNCOLLECTABLE(sizeof(void *));
  res_long = GC_MALLOC_ATOMIC_UNCOLLECTABLE(sizeof(void *));
  make_resurrectable();
  collect(3);
  CHECK_EQ(res_runs, 1);
  check_resurrected();
  collect(3);
  CHECK(*res_long == NULL); /* now reclaimed: the long link clears */
  CHECK_EQ(res_runs, 1);
}

/* ---- large objects ---------------------------------------------------------- */

static int large_runs;
static void **large_links;
static void GC_CALLBACK large_fin(void *obj, void *cd)
{
  (void)cd;
  large_runs += ((char *)obj)[700000] == 'L';
}

static NOINLINE void make_large(int n)
{
  for (int i = 0; i < n; i++) {
    char *p = GC_MALLOC_ATOMIC(1 << 20);
    p[700000] = 'L';
    GC_register_finalizer(p, large_fin, 0, 0, 0);
    large_links[i] = p + 12345; /* interior */
    GC_general_register_disappearing_link(&large_links[i], p + 12345);
  }
}

static void test_large(void)
{
  enum { N = 8 };
  large_links = GC_MALLOC_ATOMIC_UNCOLLECTABLE(N * sizeof(void *));
  make_large(N);
  collect(3);
  CHECK(large_runs >= N - 1);
  int cleared = 0;
  for (int i = 0; i < N; i++)
    cleared += large_links[i] == NULL;
  CHECK(cleared >= N - 1);
}

/* ---- GC_finalize_all ---------------------------------------------------------- */

static int all_runs;
static void GC_CALLBACK count_fin(void *obj, void *cd)
{
  (void)obj;
  __atomic_fetch_add((int *)cd, 1, __ATOMIC_RELAXED);
}

static void test_finalize_all(void)
{
  void **keep = GC_MALLOC_UNCOLLECTABLE(10 * sizeof(void *));
  for (int i = 0; i < 10; i++) {
    keep[i] = GC_MALLOC(16);
    GC_register_finalizer(keep[i], count_fin, &all_runs, 0, 0);
  }
  GC_finalize_all();
  CHECK_EQ(all_runs, 10);
  collect(2);
  CHECK_EQ(all_runs, 10); /* each ran once */
  GC_FREE(keep);
}

/* ---- links inside dead objects ------------------------------------------------ */

static NOINLINE void make_link_holders(int n, void *target)
{
  for (int i = 0; i < n; i++) {
    void **holder = GC_MALLOC_ATOMIC(4 * sizeof(void *));
    holder[1] = target;
    GC_general_register_disappearing_link(&holder[1], target);
  }
}

static void test_dead_link_home(void)
{
  void **root = GC_MALLOC_UNCOLLECTABLE(sizeof(void *));
  *root = GC_MALLOC(32); /* the target stays alive while the holders die */
  make_link_holders(1000, *root);
  collect(2); /* holders die: their links must be forgotten */
  /* Reuse the memory, then let the target die: nothing may be written
   * into the reused holders. */
  enum { M = 4000 };
  void **fresh = GC_MALLOC_UNCOLLECTABLE(M * sizeof(void *));
  for (int i = 0; i < M; i++) {
    uintptr_t *f = GC_MALLOC_ATOMIC(4 * sizeof(void *));
    f[0] = f[1] = f[2] = f[3] = 0xABCDABCD;
    fresh[i] = f;
  }
  *root = NULL;
  collect(2);
  int bad = 0;
  for (int i = 0; i < M; i++)
    bad += ((uintptr_t *)fresh[i])[1] != 0xABCDABCD;
  CHECK_EQ(bad, 0);
  GC_FREE(fresh);
  GC_FREE(root);
}

/* ---- typed objects with finalizers ---------------------------------------------- */

struct typed {
  void *ptr;
  uintptr_t tag;
};
static int typed_ok, typed_runs;
static void GC_CALLBACK typed_fin(void *obj, void *cd)
{
  (void)cd;
  typed_runs++;
  typed_ok += ((struct typed *)obj)->tag == 0x7777;
}

static NOINLINE void make_typed(GC_descr d, int n)
{
  for (int i = 0; i < n; i++) {
    struct typed *t = GC_malloc_explicitly_typed(sizeof *t, d);
    t->ptr = GC_MALLOC(8);
    t->tag = 0x7777;
    GC_register_finalizer(t, typed_fin, 0, 0, 0);
  }
}

static void test_typed(void)
{
  GC_word bm[1] = {0};
  GC_set_bit(bm, 0);
  GC_descr d = GC_make_descriptor(bm, 2);
  make_typed(d, 100);
  collect(3);
  CHECK(typed_runs >= 80);
  CHECK_EQ(typed_ok, typed_runs);
}

/* ---- threads ---------------------------------------------------------------------- */

#define THREADS 4
#define PER_THREAD 2000
static int thread_runs;

static void *thread_main(void *arg)
{
  (void)arg;
  void **links = GC_MALLOC_ATOMIC_UNCOLLECTABLE(64 * sizeof(void *));
  for (int i = 0; i < PER_THREAD; i++) {
    void *p = GC_MALLOC(24);
    GC_register_finalizer(p, count_fin, &thread_runs, 0, 0);
    links[i % 64] = p;
    GC_general_register_disappearing_link(&links[i % 64], p);
    if (i % 500 == 0)
      GC_gcollect();
  }
  for (int i = 0; i < 64; i++)
    GC_unregister_disappearing_link(&links[i]);
  GC_FREE(links);
  return NULL;
}

static void test_threads(void)
{
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++)
    CHECK_EQ(pthread_create(&t[i], NULL, thread_main, NULL), 0);
  for (int i = 0; i < THREADS; i++)
    CHECK_EQ(pthread_join(t[i], NULL), 0);
  collect(3);
  CHECK(thread_runs >= THREADS * PER_THREAD * 8 / 10);
  CHECK(thread_runs <= THREADS * PER_THREAD);
}

int main(void)
{
  setenv("PARGC_VERIFY", "1", 0);
  GC_INIT();
  test_resurrection();
  test_large();
  test_finalize_all();
  test_dead_link_home();
  test_typed();
  test_threads();
  return CHECK_SUMMARY();
}
