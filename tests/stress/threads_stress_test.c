/* Stress test for gc/threads and gc/stop: threads are created and exit in
 * a loop -- returning, through pthread_exit, detached, cancelled, and
 * foreign threads registering by hand -- while two other threads stop and
 * restart the world 1000 times between them and walk the root ranges at
 * each stop.  Afterwards every thread must be unregistered and every
 * computed value right.  No timing is measured. */
#include "config.h"
#include "gc/threads.h"
#include "check.h"

#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <unistd.h>

enum { STOPPERS = 2, STOPS_EACH = 500, CREATORS = 3 };

static _Atomic int stoppers_done;
static _Atomic long ranges_seen, short_lived, wrong_results;
static int never_fd[2]; /* nobody writes: readers wait for cancellation */

static void count_range(void *lo, void *hi, void *arg)
{
  (void)lo;
  (void)hi;
  ++*(long *)arg;
}

static void *stopper(void *arg)
{
  (void)arg;
  /* Stop only once threads come and go: on a loaded machine the
   * stoppers once made all their stops before any creator ran. */
  while (short_lived == 0)
    sched_yield();
  for (int i = 0; i < STOPS_EACH; i++) {
    pargc_threads_stop_world();
    long n = 0;
    pargc_threads_each_root_range(count_range, count_range, &n);
    pargc_threads_start_world();
    ranges_seen += n;
  }
  stoppers_done++;
  return NULL;
}

static uintptr_t work(uintptr_t x)
{
  for (int i = 0; i < 2000; i++)
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
  return x;
}

static void *returns(void *arg)
{
  short_lived++;
  return (void *)work((uintptr_t)arg);
}

static void *exits(void *arg)
{
  short_lived++;
  pthread_exit((void *)work((uintptr_t)arg));
}

static void *detached(void *arg)
{
  short_lived++;
  work((uintptr_t)arg);
  return NULL;
}

static void *cancelled(void *arg)
{
  (void)arg;
  short_lived++;
  char c;
  for (;;)
    if (read(never_fd[0], &c, 1) < 0) /* a cancellation point */
      break;
  return NULL;
}

/* A thread pargc did not create registers itself (GC_register_my_thread);
 * every other one leaves it to the exit key's destructor. */
static void *foreign(void *arg)
{
  uintptr_t i = (uintptr_t)arg;
  pargc_threads_register_self(NULL);
  short_lived++;
  uintptr_t r = work(i);
  if (i % 2 == 0)
    pargc_threads_unregister_self();
  return (void *)r;
}

static void *creator(void *arg)
{
  uintptr_t seed = (uintptr_t)arg * 1000003;
  while (stoppers_done < STOPPERS) {
    pthread_t a, b, c, d, f;
    void *ra, *rb, *rf;
    seed++;
    pthread_create(&a, NULL, returns, (void *)seed);
    pthread_create(&b, NULL, exits, (void *)(seed + 1));
    pthread_create(&c, NULL, cancelled, NULL);
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_create(&d, &attr, detached, (void *)seed);
    pthread_attr_destroy(&attr);
    pargc_threads_spawn_internal(&f, foreign, (void *)seed);
    pthread_cancel(c);
    pthread_join(a, &ra);
    pthread_join(b, &rb);
    pthread_join(c, NULL);
    pthread_join(f, &rf);
    if ((uintptr_t)ra != work(seed) || (uintptr_t)rb != work(seed + 1) ||
        (uintptr_t)rf != work(seed))
      wrong_results++;
  }
  return NULL;
}

int main(void)
{
  pargc_threads_init();
  CHECK_EQ(pipe(never_fd), 0);
  int base = pargc_threads_count();
  pthread_t s[STOPPERS], c[CREATORS];
  for (int i = 0; i < CREATORS; i++)
    pthread_create(&c[i], NULL, creator, (void *)(uintptr_t)(i + 1));
  for (int i = 0; i < STOPPERS; i++)
    pthread_create(&s[i], NULL, stopper, NULL);
  for (int i = 0; i < STOPPERS; i++)
    pthread_join(s[i], NULL);
  for (int i = 0; i < CREATORS; i++)
    pthread_join(c[i], NULL);
  /* Detached threads unregister on their own; wait for the last ones. */
  while (pargc_threads_count() != base)
    sched_yield();
  CHECK_EQ(pargc_threads_count(), base);
  CHECK_EQ(wrong_results, 0);
  CHECK(ranges_seen >= (long)STOPPERS * STOPS_EACH);
  CHECK(short_lived > 0);
  /* The world still stops with only the main thread left. */
  pargc_threads_stop_world();
  long n = 0;
  pargc_threads_each_root_range(count_range, count_range, &n);
  pargc_threads_start_world();
  CHECK(n >= 1);
  printf("stress: %ld short-lived threads, %ld ranges over %d stops\n",
         (long)short_lived, (long)ranges_seen, STOPPERS * STOPS_EACH);
  return CHECK_SUMMARY();
}
