/* displacement_test.c: with interior pointers off
 * (GC_set_all_interior_pointers(0) before GC_INIT), as in Boehm GC:
 *  - a pointer to an object's start keeps it alive;
 *  - a pointer into its middle does not (most such objects go);
 *  - once GC_REGISTER_DISPLACEMENT(16) was called, a pointer 16 bytes in
 *    keeps the object (also under GC_DEBUG, whose objects start after a
 *    header: the debug call registers both offsets);
 *  - GC_is_valid_displacement accepts starts and registered offsets and
 *    calls GC_is_valid_displacement_print_proc for other offsets;
 *  - a pointer into an object's middle that lies on a thread's stack or
 *    in its registers keeps the object: Boehm GC scans stacks and
 *    registers as if interior pointers were on, whatever the setting.
 *    Compiled code keeps such pointers all the time (a loop's cursor
 *    into an array, one past an array's end); Guile's weak tables, which
 *    walk their old bucket array through such a cursor while they grow,
 *    lost their entries when this did not hold;
 *  - GC_finalized_malloc's objects (gc_disclaim.h) stay alive through the
 *    pointer the client holds, one word in, and their closure through
 *    the first word, where it is stored | 1: GC_init_finalized_malloc
 *    registers both offsets.  (Without them Boehm GC's own disclaim
 *    tests found finalizers seeing objects already finalized.) */
#include <gc.h>
#include <gc/gc_disclaim.h>
#include <stdint.h>
#ifdef GC_THREADS
#include <pthread.h>
#include <sched.h>
#endif
#include "compat.h"

#define N 200

static char *kept[N]; /* a root */
static int finalized;
static void GC_CALLBACK count_finalized(void *obj, void *cd) {
  (void)obj;
  if (cd)
    ++*(int *)cd; /* a table's own count */
  else
    finalized++;
}

/* N finalizable 64-byte objects; kept[i] points `offset` bytes in. */
static COMPAT_NOINLINE void fill(int offset) {
  for (int i = 0; i < N; i++) {
    char *p = GC_MALLOC(64);
    GC_REGISTER_FINALIZER(p, count_finalized, NULL, NULL, NULL);
    kept[i] = p + offset;
  }
}

static COMPAT_NOINLINE void drop(void) {
  for (int i = 0; i < N; i++)
    kept[i] = NULL;
}

/* A table of N finalizable 64-byte objects, each holding its index;
 * their finalizers count in *count. */
static COMPAT_NOINLINE char **make_table(int *count) {
  char **t = GC_MALLOC(N * sizeof *t);
  for (int i = 0; i < N; i++) {
    t[i] = GC_MALLOC(64);
    GC_REGISTER_FINALIZER(t[i], count_finalized, count, NULL, NULL);
    *(int *)t[i] = i;
  }
  return t;
}

/* The table whose middle `mid` points at: all there, every object
 * unfinalized and holding its index. */
static COMPAT_NOINLINE int table_intact(char **mid) {
  char **t = mid - N / 2;
  int ok = 0;
  for (int i = 0; i < N; i++)
    ok += *(int *)t[i] == i;
  return ok;
}

#ifdef GC_THREADS
/* A thread that holds only a pointer into the middle of a table, on its
 * own stack, while the main thread collects. */
static volatile int phase; /* 1: table made; 2: collected; 3: checked */
static int thread_ok, thread_finalized;

static void *hold_middle(void *arg) {
  (void)arg;
  char **volatile mid = make_table(&thread_finalized) + N / 2;
  compat_wipe_stack();
  __atomic_store_n(&phase, 1, __ATOMIC_RELEASE);
  while (__atomic_load_n(&phase, __ATOMIC_ACQUIRE) != 2)
    sched_yield();
  thread_ok = table_intact(mid);
  __atomic_store_n(&phase, 3, __ATOMIC_RELEASE);
  return NULL;
}
#endif

/* N objects of GC_finalized_malloc in a table held by its start; each
 * closure is a GC_NEW_ATOMIC object that only the object's first word
 * points to (| 1), and each object holds its index. */
static int fin_called;
static void GC_CALLBACK fin_proc(void *obj, void *cd) {
  (void)obj;
  (void)cd;
  fin_called++;
}

static COMPAT_NOINLINE int **make_finalized_table(void) {
  int **t = GC_MALLOC(N * sizeof *t);
  for (int i = 0; i < N; i++) {
    struct GC_finalizer_closure *fc = GC_NEW_ATOMIC(struct GC_finalizer_closure);
    fc->proc = fin_proc;
    fc->cd = (void *)(intptr_t)(i + 1);
    t[i] = GC_finalized_malloc(64, fc);
    *t[i] = i;
  }
  return t;
}

/* Objects holding their index whose closure is intact, after churning
 * the heap so that a freed closure or object would be reused. */
static COMPAT_NOINLINE int finalized_intact(int **t) {
  for (int i = 0; i < 20000; i++)
    *(volatile intptr_t *)GC_MALLOC_ATOMIC(sizeof(struct GC_finalizer_closure)) = -1;
  int ok = 0;
  for (int i = 0; i < N; i++) {
    const struct GC_finalizer_closure *fc =
        (const struct GC_finalizer_closure *)(((GC_word *)t[i])[-1] & ~(GC_word)1);
    ok += *t[i] == i && fc->proc == fin_proc && fc->cd == (void *)(intptr_t)(i + 1);
  }
  return ok;
}

static int invalid;
static void GC_CALLBACK note_invalid(void *p) {
  (void)p;
  invalid++;
}

int main(void) {
  GC_set_all_interior_pointers(0);
  GC_INIT();
  CHECK_EQ(GC_get_all_interior_pointers(), 0);

  /* Starts keep their objects. */
  finalized = 0;
  fill(0);
  compat_collect(3);
  CHECK_EQ(finalized, 0);
  drop();
  compat_collect(3);

  /* An unregistered offset does not. */
  finalized = 0;
  fill(16);
  compat_collect(3);
  CHECK(COMPAT_MOSTLY(finalized, N));
  drop();

  /* A registered one does. */
  GC_REGISTER_DISPLACEMENT(16);
  finalized = 0;
  fill(16);
  compat_collect(3);
  CHECK_EQ(finalized, 0);

  GC_is_valid_displacement_print_proc = note_invalid;
  char *base = kept[0] - 16;
  (void)GC_is_valid_displacement(base);
  (void)GC_is_valid_displacement(kept[0]);
  CHECK_EQ(invalid, 0);
  CHECK(GC_is_valid_displacement(base + 24) == base + 24);
  CHECK_EQ(invalid, 1);
  drop();
  compat_collect(3);

  /* Interior pointers on this thread's stack keep their objects. */
  static int main_finalized;
  char **volatile mid = make_table(&main_finalized) + N / 2;
  compat_collect(3);
  CHECK_EQ(main_finalized, 0);
  CHECK_EQ(table_intact(mid), N);
  mid = NULL;

  /* GC_finalized_malloc's objects, held one word in, keep themselves
   * and their closures. */
  GC_init_finalized_malloc();
  static int **volatile fin_table;
  fin_table = make_finalized_table();
  compat_collect(3);
  CHECK_EQ(fin_called, 0);
  CHECK_EQ(finalized_intact(fin_table), N);
  fin_table = NULL;

#ifdef GC_THREADS
  /* And on another thread's, stopped while this one collects. */
  pthread_t th;
  CHECK_EQ(pthread_create(&th, NULL, hold_middle, NULL), 0);
  while (__atomic_load_n(&phase, __ATOMIC_ACQUIRE) != 1)
    sched_yield();
  compat_collect(3);
  __atomic_store_n(&phase, 2, __ATOMIC_RELEASE);
  CHECK_EQ(pthread_join(th, NULL), 0);
  CHECK_EQ(thread_finalized, 0);
  CHECK_EQ(thread_ok, N);
#endif
  return CHECK_SUMMARY();
}
