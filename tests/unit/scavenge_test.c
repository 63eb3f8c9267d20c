/* The scavenger (gc/scavenge.c) ticks until its help gets through.  A
 * collection kicks it while still holding the collector's lock, so the
 * help of the tick that follows may find the lock taken; a scavenger
 * that then went back to sleep, with no free run left to give back,
 * left the spans a sleeping thread's data had held resident until the
 * next collection.  Here a stand-in hook reports "could not run" twice:
 * the scavenger must call it a third time, and then stop ticking. */
#include "config.h"
#include "alloc/heap.h"
#include "gc/scavenge.h"
#include <gc.h>
#include "check.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

static atomic_int calls;

static bool busy_twice(void)
{
  return atomic_fetch_add(&calls, 1) >= 2;
}

static void sleep_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

int main(void)
{
  setenv("PARGC_DECOMMIT_DELAY_MS", "20", 1); /* ticks of 10 ms */
  GC_INIT();
  pargc_scavenge_help_hook = busy_twice;
  pargc_heap_decommit(true); /* no free run left: only the hook keeps it going */
  CHECK_EQ(pargc_heap_committed_free(), 0);
  pargc_scavenge_kick();
  for (int i = 0; i < 1000 && atomic_load(&calls) < 3; i++)
    sleep_ms(10);
  /* (More than 3 when the collection GC_INIT ran had kicked it too.) */
  CHECK(atomic_load(&calls) >= 3);
  /* Done: the scavenger sleeps until the next kick -- no more calls over
   * twenty ticks. */
  int settled = atomic_load(&calls), stable = 0;
  for (int i = 0; i < 100 && stable < 20; i++) {
    sleep_ms(10);
    int now = atomic_load(&calls);
    stable = now == settled ? stable + 1 : 0;
    settled = now;
  }
  CHECK(stable >= 20);
  return CHECK_SUMMARY();
}
