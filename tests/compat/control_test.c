/* control_test.c: collection control and the policy settings take
 * effect, as in Boehm GC:
 *  - GC_init collects once unless GC_set_dont_precollect(1);
 *  - a stop function (GC_try_to_collect, GC_set_stop_func + GC_gcollect)
 *    gives a collection up while it marks: 0 returned, GC_gc_no
 *    unchanged, nothing freed or finalized, and the next collection
 *    works;
 *  - GC_collect_a_little outside incremental mode returns 0; in
 *    incremental mode with a time limit, a loop until it returns 0 ends
 *    and keeps what is reachable;
 *  - GC_start_mark_threads can be called at any time; GC_stackbottom
 *    tells the main thread's stack base after GC_INIT;
 *  - the policy variables written directly (GC_free_space_divisor) and
 *    the setters (GC_set_min_bytes_allocd, GC_non_gc_bytes) change how
 *    often allocation collects;
 *  - GC_set_dont_expand(1) still lets live data grow the heap;
 *  - GC_set_max_retries: an allocation past GC_set_max_heap_size
 *    collects that many more times before the out-of-memory handler;
 *  - GC_set_on_heap_resize is called with the heap's new size;
 *  - GC_set_force_unmap_on_gcollect(1) returns free memory to the OS at
 *    GC_gcollect.
 * The heap-limit cases run in child processes. */
#include <gc.h>
#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#include "compat.h"

#define NODES 200000

struct node {
  struct node *next;
  GC_word value;
};
static struct node *live_list; /* a root */

static COMPAT_NOINLINE void build_live_list(int n) {
  live_list = NULL;
  for (int i = 0; i < n; i++) {
    struct node *p = GC_MALLOC(sizeof *p);
    CHECK(p != NULL);
    p->next = live_list;
    p->value = (GC_word)i;
    live_list = p;
  }
}

static int live_list_intact(int n) {
  int i = n;
  for (struct node *p = live_list; p; p = p->next)
    if (p->value != (GC_word)--i)
      return 0;
  return i == 0;
}

/* ---- stop functions ------------------------------------------------------ */

static int stop_calls, stop_after;
static int GC_CALLBACK stop_counting(void) { return ++stop_calls > stop_after; }
static int GC_CALLBACK never_stop(void) { return 0; }

static int finalized;
static void GC_CALLBACK count_finalized(void *obj, void *cd) {
  (void)obj;
  (void)cd;
  finalized++;
}

static COMPAT_NOINLINE void make_finalizable_garbage(int n) {
  for (int i = 0; i < n; i++) {
    void *p = GC_MALLOC(32);
    GC_REGISTER_FINALIZER(p, count_finalized, NULL, NULL, NULL);
  }
}

static void test_stop_func(void) {
  build_live_list(NODES);
  make_finalizable_garbage(100);
  compat_wipe_stack();
  GC_word before = GC_get_gc_no();

  /* Asked once before anything happens: stop at once. */
  stop_calls = 0;
  stop_after = 0;
  CHECK_EQ(GC_try_to_collect(stop_counting), 0);
  CHECK_EQ(stop_calls, 1);
  CHECK_EQ(GC_get_gc_no(), before);

  /* Asked again once the world is stopped, before marking. */
  GC_invoke_finalizers();
  int finalized_before = finalized;
  stop_calls = 0;
  stop_after = 1;
  CHECK_EQ(GC_try_to_collect(stop_counting), 0);
  CHECK_EQ(stop_calls, 2);
  CHECK_EQ(GC_get_gc_no(), before);
  /* And while marking.  Whether the mark ends before the fifth call
   * depends on how the marker threads share the work (see
   * stop_while_marking for the deterministic case), but a collection
   * given up decides nothing. */
  stop_calls = 0;
  stop_after = 4;
  if (GC_try_to_collect(stop_counting) == 0) {
    CHECK(stop_calls > 4);
    CHECK_EQ(GC_get_gc_no(), before);
    GC_invoke_finalizers();
    CHECK_EQ(finalized, finalized_before); /* nothing decided from a partial mark */
  } else {
    before = GC_get_gc_no();
  }
  CHECK(live_list_intact(NODES));

  /* A stop function is there to chain to even when none was set. */
  GC_stop_func initial = GC_get_stop_func();
  CHECK(initial != 0 && initial() == 0);
  /* GC_gcollect consults GC_set_stop_func's function. */
  stop_calls = 0;
  stop_after = 1;
  GC_set_stop_func(stop_counting);
  GC_gcollect();
  CHECK(stop_calls >= 2);
  CHECK_EQ(GC_get_gc_no(), before);
  GC_set_stop_func(never_stop);

  /* A stop function that never says stop: the collection completes. */
  CHECK_EQ(GC_try_to_collect(never_stop), 1);
  CHECK(GC_get_gc_no() > before);
  CHECK(live_list_intact(NODES));
  /* And the abandoned collections left nothing behind: the garbage is
   * found by the next ones. */
  compat_collect(3);
  CHECK(COMPAT_MOSTLY(finalized, 100));
  CHECK(live_list_intact(NODES));

  /* Many abandoned collections in a row, with allocation in between. */
  for (int round = 0; round < 20; round++) {
    stop_calls = 0;
    stop_after = 2 + round * 3;
    (void)GC_try_to_collect(stop_counting);
    for (int i = 0; i < 1000; i++)
      (void)GC_MALLOC(48);
    CHECK(live_list_intact(NODES));
  }
  GC_gcollect();
  CHECK(live_list_intact(NODES));
  live_list = NULL;
}

/* One marker thread (GC_MARKERS=1, read by both collectors at GC_init):
 * the collecting thread does all the marking and asks the stop function
 * as it goes, so a heap of 200000 objects takes more than four asks. */
static void stop_while_marking(void) {
  setenv("GC_MARKERS", "1", 1);
  GC_INIT();
  build_live_list(NODES);
  make_finalizable_garbage(100);
  compat_wipe_stack();
  GC_invoke_finalizers();
  int finalized_before = finalized;
  GC_word before = GC_get_gc_no();
  stop_calls = 0;
  stop_after = 4;
  CHECK_EQ(GC_try_to_collect(stop_counting), 0);
  CHECK(stop_calls > 4);
  CHECK_EQ(GC_get_gc_no(), before);
  GC_invoke_finalizers();
  CHECK_EQ(finalized, finalized_before);
  CHECK(live_list_intact(NODES));
  CHECK_EQ(GC_try_to_collect(never_stop), 1);
  CHECK(live_list_intact(NODES));
}

/* ---- GC_collect_a_little, GC_start_mark_threads ------------------------------ */

static void test_collect_a_little(void) {
  build_live_list(1000);
  for (int i = 0; i < 100000; i++)
    (void)GC_MALLOC(64);
  int rounds = 0;
  while (GC_collect_a_little() && rounds < 1000000)
    rounds++;
  CHECK_EQ(GC_collect_a_little(), 0); /* not incremental: nothing in progress */
  CHECK(live_list_intact(1000));
  GC_start_mark_threads();
  GC_start_mark_threads();
  GC_gcollect();
  CHECK(live_list_intact(1000));
  live_list = NULL;
}

/* Incremental mode with a time limit (a child): GC_collect_a_little
 * eventually says no collection is in progress, and nothing reachable
 * is lost on the way. */
static void incremental_time_limit(void) {
  setenv("PARGC_CONC_MIN_LIVE", "0", 0); /* pargc: cycles however small the heap */
  GC_INIT();
  GC_enable_incremental();
  GC_set_time_limit(5);
  GC_set_max_prior_attempts(2);
  CHECK_EQ(GC_get_max_prior_attempts(), 2);
  build_live_list(NODES);
  for (int round = 0; round < 8; round++) {
    for (int i = 0; i < 50000; i++)
      (void)GC_MALLOC(64);
    long steps = 0;
    while (GC_collect_a_little() && steps < 10000000)
      steps++;
    CHECK(steps < 10000000);
    CHECK(live_list_intact(NODES));
  }
  GC_gcollect();
  CHECK(live_list_intact(NODES));
}

/* ---- allocation policy ------------------------------------------------------ */

/* Collections while `bytes` of garbage are allocated. */
static COMPAT_NOINLINE GC_word collections_for_garbage(size_t bytes, size_t size, int declare_non_gc) {
  GC_gcollect();
  GC_word before = GC_get_gc_no();
  for (size_t done = 0; done < bytes; done += size) {
    volatile char *p = GC_MALLOC(size);
    p[0] = 1;
    if (declare_non_gc)
      GC_non_gc_bytes += size; /* as if managed explicitly */
  }
  return GC_get_gc_no() - before;
}

/* Each measurement in a fresh collector (a child process): how often a
 * collector collects depends on the heap it has grown so far. */
static int policy_case;
static void measure_policy(void) {
  if (policy_case == 1)
    GC_free_space_divisor = 1; /* written directly, as old programs do */
  if (policy_case == 2)
    GC_free_space_divisor = 20;
  if (policy_case == 4)
    GC_set_min_bytes_allocd(32 << 20);
  GC_INIT();
  if (policy_case == 2)
    CHECK_EQ(GC_get_free_space_divisor(), 20);
  size_t size = policy_case <= 2 ? 64 : 4096;
  GC_word n = collections_for_garbage(64 << 20, size, policy_case == 5);
  CHECK(write(1, &n, sizeof n) == (ssize_t)sizeof n);
}

static GC_word in_child(void (*fn)(void)) {
  int fds[2];
  CHECK(pipe(fds) == 0);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(fds[1], 1);
    fn();
    _exit(CHECK_SUMMARY());
  }
  close(fds[1]);
  GC_word n = (GC_word)-1;
  if (read(fds[0], &n, sizeof n) != (ssize_t)sizeof n)
    n = (GC_word)-1;
  close(fds[0]);
  int status;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  return n;
}

static GC_word policy_collections(int which) {
  policy_case = which;
  return in_child(measure_policy);
}

static void test_policy_variables(void) {
  GC_word seldom = policy_collections(1), often = policy_collections(2);
  CHECK(often != (GC_word)-1 && seldom != (GC_word)-1);
  CHECK(often > 2 * seldom);
  GC_word normal = policy_collections(3), least = policy_collections(4);
  GC_word non_gc = policy_collections(5);
  CHECK(normal != (GC_word)-1 && least != (GC_word)-1 && non_gc != (GC_word)-1);
  CHECK(least <= 4);
  CHECK(least < normal);
  CHECK(non_gc < normal);
}

static void test_dont_expand(void) {
  GC_set_dont_expand(1);
  CHECK_EQ(GC_get_dont_expand(), 1);
  build_live_list(NODES); /* live data still grows the heap */
  (void)collections_for_garbage(32 << 20, 1024, 0);
  CHECK(live_list_intact(NODES));
  GC_dont_expand = 0; /* the variable is the setting */
  CHECK_EQ(GC_get_dont_expand(), 0);
  live_list = NULL;
}

/* ---- heap size callbacks and unmapping -------------------------------------- */

static int resize_calls;
static GC_word resize_last;
static void GC_CALLBACK on_resize(GC_word size) {
  resize_calls++;
  resize_last = size;
}

static void test_on_heap_resize(void) {
  GC_INIT();
  GC_set_on_heap_resize(on_resize);
  CHECK(GC_get_on_heap_resize() == on_resize);
  build_live_list(4 * NODES); /* 12.8 MB of nodes, at least */
  CHECK(resize_calls > 0);
  CHECK(resize_last >= (GC_word)4 * NODES * sizeof(struct node));
  CHECK(resize_last <= GC_get_heap_size() + GC_get_unmapped_bytes());
  GC_set_on_heap_resize(0);
  live_list = NULL;
}

static COMPAT_NOINLINE void fill_and_drop(void) {
  build_live_list(4 * NODES);
  live_list = NULL;
}

static void test_force_unmap(void) {
  fill_and_drop();
  compat_wipe_stack();
  GC_set_force_unmap_on_gcollect(1);
  GC_gcollect();
  GC_gcollect();
  CHECK(GC_get_unmapped_bytes() > 0);
  GC_set_force_unmap_on_gcollect(0);
}

/* ---- heap limit: GC_set_max_retries (children) ------------------------------- */

static int ooms;
static void *GC_CALLBACK count_oom(size_t n) {
  (void)n;
  ooms++;
  return NULL;
}
static void GC_CALLBACK quiet_warn(char *msg, GC_word arg) {
  (void)msg;
  (void)arg;
}

/* Fill a 32 MiB heap with live 1 MiB objects until an allocation fails;
 * exit with the number of collections that failing allocation ran. */
static void fill_to_limit(GC_word retries) {
  GC_set_warn_proc(quiet_warn);
  GC_set_max_heap_size(32 << 20);
  GC_set_oom_fn(count_oom);
  GC_set_max_retries(retries);
  void **list = NULL;
  for (int i = 0; i < 64; i++) {
    GC_word before = GC_get_gc_no();
    void **p = GC_MALLOC(1 << 20);
    if (!p) {
      GC_word ran = GC_get_gc_no() - before;
      _exit(ooms == 1 ? (int)(ran > 60 ? 60 : ran) : 99);
    }
    *p = list;
    list = p;
  }
  _exit(98); /* never failed */
}

static int child_collections(GC_word retries) {
  pid_t pid = fork();
  if (pid == 0)
    fill_to_limit(retries);
  int status;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  return WEXITSTATUS(status);
}

static void test_max_retries(void) {
  int none = child_collections(0), three = child_collections(3);
  CHECK(none < 98 && three < 98);
  CHECK(three >= 3);
  CHECK(three > none);
}

/* ---- precollection (child) ------------------------------------------------- */

static void test_dont_precollect_child(void) {
  pid_t pid = fork();
  if (pid == 0) {
    GC_set_dont_precollect(1);
    GC_INIT();
    _exit(GC_get_gc_no() == 0 ? 0 : 1);
  }
  int status;
  CHECK(waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

int main(void) {
  /* The children start their own collector: this process has not
   * initialised one yet. */
  test_dont_precollect_child();
  test_policy_variables();
  (void)in_child(test_on_heap_resize);
  (void)in_child(stop_while_marking);
  (void)in_child(incremental_time_limit);
  GC_INIT();
  CHECK(GC_get_gc_no() >= 1); /* GC_init collected once */
  int here;
  CHECK(GC_stackbottom != 0 && GC_stackbottom > (char *)&here); /* the main stack's cold end */
  test_stop_func();
  test_collect_a_little();
  test_dont_expand();
  test_force_unmap();
  test_max_retries();
  return CHECK_SUMMARY();
}
