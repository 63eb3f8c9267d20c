/* Stress: a program that calls GC_atfork_prepare, _parent and _child
 * around its own forks while other threads collect, under each of
 * GC_set_handle_fork's settings (Boehm GC 8.2's contract):
 *   1 (the default)  pargc's pthread_atfork handlers do the work and the
 *                    program's GC_atfork_* calls do nothing;
 *   -1               the same where pthread_atfork works (Linux);
 *   0                no handlers: the program's calls do all of it.
 * GC_atfork_prepare used to take the registry lock whatever the setting,
 * and fork's own handlers then took the collector lock after it: the
 * reverse of a collection's order, and a hang as soon as another thread
 * was collecting at that moment.  Each setting runs in a process of its
 * own (the setting must precede GC_INIT); a hang ends in SIGALRM. */
#include "config.h"
#include <gc.h>
#include "check.h"
#include "check_list.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define FORKS 40

static int handle_fork_mode;
static _Atomic int stop;

static void *collector(void *arg)
{
  (void)arg;
  while (!atomic_load(&stop)) {
    if (!check_list_ok(check_make_list(2000), 2000))
      abort();
    GC_gcollect();
  }
  return NULL;
}

static void run_mode(void)
{
  alarm(60);
  GC_set_handle_fork(handle_fork_mode);
  GC_INIT();
  struct cell *keep = check_make_list(5000);
  pthread_t t[2];
  for (int i = 0; i < 2; i++)
    if (pthread_create(&t[i], NULL, collector, NULL) != 0)
      exit(2);
  for (int f = 0; f < FORKS; f++) {
    GC_atfork_prepare();
    pid_t pid = fork();
    if (pid == 0) {
      alarm(30); /* not inherited */
      GC_atfork_child();
      struct cell *mine = check_make_list(20000);
      GC_gcollect();
      _exit(check_list_ok(keep, 5000) && check_list_ok(mine, 20000) ? 0 : 3);
    }
    GC_atfork_parent();
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0) {
      printf("fork %d: child status %#x\n", f, status);
      exit(1);
    }
  }
  atomic_store(&stop, 1);
  for (int i = 0; i < 2; i++)
    pthread_join(t[i], NULL);
  exit(check_list_ok(keep, 5000) ? 0 : 1);
}

int main(void)
{
  static const int modes[] = {1, -1, 0};
  for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
    char out[4096];
    handle_fork_mode = modes[i];
    int rc = check_capture(run_mode, out, sizeof out);
    if (rc != 0)
      printf("GC_set_handle_fork(%d): status %d%s\n%s", modes[i], rc,
             rc == 128 + SIGALRM ? " (hung)" : "", out);
    CHECK_EQ(rc, 0);
  }
  return CHECK_SUMMARY();
}
