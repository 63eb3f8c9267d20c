/* Idle return: memory the program stops using goes back to the OS while
 * the program idles, without another collection (gc/scavenge.h).  The
 * program builds 96 MB of small objects and a few large ones, drops
 * them, lets one collection find them dead (once explicitly, once
 * triggered by its allocation, once by another thread's while the
 * builder sleeps), then sleeps and reads its resident size from
 * /proc/self/statm.  Bounds are generous: at least half of what was
 * dropped must leave the resident set within ten seconds (the default
 * delay is half a second).  No timing is asserted beyond that deadline.
 *
 * The small objects form many short lists, each of objects allocated in
 * a row, not one long list: a conservative collector may find a stale
 * copy of a pointer in a stack (a thread stopped by a signal while it
 * built the data leaves the signal's saved registers below its frame,
 * where a later call's unwritten slots keep them), and one stale word
 * must not keep most of the data. */
#include "config.h"
#define GC_THREADS 1
#include <gc.h>
#include "alloc/os.h"
#include "check.h"

#include <pthread.h>
#include <stdint.h>
#include <time.h>

#define MB ((size_t)1 << 20)

struct node {
  struct node *next;
  uintptr_t pad[7]; /* 64 bytes */
};

/* Lists of one span's worth of nodes each (64 KiB). */
#define PER_LIST 1024
#define NLISTS (96 * MB / sizeof(struct node) / PER_LIST)
static struct node *volatile lists[NLISTS];
static void *volatile big[8];

static void sleep_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

static __attribute__((noinline)) void build(void)
{
  for (size_t i = 0; i < NLISTS * PER_LIST; i++) {
    struct node *n = GC_MALLOC(sizeof *n);
    n->next = lists[i / PER_LIST];
    lists[i / PER_LIST] = n;
  }
  for (int i = 0; i < 8; i++)
    big[i] = GC_MALLOC_ATOMIC(2 * MB);
}

static __attribute__((noinline)) void drop(void)
{
  for (size_t i = 0; i < NLISTS; i++)
    lists[i] = NULL;
  for (int i = 0; i < 8; i++)
    big[i] = NULL;
  CHECK_CLEAR_REGISTERS();
}

/* Wait (at most ten seconds) until the resident set is below `goal`,
 * then until it has stopped falling for 0.8 s (longer than the default
 * decommit delay): the next round measures its `before` from there.  A
 * round that caught the decommit half-way (126 MB peak, 62 MB when
 * below the goal) left the next one building into pages still resident,
 * and its own peak under `before` + 64 MB. */
static size_t wait_below(size_t goal)
{
  size_t r = pargc_os_rss_bytes();
  int i = 0;
  for (; i < 100 && r > goal; i++) {
    sleep_ms(100);
    r = pargc_os_rss_bytes();
  }
  for (int still = 0; i < 100 && still < 8; i++) {
    sleep_ms(100);
    size_t now = pargc_os_rss_bytes();
    still = now < r ? 0 : still + 1;
    r = now < r ? now : r;
  }
  return r;
}

/* Allocate garbage until a collection has run, then stop. */
static void collect_by_allocating(void)
{
  GC_word gc0 = GC_get_gc_no();
  while (GC_get_gc_no() < gc0 + 2)
    (void)GC_MALLOC(64);
}

/* No allocation and no collection from here on: at least half of what
 * was dropped must leave the resident set. */
static void check_returned(const char *how, size_t before, size_t peak)
{
  size_t goal = peak - (peak - before) / 2;
  size_t after = wait_below(goal);
  printf("%s: rss %zu MB before, %zu MB peak, %zu MB after idling\n", how, before / MB,
         peak / MB, after / MB);
  CHECK(after <= goal);
}

static void round_trip(int explicit_collection)
{
  size_t before = pargc_os_rss_bytes();
  build();
  size_t peak = pargc_os_rss_bytes();
  CHECK(peak > before + 64 * MB);
  drop();
  if (explicit_collection)
    GC_gcollect();
  else
    collect_by_allocating();
  check_returned(explicit_collection ? "explicit collection" : "allocation-triggered collection",
                 before, peak);
}

/* The third way: one thread builds and drops the data and then sleeps,
 * another one's allocation collects it.  The dead spans sit in the
 * sleeping thread's lists, which only that thread moves along when it
 * allocates again (alloc/thread.h) -- it never does here; the
 * scavenger has to (gc/scavenge.c). */
static pthread_mutex_t turn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_cond = PTHREAD_COND_INITIALIZER;
static int turn; /* 1: built and dropped; 2: collected and measured */

static void *builder(void *arg)
{
  size_t *peak = arg;
  build();
  *peak = pargc_os_rss_bytes();
  drop();
  pthread_mutex_lock(&turn_lock);
  turn = 1;
  pthread_cond_broadcast(&turn_cond);
  while (turn != 2)
    pthread_cond_wait(&turn_cond, &turn_lock); /* asleep, out of the allocator */
  pthread_mutex_unlock(&turn_lock);
  return NULL;
}

static void round_trip_other_thread(void)
{
  size_t before = pargc_os_rss_bytes(), peak = 0;
  pthread_t t;
  CHECK_EQ(pthread_create(&t, NULL, builder, &peak), 0);
  pthread_mutex_lock(&turn_lock);
  while (turn != 1)
    pthread_cond_wait(&turn_cond, &turn_lock);
  pthread_mutex_unlock(&turn_lock);
  CHECK(peak > before + 64 * MB);
  collect_by_allocating();
  check_returned("collection by another thread", before, peak);
  pthread_mutex_lock(&turn_lock);
  turn = 2;
  pthread_cond_broadcast(&turn_cond);
  pthread_mutex_unlock(&turn_lock);
  CHECK_EQ(pthread_join(t, NULL), 0);
}

int main(void)
{
  if (pargc_os_rss_bytes() == 0)
    SKIP("no /proc/self/statm");
  GC_INIT();
  round_trip(1);
  round_trip(0);
  round_trip_other_thread();
  return CHECK_SUMMARY();
}
