/* GC_set_start_callback runs before the world is stopped, as on Boehm GC.
 *
 * Crystal's multi-threaded runtime keeps a lock of its own around the
 * collector: its threads take it for reading around work the collector
 * must not see half done, the start callback takes it for writing --
 * waiting until no thread reads -- and its GC_set_push_other_roots
 * callback, run during the collection, releases it.  Boehm GC calls the
 * start callback at the start of a collection, its lock held but every
 * thread still running, so the readers can leave.  pargc called it from
 * the collection's roots phase, with the world stopped: a thread stopped
 * while reading never left, and the callback waited forever (a Crystal
 * program built with -Dpreview_mt hung).
 *
 * Here: two threads take the lock for reading over and over, without
 * allocating while they hold it; the main thread allocates (collections
 * start from allocation) and calls GC_gcollect.  The start callback waits
 * for the readers at most 300 ms, counts a timeout if they never left,
 * and gives up: the test fails instead of hanging. */
#include "config.h"
#include <gc.h>
#include <gc/gc_mark.h>
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

enum { READERS = 2, ROUNDS = 40 };

static atomic_int writer, readers, quit;
static atomic_int starts, timeouts, releases;

static uint64_t now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Crystal's read_lock / read_unlock, around a little work. */
static void *reader(void *arg)
{
  (void)arg;
  volatile unsigned long sink = 0;
  while (!atomic_load(&quit)) {
    while (atomic_load(&writer))
      ;
    atomic_fetch_add(&readers, 1);
    if (atomic_load(&writer)) {
      atomic_fetch_sub(&readers, 1);
      continue;
    }
    for (int i = 0; i < 2000; i++)
      sink += (unsigned long)i;
    atomic_fetch_sub(&readers, 1);
  }
  return NULL;
}

/* Crystal's GC start callback: lock_write. */
static void GC_CALLBACK on_start(void)
{
  atomic_fetch_add(&starts, 1);
  atomic_store(&writer, 1);
  uint64_t limit = now_ns() + 300000000u;
  while (atomic_load(&readers) != 0) {
    if (now_ns() > limit) {
      atomic_fetch_add(&timeouts, 1);
      return;
    }
  }
}

/* Crystal's push_other_roots: unlock_write. */
static void GC_CALLBACK on_push_other_roots(void)
{
  atomic_fetch_add(&releases, 1);
  atomic_store(&writer, 0);
}

int main(void)
{
  GC_INIT();
  GC_set_start_callback(on_start);
  GC_set_push_other_roots(on_push_other_roots);
  pthread_t t[READERS];
  for (int i = 0; i < READERS; i++)
    CHECK(pthread_create(&t[i], NULL, reader, NULL) == 0);
  GC_word gc0 = GC_get_gc_no();
  void *volatile keep = NULL;
  for (int round = 0; round < ROUNDS && atomic_load(&timeouts) == 0; round++) {
    for (int i = 0; i < 20000; i++)
      keep = GC_MALLOC(64);
    if (round % 4 == 0)
      GC_gcollect();
  }
  (void)keep;
  atomic_store(&quit, 1);
  atomic_store(&writer, 0);
  for (int i = 0; i < READERS; i++)
    CHECK(pthread_join(t[i], NULL) == 0);
  CHECK(GC_get_gc_no() - gc0 >= ROUNDS / 4);
  CHECK(atomic_load(&starts) >= ROUNDS / 4);
  CHECK_EQ(atomic_load(&timeouts), 0);
  /* Each start was followed by its collection's roots. */
  CHECK(atomic_load(&releases) >= atomic_load(&starts));
  return CHECK_SUMMARY();
}
