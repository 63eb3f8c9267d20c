/* The pages of a thread that stopped allocating are reused by the others.
 *
 * One thread builds a table of binary trees (about 37 MB of 48-byte
 * nodes live), then two workers replace random trees with new ones until
 * 400 MB were allocated.  The replaced trees' nodes leave free slots in
 * the builder's pages; pages belong to the thread that allocated them,
 * and before blocked and exited threads' pages were adopted the builder
 * kept them all while the workers grew the heap for their own: the
 * largest heap reached 2.9-3.2x the live data (stop-parallel mode).  Now
 * a worker that runs out of pages of the class takes the builder's
 * partly free ones, and the largest heap is 1.9-2.4x the live data (the
 * rest is the sizing policy's interval, which follows measured rates).
 * Two builders, each in a child process:
 *   - the main thread, which then waits in pthread_join (a blocking
 *     section: its context is parked while it waits);
 *   - a thread that exits (its context is parked for reuse), after which
 *     the main thread replaces the trees itself.
 * Each checks the trees and that the largest heap after any
 * collection stays within 2.7x the live data, and that pages were
 * adopted (pargc_get_stats).
 */
#include "config.h"
#include <gc.h>
#include <pargc.h>
#include "check.h"
#include "trees.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define DEPTH 9 /* 1023 nodes a tree */
#define NODES ((1L << (DEPTH + 1)) - 1)
#define SLOTS 768
#define WORKERS 2
#define ALLOC_PER_WORKER (200L << 20)
/* A 32-byte node takes a 48-byte slot (GC_MALLOC adds a byte). */
#define LIVE_BYTES ((size_t)SLOTS * NODES * 48)

static struct check_node **table;

/* Replace random trees of slots [base, base + n) until `bytes` were
 * allocated. */
static void replace(unsigned seed, long base, long n, long bytes)
{
  for (long done = 0; done < bytes; done += NODES * (long)sizeof(struct check_node)) {
    long i = base + (long)(rand_r(&seed) % (unsigned)n);
    table[i] = check_tree_build(DEPTH);
  }
}

static void *worker(void *arg)
{
  long id = (long)(uintptr_t)arg, per = SLOTS / WORKERS;
  replace((unsigned)id * 7919u + 1, id * per, per, ALLOC_PER_WORKER);
  return NULL;
}

static void *build_table(void *arg)
{
  (void)arg;
  for (long i = 0; i < SLOTS; i++)
    table[i] = check_tree_build(DEPTH);
  return NULL;
}

/* The table is built by the caller, which then waits for two workers;
 * or by a thread that exits, and the caller replaces trees itself (a
 * new thread would take the exited one's context whole). */
static void run(int builder_exits)
{
  atomic_store(&check_tree_watching, 0); /* the build does not count */
  GC_INIT();
  GC_set_on_collection_event(check_tree_on_event);
  table = GC_MALLOC(SLOTS * sizeof *table);
  if (builder_exits) {
    pthread_t b;
    pthread_create(&b, NULL, build_table, NULL);
    pthread_join(b, NULL);
    atomic_store(&check_tree_watching, 1);
    replace(1, 0, SLOTS, WORKERS * ALLOC_PER_WORKER);
  } else {
    build_table(NULL);
    atomic_store(&check_tree_watching, 1);
    pthread_t th[WORKERS];
    for (long t = 0; t < WORKERS; t++)
      pthread_create(&th[t], NULL, worker, (void *)(uintptr_t)t);
    for (long t = 0; t < WORKERS; t++)
      pthread_join(th[t], NULL);
  }
  long bad = 0;
  for (long i = 0; i < SLOTS; i++)
    bad += check_tree_count(table[i]) != NODES;
  struct pargc_stats s = {0};
  pargc_get_stats(&s, sizeof s);
  size_t h = atomic_load(&check_tree_max_heap);
  printf("builder %s: largest heap %zu MB, live %zu MB (%.2fx), %llu pages adopted\n",
         builder_exits ? "exited" : "waiting", h >> 20, LIVE_BYTES >> 20,
         (double)h / (double)LIVE_BYTES, (unsigned long long)s.adopted_pages);
  fflush(stdout);
  _exit(bad == 0 && s.adopted_pages > 0 && h * 10 <= LIVE_BYTES * 27 ? 0 : 1);
}

static void builder_waits(void) { run(0); }
static void builder_exits(void) { run(1); }

int main(void)
{
  setenv("PARGC_MODE", "stop", 1);
  check_in_child("builder waits in pthread_join", builder_waits);
  check_in_child("builder exits", builder_exits);
  return CHECK_SUMMARY();
}
