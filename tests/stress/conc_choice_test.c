/* Concurrent mode collects a small heap stopped, a large one in cycles,
 * and follows the live data both ways (PARGC_CONC_MIN_LIVE).
 *
 * A cycle stops the program twice and marks beside it; with little live
 * data the two stops take about as long as one stopped collection, and
 * the marking beside the program is pure cost.  So while the last
 * collection found less than PARGC_CONC_MIN_LIVE live, the next one
 * stops the world.  With the threshold at 4 MiB:
 *
 *   1. 0.5 MB live, 48 MB of garbage: several collections, no cycle;
 *   2. 16 MB live (measured by GC_gcollect), 64 MB of garbage: cycles;
 *   3. the 16 MB dropped, GC_gcollect, 48 MB of garbage: collections
 *      again, and no cycle among them;
 *   4. the same while another thread asks for cycles without pause
 *      (GC_start_incremental_collection, which runs one whatever the
 *      heap): the stopped collections the allocation asks for wait for
 *      each cycle to end, never run between its stops (an assertion in
 *      the collector, and PARGC_VERIFY, check that);
 *   5. GC_collect_a_little, called while such a cycle runs, says a
 *      collection is in progress (at least once in 50 tries: the cycle
 *      may end before the call).
 *
 * The live trees are counted after each part: nothing reachable lost
 * on the way from one kind of collection to the other.  No timing is
 * measured. */
#include "config.h"
#include <gc.h>
#include <pargc.h>
#include "check.h"
#include "trees.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>

enum { SMALL_TREES = 8, BIG_TREES = 256, DEPTH = 10, HANG_S = 300 };
/* A tree of depth 10: 2047 nodes of 32 bytes, 64 KiB. */
static const char hang_msg[] = "conc_choice_test: still running after 300 s: hung\n";

static struct check_node **small, **big;

static void garbage(size_t mb)
{
  for (size_t i = 0; i < mb * 1024; i++)
    (void)check_tree_build(4); /* 31 nodes, about 1 KiB */
}

static void stats(struct pargc_stats *s) { pargc_get_stats(s, sizeof *s); }

static int trees_intact(struct check_node **t, int n)
{
  int bad = 0;
  for (int i = 0; i < n; i++)
    bad += check_tree_count(t[i]) != (2 << DEPTH) - 1;
  return bad;
}

/* 48 MB of garbage beside the small trees: several collections, all
 * stopped; the trees intact. */
static void small_heap_stops(void)
{
  struct pargc_stats a, b;
  stats(&a);
  garbage(48);
  stats(&b);
  CHECK(b.collections >= a.collections + 2);
  CHECK_EQ(b.concurrent_cycles, a.concurrent_cycles);
  CHECK_EQ(trees_intact(small, SMALL_TREES), 0);
}

static atomic_int asking;

static void *ask_cycles(void *arg)
{
  (void)arg;
  while (atomic_load(&asking))
    GC_start_incremental_collection();
  return NULL;
}

int main(void)
{
  setenv("PARGC_MODE", "concurrent", 1);
  setenv("PARGC_CONC_MIN_LIVE", "4M", 1);
  setenv("PARGC_VERIFY", "1", 0);
  check_hang_alarm(HANG_S, hang_msg);
  GC_INIT();
  CHECK(GC_is_incremental_mode());

  small = GC_MALLOC(SMALL_TREES * sizeof *small);
  big = GC_MALLOC(BIG_TREES * sizeof *big);
  for (int i = 0; i < SMALL_TREES; i++)
    small[i] = check_tree_build(DEPTH);

  /* 1. Small heap: stopped collections only. */
  small_heap_stops();

  /* 2. 16 MB live: the collections after the one that found it are
   * cycles. */
  struct pargc_stats b, c;
  stats(&b);
  for (int i = 0; i < BIG_TREES; i++)
    big[i] = check_tree_build(DEPTH);
  GC_gcollect();
  garbage(64);
  stats(&c);
  CHECK(c.concurrent_cycles >= b.concurrent_cycles + 1);
  CHECK_EQ(trees_intact(small, SMALL_TREES), 0);
  CHECK_EQ(trees_intact(big, BIG_TREES), 0);

  /* 3. Back to 0.5 MB: the explicit collection finds it, and the
   * collections after it stop the world again. */
  for (int i = 0; i < BIG_TREES; i++)
    big[i] = NULL;
  GC_gcollect();
  small_heap_stops();

  /* 4. Cycles asked for beside the stopped collections. */
  struct pargc_stats e, f;
  stats(&e);
  atomic_store(&asking, 1);
  pthread_t t;
  CHECK_EQ(pthread_create(&t, NULL, ask_cycles, NULL), 0);
  garbage(48);
  atomic_store(&asking, 0);
  pthread_join(t, NULL);
  stats(&f);
  CHECK(f.concurrent_cycles > e.concurrent_cycles);
  CHECK(f.collections - f.concurrent_cycles > e.collections - e.concurrent_cycles);
  CHECK_EQ(trees_intact(small, SMALL_TREES), 0);

  /* 5. A cycle asked for on the small heap is a collection in progress
   * for GC_collect_a_little; looping on it waits for the cycle. */
  int in_progress = 0;
  for (int i = 0; i < 50; i++) {
    GC_start_incremental_collection();
    if (GC_collect_a_little()) {
      in_progress++;
      while (GC_collect_a_little())
        ;
    }
  }
  CHECK(in_progress > 0);
  CHECK_EQ(trees_intact(small, SMALL_TREES), 0);
  return CHECK_SUMMARY();
}
