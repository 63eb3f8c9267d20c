/* A thread that blocks every signal around fork, while collections run.
 *
 * Crystal's runtime blocks all signals, then forks (Process.run).
 * pargc's fork handler waits for the collector's lock; if a collection
 * held it, stopping the world, the collection waited for that thread to
 * stop -- on a signal it had blocked -- and the thread waited for the
 * lock: both forever (1 run in 6 of a Crystal program in concurrent
 * mode).  A registered thread now lets the collector's signals in while
 * it waits for the collector, and blocks them again once it holds the
 * lock.
 *
 * Here, in concurrent mode with a cycle for every collection (the
 * collector's thread stops the world often), one thread forks 100
 * children with every signal blocked while another allocates; a hang
 * fails the test after 60 s (check_hang_alarm). */
#define _GNU_SOURCE
#include "config.h"
#include <gc.h>
#include "check.h"

#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

enum { FORKS = 100 };

static atomic_int done;

static void *allocator(void *arg)
{
  (void)arg;
  void *volatile keep = NULL;
  while (!atomic_load(&done))
    for (int i = 0; i < 1000; i++)
      keep = GC_MALLOC(64);
  (void)keep;
  return NULL;
}

static void *forker(void *arg)
{
  (void)arg;
  int ok = 0;
  for (int i = 0; i < FORKS; i++) {
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pid_t pid = fork();
    if (pid == 0)
      _exit(0);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    int status;
    if (pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
        WEXITSTATUS(status) == 0)
      ok++;
    GC_MALLOC(64);
  }
  return (void *)(intptr_t)ok;
}

int main(void)
{
  setenv("PARGC_MODE", "concurrent", 1);
  setenv("PARGC_CONC_MIN_LIVE", "0", 1);
  GC_INIT();
  check_hang_alarm(60, "fork_blocked_test: hung (a fork with every signal blocked, "
                       "a collection waiting for it to stop)");
  GC_word gc0 = GC_get_gc_no();
  pthread_t a, f;
  CHECK(pthread_create(&a, NULL, allocator, NULL) == 0);
  CHECK(pthread_create(&f, NULL, forker, NULL) == 0);
  void *ok = NULL;
  CHECK(pthread_join(f, &ok) == 0);
  atomic_store(&done, 1);
  CHECK(pthread_join(a, NULL) == 0);
  check_hang_alarm(0, NULL);
  CHECK_EQ((intptr_t)ok, FORKS);
  CHECK(GC_get_gc_no() > gc0);
  return CHECK_SUMMARY();
}
