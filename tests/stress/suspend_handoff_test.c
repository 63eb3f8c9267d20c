/* GC_suspend_thread must not strand the other waiters of a collector
 * lock (gc/stop.c, alloc/lock.h).
 *
 * A lock that wakes one waiter when it is released hands that waiter the
 * duty of waking the next.  If the woken thread is suspended before it
 * runs, and another thread takes the free lock meanwhile (locks barge),
 * the remaining waiters sleep on a free lock until the suspended thread
 * is resumed.  Were one of them the concurrent collector thread, a
 * program that suspends a thread and then waits for a collection would
 * hang (found in suspend_stress_test, concurrent mode).
 *
 * The test builds that order on purpose with the collector's lock
 * (GC_alloc_lock): the main thread holds it; thread T, then thread W wait
 * for it; T runs at SCHED_IDLE on one CPU beside a spinning thread, so
 * that it cannot run when the main thread releases the lock and at once
 * suspends it (GC_suspend_thread takes the same lock).  W must then get
 * the lock while T stays suspended.  No timing is measured: the bound on
 * W's wait only turns a hang into a failure. */
#define _GNU_SOURCE 1
#include "config.h"
#define GC_THREADS 1
#include <gc.h>
#include <gc/javaxfc.h>
#include "check.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static int cpu; /* the CPU T and the spinner share */
static pid_t t_tid, w_tid;
static int t_locked, w_locked;
static long spin_until_ms;

static long now_ms(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1000L + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static int pin_self(void)
{
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof set, &set);
}

/* Whether thread `tid` sleeps (state S in /proc: in our case, waiting in
 * the lock). */
static int sleeping(pid_t tid)
{
  char path[64], buf[256];
  snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
  FILE *f = fopen(path, "r");
  if (!f)
    return 0;
  size_t n = fread(buf, 1, sizeof buf - 1, f);
  fclose(f);
  buf[n] = 0;
  char *p = strrchr(buf, ')');
  return p && p[1] == ' ' && p[2] == 'S';
}

/* Until `tid` has slept for a while (it may wake briefly). */
static void wait_asleep(pid_t tid)
{
  int streak = 0;
  while (streak < 20) {
    streak = sleeping(tid) ? streak + 1 : 0;
    sleep_ms(1);
  }
}

/* Say who we are, wait for the collector's lock, note that we got it. */
static void take_lock_once(pid_t *tid, int *locked)
{
  __atomic_store_n(tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
  GC_alloc_lock();
  __atomic_store_n(locked, 1, __ATOMIC_RELEASE);
  GC_alloc_unlock();
}

static void *thread_t(void *arg)
{
  (void)arg;
  struct sched_param sp = {0};
  if (pin_self() != 0 || pthread_setschedparam(pthread_self(), SCHED_IDLE, &sp) != 0) {
    __atomic_store_n(&t_tid, -1, __ATOMIC_RELEASE);
    return NULL;
  }
  take_lock_once(&t_tid, &t_locked);
  return NULL;
}

static void *thread_w(void *arg)
{
  (void)arg;
  take_lock_once(&w_tid, &w_locked);
  return NULL;
}

/* Keeps T's CPU busy, so T (SCHED_IDLE) runs only once it stops. */
static void *spinner(void *arg)
{
  (void)arg;
  if (pin_self() != 0)
    return NULL;
  while (now_ms() < __atomic_load_n(&spin_until_ms, __ATOMIC_ACQUIRE))
    ;
  return NULL;
}

int main(void)
{
  GC_INIT();
  cpu_set_t mine;
  if (sched_getaffinity(0, sizeof mine, &mine) != 0) {
    printf("SKIP: no CPU affinity here\n");
    return 77;
  }
  for (cpu = 0; cpu < CPU_SETSIZE && !CPU_ISSET(cpu, &mine); cpu++)
    ;
  pthread_t t, w, s;
  GC_alloc_lock();
  CHECK_EQ(pthread_create(&t, NULL, thread_t, NULL), 0);
  pid_t tid;
  while (!(tid = __atomic_load_n(&t_tid, __ATOMIC_ACQUIRE)))
    sleep_ms(1);
  if (tid < 0) {
    GC_alloc_unlock();
    pthread_join(t, NULL);
    printf("SKIP: cannot pin a thread or make it SCHED_IDLE here\n");
    return 77;
  }
  wait_asleep(t_tid); /* T waits for the lock first */
  CHECK_EQ(pthread_create(&w, NULL, thread_w, NULL), 0);
  while (!__atomic_load_n(&w_tid, __ATOMIC_ACQUIRE))
    sleep_ms(1);
  wait_asleep(w_tid); /* then W */

  /* T is woken by the release but cannot run before it is suspended. */
  __atomic_store_n(&spin_until_ms, now_ms() + 300, __ATOMIC_RELEASE);
  CHECK_EQ(pthread_create(&s, NULL, spinner, NULL), 0);
  sleep_ms(20); /* the spinner owns T's CPU */
  GC_alloc_unlock();
  GC_suspend_thread(t);
  CHECK(GC_is_thread_suspended(t));

  /* W gets the lock while T stays suspended. */
  long deadline = now_ms() + 20000;
  while (!__atomic_load_n(&w_locked, __ATOMIC_ACQUIRE) && now_ms() < deadline)
    sleep_ms(1);
  CHECK(__atomic_load_n(&w_locked, __ATOMIC_ACQUIRE));
  GC_resume_thread(t);
  CHECK_EQ(pthread_join(t, NULL), 0);
  CHECK_EQ(pthread_join(w, NULL), 0);
  CHECK_EQ(pthread_join(s, NULL), 0);
  CHECK(t_locked && w_locked);
  return CHECK_SUMMARY();
}
