/* Stress: a disappearing link that lives on the stack of a thread which
 * does not survive a fork.  In the child the C library gives that
 * thread's stack to the next thread created, and the collection that
 * found the link's object dead used to clear the link -- a NULL written
 * into the new thread's frame.  (The fuzzer's fork child crashed so: a
 * GC thread returned to address 0.)  The child must leave that memory
 * alone: the link belonged to a thread that no longer exists there.
 *
 * One function, run first by the parent's worker and then by the
 * child's new thread, gives both the same frame on the same (reused)
 * stack: the worker registers a link in the middle of its array; the new
 * thread fills the array with a pattern, the child collects, and the
 * pattern must be intact.  PARGC_GC_THREADS=1 keeps the GC threads from
 * taking the reused stack first. */
#include "config.h"
#include <gc.h>
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define AREA_WORDS 4096
#define PATTERN ((uintptr_t)0x5A5A5A5A5A5A5A5Aull)

static void **parent_link;      /* where the worker's link lives */
static _Atomic int worker_ready;
static pthread_mutex_t hold = PTHREAD_MUTEX_INITIALIZER;

static _Atomic int child_filled, child_go;
static _Atomic int child_overlap; /* the new thread's array holds the old link */
static _Atomic long child_damaged;

static __attribute__((noinline)) void register_link_to_garbage(void **link)
{
  /* Not the first object of a span: pargc's own variables, scanned in
   * a statically linked test, hold the heap's first address. */
  GC_MALLOC(64);
  void *obj = GC_MALLOC(64);
  *link = (void *)GC_HIDE_POINTER(obj); /* hidden: the link does not keep it */
  CHECK(GC_general_register_disappearing_link(link, obj) == GC_SUCCESS);
}

static __attribute__((noinline)) void *stack_user(void *arg)
{
  volatile uintptr_t area[AREA_WORDS];
  if (arg == NULL) {
    /* Parent's worker: a link in its frame, then wait to be forked away. */
    register_link_to_garbage((void **)&area[AREA_WORDS / 2]);
    check_wipe_stack();
    CHECK_CLEAR_REGISTERS();
    parent_link = (void **)&area[AREA_WORDS / 2];
    atomic_store(&worker_ready, 1);
    pthread_mutex_lock(&hold);
    pthread_mutex_unlock(&hold);
    GC_unregister_disappearing_link((void **)&area[AREA_WORDS / 2]);
    return NULL;
  }
  /* Child's new thread: the same frame, a pattern over it. */
  for (size_t i = 0; i < AREA_WORDS; i++)
    area[i] = PATTERN;
  uintptr_t at = (uintptr_t)parent_link;
  atomic_store(&child_overlap, at >= (uintptr_t)&area[0] && at < (uintptr_t)&area[AREA_WORDS]);
  check_wipe_stack();
  CHECK_CLEAR_REGISTERS();
  atomic_store(&child_filled, 1);
  while (!atomic_load(&child_go))
    usleep(1000);
  long bad = 0;
  for (size_t i = 0; i < AREA_WORDS; i++)
    bad += area[i] != PATTERN;
  atomic_store(&child_damaged, bad);
  return NULL;
}

static int child(void)
{
  pthread_t t;
  if (pthread_create(&t, NULL, stack_user, (void *)1) != 0)
    return 2;
  while (!atomic_load(&child_filled))
    usleep(1000);
  GC_gcollect();
  GC_gcollect();
  atomic_store(&child_go, 1);
  pthread_join(t, NULL);
  if (!atomic_load(&child_overlap))
    printf("note: the child's thread did not get the vanished thread's stack\n");
  if (atomic_load(&child_damaged)) {
    printf("child: %ld words of the new thread's frame overwritten\n",
           atomic_load(&child_damaged));
    return 1;
  }
  return 0;
}

int main(void)
{
  setenv("PARGC_GC_THREADS", "1", 1);
  alarm(60);
  GC_INIT();
  pthread_mutex_lock(&hold);
  pthread_t w;
  CHECK(pthread_create(&w, NULL, stack_user, NULL) == 0);
  while (!atomic_load(&worker_ready))
    usleep(1000);
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    int rc = child();
    fflush(stdout);
    _exit(rc);
  }
  int status = 0;
  CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
  CHECK(WIFEXITED(status));
  CHECK_EQ(WEXITSTATUS(status), 0);
  pthread_mutex_unlock(&hold);
  pthread_join(w, NULL);
  /* The parent's worker is intact: its link was cleared normally. */
  GC_gcollect();
  return CHECK_SUMMARY();
}
