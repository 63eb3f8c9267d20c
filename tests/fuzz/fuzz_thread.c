/* fuzz_thread.c: a fuzzer thread's life (its roots in every place the
 * collector scans), the child threads it starts (joined, detached, or
 * made without the GC's pthread redirects and registered by hand), and
 * the fork check. */
#define _GNU_SOURCE
#include "fuzz.h"

#include <errno.h>
#include <execinfo.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Static TLS: pargc scans each thread's block.  Boehm GC scans a thread's
 * stack only from the frame that started it, and the C library puts the
 * TLS block above that: there the program must add the block as a root. */
static __thread struct fz_ref tls_roots[FZ_TLS_ROOTS];
#ifdef PARGC_GC_H
static const int tls_needs_root = 0;
#else
static const int tls_needs_root = 1;
#endif
static uint64_t next_uid;
static int row_used[FZ_ROWS];
int fz_children_running;

double fz_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *zalloc(size_t n, size_t size)
{
  void *p = calloc(n, size);
  if (!p)
    fz_fail(NULL, NULL, "out of malloc memory");
  return p;
}

static void take_row(struct fz_thread *t)
{
  t->row = -1;
  for (int i = 0; i < FZ_ROWS; i++)
    if (!__atomic_exchange_n(&row_used[i], 1, __ATOMIC_ACQ_REL)) {
      t->row = i;
      t->global = fz_global_roots[i];
      memset(t->global, 0, sizeof fz_global_roots[i]);
      return;
    }
}

void fz_thread_init(struct fz_thread *t, uint64_t seed, int depth)
{
  memset(t, 0, sizeof *t);
  t->uid = __atomic_add_fetch(&next_uid, 1, __ATOMIC_RELAXED);
  t->seed = seed;
  t->depth = depth;
  fz_rng_seed(&t->rng, seed);
  t->tls = tls_roots;
  memset(tls_roots, 0, sizeof tls_roots);
  if (tls_needs_root)
    GC_add_roots(tls_roots, tls_roots + FZ_TLS_ROOTS);
  take_row(t);
  /* malloc'd memory is not scanned unless the program says so */
  t->added = zalloc(FZ_ADDED_ROOTS, sizeof *t->added);
  GC_add_roots(t->added, t->added + FZ_ADDED_ROOTS);
  t->holders = zalloc(FZ_HOLDERS, sizeof *t->holders);
  t->toggles = zalloc(FZ_TOGGLES, sizeof *t->toggles);
  t->links = zalloc(FZ_LINKS, sizeof *t->links);
  t->vis_cap = 4096;
  t->vis = zalloc(t->vis_cap, sizeof *t->vis);
  t->many[0].kind = FZ_K_MANY;
  t->many[1].kind = FZ_K_MANY_LEN;
  t->many[2].kind = FZ_K_MANY_PROC;
  t->op_name = "start";
  FZ_COUNT(threads_started, 1);
}

static void join_kids(struct fz_thread *t);

/* Check everything once more, then let go of it all.  Links live in
 * memory about to be freed (or on this stack): unregister them first, or
 * the collector would clear a word that is no longer ours. */
void fz_thread_fini(struct fz_thread *t)
{
  join_kids(t);
  t->op_name = "end of thread";
  fz_walk(t);
  for (int i = 0; i < FZ_LINKS; i++) {
    struct fz_link *l = &t->links[i];
    if (l->kind == 1)
      GC_unregister_disappearing_link(&l->ptr);
    else if (l->kind == 2)
      GC_unregister_long_link(&l->ptr);
  }
  for (int i = 0; i < FZ_HLINKS; i++)
    if (t->hlink_ids[i])
      GC_unregister_disappearing_link((void **)&t->hlinks[i]);
  fz_trim(t, 1);
  GC_remove_roots(t->added, t->added + FZ_ADDED_ROOTS);
  if (tls_needs_root)
    GC_remove_roots(tls_roots, tls_roots + FZ_TLS_ROOTS);
  if (t->row >= 0)
    __atomic_store_n(&row_used[t->row], 0, __ATOMIC_RELEASE);
  free(t->added);
  free(t->holders);
  free(t->toggles);
  free(t->links);
  free(t->vis);
  free(t->wstack);
  t->added = NULL;
  t->global = NULL;
}

void fz_thread_run(struct fz_thread *t, long ops, double deadline)
{
  for (long i = 0; i < ops && !fz_stop; i++) {
    if (deadline > 0 && (i & 63) == 0 && fz_now() > deadline)
      break;
    fz_run_op(t, fz_pick_op(t));
    t->ops_done++;
    FZ_COUNT(ops, 1);
    fz_after_op(t);
  }
}

/* ---- children ---------------------------------------------------------------- */

/* GC_MALLOC'd: the thread library keeps a new thread's argument alive
 * until the thread runs (pargc and Boehm GC both do); `gift` is a frozen
 * object of the parent's. */
struct child_arg {
  uint64_t seed;
  struct fz_ref gift;
  long ops;
  int raw;
};

/* A child works on its own graph, starting with the gift, and returns a
 * frozen object of its own (joinable children only: the collector keeps
 * a return value alive until pthread_join). */
static void *child_main(void *p)
{
  struct child_arg *a = p;
  struct GC_stack_base sb;
  int registered = 0;
  if (a->raw && GC_get_stack_base(&sb) == GC_SUCCESS)
    registered = GC_register_my_thread(&sb) == GC_SUCCESS;
  struct fz_thread t;
  fz_thread_init(&t, a->seed, 1);
  t.stack[0] = a->gift;
  fz_thread_run(&t, a->ops, 0);
  void *ret = NULL;
  struct fz_hdr *h = a->raw ? NULL : fz_pick_object(&t, NULL);
  if (h && fz_freeze(&t, h))
    ret = h;
  fz_thread_fini(&t);
  __atomic_fetch_sub(&fz_children_running, 1, __ATOMIC_RELAXED);
  if (registered)
    GC_unregister_my_thread();
  return ret;
}

static void adopt_result(struct fz_thread *t, void *ret)
{
  struct fz_hdr *h = ret;
  if (!h)
    return;
  fz_check_obj(t, h, "child thread's result", 0, NULL, 0);
  fz_store_somewhere(t, h);
}

static void join_kids(struct fz_thread *t)
{
  for (int i = 0; i < t->nkids; i++) {
    void *ret = NULL;
    if (pthread_join(t->kids[i], &ret) != 0)
      fz_fail(t, NULL, "pthread_join of a child failed");
    adopt_result(t, ret);
  }
  t->nkids = 0;
}

static struct child_arg *child_arg(struct fz_thread *t)
{
  struct child_arg *a = GC_MALLOC(sizeof *a);
  if (!a)
    fz_fail(t, NULL, "GC_MALLOC of a thread argument returned NULL");
  a->seed = fz_rand(t);
  a->ops = 50 + (long)fz_below(t, 400);
  a->raw = fz_chance(t, 250);
  struct fz_hdr *h = fz_pick_object(t, NULL);
  if (h && fz_freeze(t, h)) {
    struct fz_ref r = fz_make_ref(t, h);
    a->gift.off = r.off;
    fz_store_ptr(&a->gift.ptr, r.ptr);
  }
  return a;
}

void fz_spawn_child(struct fz_thread *t)
{
  if (__atomic_load_n(&fz_children_running, __ATOMIC_RELAXED) >= 2 * fz_cfg.threads)
    return;
  struct child_arg *a = child_arg(t);
  pthread_t th;
  __atomic_fetch_add(&fz_children_running, 1, __ATOMIC_RELAXED);
  if (a->raw) { /* registered by hand, joined at once (this frame holds `a`) */
    if (fz_raw_create(&th, child_main, a) != 0)
      goto failed;
    fz_raw_join(th);
    GC_reachable_here(a);
    return;
  }
  unsigned how = (unsigned)fz_below(t, 3);
  if (how == 0) { /* detached from the start */
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int e = pthread_create(&th, &attr, child_main, a);
    pthread_attr_destroy(&attr);
    if (e != 0)
      goto failed;
    return;
  }
  if (pthread_create(&th, NULL, child_main, a) != 0)
    goto failed;
  if (how == 1) {
    pthread_detach(th);
    return;
  }
  if (t->nkids == 2)
    join_kids(t);
  t->kids[t->nkids++] = th;
  return;
failed: /* out of threads: not the collector's business */
  __atomic_fetch_sub(&fz_children_running, 1, __ATOMIC_RELAXED);
}

/* ---- fork ----------------------------------------------------------------------- */

/* A fork child that has not finished shortly before the parent gives up
 * on it says where it is: the operation and this thread's stack (glibc's
 * backtrace, loaded before the alarm can fire), then exits with 3. */
static struct fz_thread *child_self;

static void child_alarm(int sig)
{
  (void)sig;
  static const char head[] = "pargc-fuzz: fork child still running; operation: ";
  const char *op = child_self && child_self->op_name ? child_self->op_name : "?";
  (void)!write(2, head, sizeof head - 1);
  (void)!write(2, op, strlen(op));
  (void)!write(2, "\n", 1);
  void *frames[64];
  int n = backtrace(frames, 64);
  backtrace_symbols_fd(frames, n, 2);
  _exit(3);
}

/* The child has only this thread: it collects, checks this thread's
 * graph, does some work, collects and checks again. */
static void fork_child(struct fz_thread *t)
{
  child_self = t;
  void *warm[1];
  (void)backtrace(warm, 1);
  int limit = fz_cfg.watchdog_s > 1 ? fz_cfg.watchdog_s / 2 : 1; /* the parent's */
  if (limit > 1) {
    signal(SIGALRM, child_alarm);
    alarm((unsigned)(limit > 10 ? limit - 5 : limit - 1));
  }
  t->in_fork_child = 1;
  fz_fork_uid = t->uid;
  t->op_name = "fork child: first collection";
  GC_gcollect();
  fz_walk(t);
  for (int i = 0; i < 200; i++) {
    fz_run_op(t, fz_pick_op(t));
    fz_after_op(t);
  }
  t->op_name = "fork child: last collection";
  GC_gcollect();
  fz_walk(t);
  _exit(0);
}

void fz_fork_check(struct fz_thread *t)
{
  pid_t pid = fork();
  if (pid < 0)
    return;
  if (pid == 0)
    fork_child(t);
  int status = 0;
  double limit = fz_now() + (fz_cfg.watchdog_s > 1 ? fz_cfg.watchdog_s / 2 : 1);
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid)
      break;
    if (r < 0 && errno != EINTR)
      fz_fail(t, NULL, "waitpid(%d) failed: errno %d", (int)pid, errno);
    if (fz_now() > limit) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      fz_fail(t, NULL, "fork child %d still running after %d s (hung after fork?)", (int)pid,
              fz_cfg.watchdog_s / 2);
    }
    struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
  if (WIFSIGNALED(status))
    fz_fail(t, NULL, "fork child %d killed by signal %d", (int)pid, WTERMSIG(status));
  if (WEXITSTATUS(status) != 0)
    fz_fail(t, NULL, "fork child %d exited with status %d (its report is above)", (int)pid,
            WEXITSTATUS(status));
  FZ_COUNT(forks, 1);
}
