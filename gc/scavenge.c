/* scavenge: the idle-page decommit thread; see scavenge.h. */
#include "config.h"
#include "gc/scavenge.h"
#include "gc/threads.h"
#include "alloc/heap.h"
#include "alloc/options.h"
#include "alloc/report.h"

#include <pthread.h>
#include <stdbool.h>
#include <time.h>

static pthread_mutex_t scav_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t scav_cond;
static bool scav_started, scav_kicked, scav_failed;

/* Half the decommit delay, within [10 ms, 1 s]: a run is given back at
 * most half a delay after it became old enough. */
static uint64_t tick_ns(void)
{
  uint64_t ms = (uint64_t)pargc_opt.decommit_delay_ms / 2;
  if (ms < 10)
    ms = 10;
  if (ms > 1000)
    ms = 1000;
  return ms * 1000000u;
}

/* The spans the last collection emptied become free pages when their
 * thread next enters the allocator's slow path (alloc/thread.h); a
 * thread that stopped allocating -- asleep, blocked, waiting for input
 * -- kept them, and the memory a program dropped before it went idle
 * stayed resident.  So at each tick the scavenger has the collector
 * move such threads' lists along (pargc_scavenge_help_hook), as a
 * thread that would grow the heap does. */
bool (*pargc_scavenge_help_hook)(void);

static void *scav_main(void *arg)
{
  (void)arg;
  pthread_mutex_lock(&scav_lock);
  for (;;) {
    while (!scav_kicked)
      pthread_cond_wait(&scav_cond, &scav_lock);
    scav_kicked = false;
    size_t seen = atomic_load(&pargc_heap.bytes_total);
    for (;;) {
      struct timespec ts;
      clock_gettime(CLOCK_MONOTONIC, &ts);
      uint64_t t = (uint64_t)ts.tv_nsec + tick_ns();
      ts.tv_sec += (time_t)(t / 1000000000u);
      ts.tv_nsec = (long)(t % 1000000000u);
      pthread_cond_timedwait(&scav_cond, &scav_lock, &ts); /* a kick wakes it early: fine */
      scav_kicked = false;
      pthread_mutex_unlock(&scav_lock);
      /* No allocation flushed to the global count during a whole tick:
       * the program idles (or allocates too little to matter). */
      size_t now = atomic_load(&pargc_heap.bytes_total);
      bool idle = now == seen;
      seen = now;
      /* A collection kicks while it still holds the collector's lock,
       * so the first help of a round often finds the lock taken: tick
       * again until it gets through, or the dropped spans stay with
       * their sleeping thread until the next collection. */
      bool (*help)(void) = pargc_scavenge_help_hook;
      bool pending = help && !help();
      pargc_heap_decommit_idle(false, idle);
      pthread_mutex_lock(&scav_lock);
      if (!pargc_heap_committed_free() && !scav_kicked && !pending)
        break;
    }
  }
  return NULL;
}

void pargc_scavenge_kick(void)
{
  if (!pargc_opt.decommit)
    return;
  pthread_mutex_lock(&scav_lock);
  if (!scav_started && !scav_failed) {
    pthread_condattr_t a;
    pthread_condattr_init(&a);
    pthread_condattr_setclock(&a, CLOCK_MONOTONIC);
    pthread_cond_init(&scav_cond, &a);
    pthread_condattr_destroy(&a);
    pthread_t t;
    if (pargc_threads_spawn_internal(&t, scav_main, NULL) == 0) {
      pthread_detach(t);
      scav_started = true;
    } else {
      scav_failed = true; /* collections still decommit */
    }
  }
  scav_kicked = true;
  if (scav_started)
    pthread_cond_signal(&scav_cond);
  pthread_mutex_unlock(&scav_lock);
}

void pargc_scavenge_after_fork_child(void)
{
  pthread_mutex_init(&scav_lock, NULL);
  scav_started = scav_kicked = scav_failed = false;
}
