/* GC_suspend_thread on threads whose pthread_t was just reused.
 *
 * Four threads each, 400 times: create a short-lived thread, check that
 * it is not suspended, suspend it, check that it is, suspend it again (a
 * no-op), resume it, check that it is not, join it.  The thread may not
 * have started yet, may be running or may have finished, and Boehm GC's
 * contract covers all three (its own gctest does this once per thread).
 *
 * A joined thread's pthread_t is handed to the next thread created, by
 * any thread, at once.  The joiner used to forget the finished thread by
 * its pthread_t after the join returned -- by then possibly the entry of
 * a new thread with the same pthread_t, which had finished too: that
 * thread's suspension then had nowhere to be recorded, and
 * GC_is_thread_suspended said no right after GC_suspend_thread (in 5 of
 * 6 runs of this program).  Threads now carry a serial number that is
 * never reused.  Run in stop-parallel and in concurrent mode.
 */
#include "config.h"
#define GC_THREADS
#include <gc.h>
#include <gc/javaxfc.h>
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define DRIVERS 4
#define ROUNDS 400

static atomic_int wrong;

static void *briefly(void *arg)
{
  void *p = NULL;
  for (long i = 0; i < (long)(uintptr_t)arg; i++)
    p = GC_MALLOC(64 + (size_t)(i % 500));
  return p;
}

static void *driver(void *arg)
{
  unsigned seed = (unsigned)(uintptr_t)arg + 1;
  for (int i = 0; i < ROUNDS; i++) {
    pthread_t t;
    if (pthread_create(&t, NULL, briefly, (void *)(uintptr_t)(rand_r(&seed) % 2000)) != 0)
      abort();
    if (GC_is_thread_suspended(t))
      atomic_fetch_add(&wrong, 1);
    GC_suspend_thread(t);
    if (!GC_is_thread_suspended(t))
      atomic_fetch_add(&wrong, 1);
    GC_suspend_thread(t);
    GC_resume_thread(t);
    if (GC_is_thread_suspended(t))
      atomic_fetch_add(&wrong, 1);
    pthread_join(t, NULL);
    briefly((void *)(uintptr_t)2000);
  }
  return NULL;
}

static void run(void)
{
  GC_INIT();
  pthread_t d[DRIVERS];
  for (long i = 0; i < DRIVERS; i++)
    pthread_create(&d[i], NULL, driver, (void *)(uintptr_t)i);
  for (int i = 0; i < DRIVERS; i++)
    pthread_join(d[i], NULL);
  int n = atomic_load(&wrong);
  printf("%d wrong answers of %d\n", n, DRIVERS * ROUNDS * 3);
  fflush(stdout);
  _exit(n == 0 ? 0 : 1);
}

static void stop_mode(void)
{
  setenv("PARGC_MODE", "stop", 1);
  run();
}

static void concurrent_mode(void)
{
  setenv("PARGC_MODE", "concurrent", 1);
  setenv("PARGC_CONC_MIN_LIVE", "0", 0); /* cycles however small the heap */
  run();
}

int main(void)
{
  check_in_child("stop-parallel", stop_mode);
  check_in_child("concurrent", concurrent_mode);
  return CHECK_SUMMARY();
}
