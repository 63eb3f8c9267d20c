/* Stress: spans formatted over memory that held other objects, while
 * another thread collects all the time.
 *
 * Each worker allocates pointer-free objects and writes into each one's
 * first word something that looks like a GC_finalized_malloc closure
 * (the address of `stale`, low bit set), then finalized objects of the
 * same size class.  Both die at once; the lazy sweep gives their empty
 * spans back to the thread's free runs, and the next spans of either
 * kind are cut from those runs: a finalized span is then zeroed over
 * the stale words (pointer-free spans are not zeroed).  A span once
 * became visible to the collector (state SMALL) before that memset and
 * its free list were done; a collection that stopped the thread in the
 * memset took the slots it had not reached for allocated, unmarked
 * objects and ran their "closure" (the fuzzer's crash in
 * finalized_disclaim; with typed objects, a crash in scan_typed on a
 * slot zeroed up to its last word).  The stale closure counts such
 * calls: before the fix, most runs counted some. */
#include "config.h"
#include <gc.h>
#include <gc/gc_disclaim.h>
#include "check.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

/* 50000 bytes (50009 with the closure word and the byte past the end)
 * is the class of 53248-byte slots, six to a five-page span: the last
 * slots of a span stay stale for most of its memset. */
enum { T = 2, ROUNDS = 3000, SIZE = 50000, COUNT = 12 };

static _Atomic long stale_calls, real_calls;
static _Atomic int workers_done;

static void GC_CALLBACK stale_proc(void *obj, void *cd)
{
  (void)obj;
  (void)cd;
  stale_calls++;
}

static void GC_CALLBACK real_proc(void *obj, void *cd)
{
  (void)obj;
  (void)cd;
  real_calls++;
}

static const struct GC_finalizer_closure stale = {stale_proc, NULL};
static const struct GC_finalizer_closure real = {real_proc, NULL};

static void *worker(void *arg)
{
  (void)arg;
  uintptr_t word = (uintptr_t)&stale | 1;
  for (int round = 0; round < ROUNDS; round++) {
    for (int i = 0; i < COUNT; i++) {
      uintptr_t *p = GC_MALLOC_ATOMIC(SIZE);
      CHECK(p != NULL);
      if (p)
        p[0] = word;
    }
    for (int i = 0; i < COUNT; i++) {
      char *q = GC_finalized_malloc(SIZE, &real);
      CHECK(q != NULL);
      if (q)
        memset(q, 0x5a, 64);
    }
  }
  return NULL;
}

static void *collector(void *arg)
{
  (void)arg;
  while (!workers_done)
    GC_gcollect();
  return NULL;
}

int main(void)
{
  GC_INIT();
  GC_init_finalized_malloc();
  pthread_t c;
  int rc = pthread_create(&c, NULL, collector, NULL);
  CHECK_EQ(rc, 0);
  check_run_threads(T, worker);
  workers_done = 1;
  if (rc == 0)
    pthread_join(c, NULL);
  GC_gcollect();
  printf("%lu collections, %ld closures run, %ld on stale bytes\n",
         (unsigned long)GC_get_gc_no(), (long)real_calls, (long)stale_calls);
  CHECK_EQ(stale_calls, 0);
  CHECK(real_calls > 0);
  return CHECK_SUMMARY();
}
