/* Stress: fork from a multi-threaded program while other threads
 * allocate; the child has a working collector (it allocates, collects and
 * checks its data, and can start threads); the parent goes on.  Twenty
 * forks: a child used to inherit the class lists of a thread caught in
 * the middle of changing them, and hung (about 1 run in 300 under load:
 * alloc/thread.c, fork_child_relist). */
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

static _Atomic int stop;

static void *busy(void *arg)
{
  (void)arg;
  while (!atomic_load(&stop))
    if (!check_list_ok(check_make_list(500), 500))
      abort();
  return NULL;
}

static void *child_thread(void *arg)
{
  (void)arg;
  return (void *)(uintptr_t)check_list_ok(check_make_list(10000), 10000);
}

int main(void)
{
  GC_INIT();
  struct cell *keep = check_make_list(20000);
  pthread_t t[3];
  for (int i = 0; i < 3; i++)
    pthread_create(&t[i], NULL, busy, NULL);
  for (int f = 0; f < 20; f++) {
    pid_t pid = fork();
    if (pid == 0) {
      struct cell *mine = check_make_list(50000);
      GC_gcollect();
      for (int i = 0; i < 20; i++)
        check_make_list(10000);
      GC_gcollect();
      pthread_t ct;
      void *ok = NULL;
      pthread_create(&ct, NULL, child_thread, NULL);
      pthread_join(ct, &ok);
      _exit(check_list_ok(keep, 20000) && check_list_ok(mine, 50000) && ok == (void *)1 ? 0 : 3);
    }
    int status = 0;
    CHECK(pid > 0 && waitpid(pid, &status, 0) == pid);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  atomic_store(&stop, 1);
  for (int i = 0; i < 3; i++)
    pthread_join(t[i], NULL);
  GC_gcollect();
  CHECK(check_list_ok(keep, 20000));
  return CHECK_SUMMARY();
}
