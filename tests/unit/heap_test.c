/* Unit test for alloc/heap: the LPS decisions -- own pages first, fresh
 * pages while under k x max(live), then stealing (same NUMA node first),
 * then growth -- on synthetic 2- and 4-node topologies, and decommit. */
#include "config.h"
#include "alloc/heap.h"
#include "alloc/options.h"
#include "alloc/os.h"
#include "alloc/thread.h"
#include "alloc/topology.h"
#include "check.h"

#include <stdlib.h>
#include <string.h>

static enum pargc_run_source take(struct pargc_tctx *ctx, struct pargc_page **out)
{
  enum pargc_run_source src;
  *out = pargc_heap_take_run(ctx, 1, false, &src);
  CHECK(*out != NULL);
  return src;
}

/* Reset the heap's accounting to a clean state between scenarios:
 * max(live) = 16 pages, nothing committed counts (fresh region part). */
static void scenario(size_t k, size_t live_pages)
{
  pargc_heap.k = (int64_t)k;
  atomic_store(&pargc_heap.max_live, live_pages * PARGC_PAGE_SIZE);
  atomic_store(&pargc_heap.committed, 0);
}

static void test_two_nodes(void)
{
  pargc_topology_init("node:2 core:2 pu:1");
  CHECK_EQ(pargc_topology_nodes(), 2);
  struct pargc_tctx *a = pargc_tctx_new(), *b = pargc_tctx_new();
  struct pargc_tctx *c = pargc_tctx_new(), *d = pargc_tctx_new();
  a->node = 0, b->node = 0, c->node = 1, d->node = 1;
  scenario(1, 16); /* k = 1: behaves like Page-Shared */

  struct pargc_page *runs[32];
  for (int i = 0; i < 16; i++)
    CHECK_EQ(take(a, &runs[i]), PARGC_RUN_FRESH);
  /* 16 pages committed = k x max(live): no more fresh pages, nothing to
   * steal, the collector may not be asked: the heap grows. */
  CHECK_EQ(take(a, &runs[16]), PARGC_RUN_GROWN);

  /* A's own free pages come first. */
  for (int i = 0; i < 4; i++)
    pargc_heap_release_run(a, runs[i]);
  CHECK_EQ(take(a, &runs[0]), PARGC_RUN_OWN);

  /* B (same node) steals from A instead of taking fresh pages. */
  CHECK_EQ(take(b, &runs[1]), PARGC_RUN_STOLEN_LOCAL);
  CHECK_EQ(b->stats.stolen_from_node[0], 1);

  /* D (node 1) frees a page; C (node 1) steals D's first (same node),
   * then A's (node 0: remote). */
  struct pargc_page *dpage;
  scenario(4, 16);
  CHECK_EQ(take(d, &dpage), PARGC_RUN_FRESH); /* k=4 of 4 contexts: 64 pages allowed */
  scenario(1, 16);
  atomic_store(&pargc_heap.committed, 32);
  pargc_heap_release_run(d, dpage);
  CHECK_EQ(take(c, &runs[2]), PARGC_RUN_STOLEN_LOCAL);
  CHECK(runs[2] == dpage);
  CHECK_EQ(take(c, &runs[3]), PARGC_RUN_STOLEN_REMOTE);

  /* k = 4: fresh pages while under 4 x max(live). */
  scenario(4, 16);
  CHECK_EQ(pargc_heap_effective_k(), 4);
  CHECK_EQ(take(c, &runs[4]), PARGC_RUN_FRESH);
  /* k is clamped to the number of threads. */
  pargc_heap.k = 1000;
  CHECK_EQ(pargc_heap_effective_k(), atomic_load(&pargc_tctx_count));
}

static void test_four_nodes(void)
{
  pargc_topology_init("pack:4 node:1 core:1 pu:1");
  CHECK_EQ(pargc_topology_nodes(), 4);
  struct pargc_tctx *t[4];
  for (int i = 0; i < 4; i++) {
    t[i] = pargc_tctx_new();
    t[i]->node = i;
  }
  scenario(1, 4);
  atomic_store(&pargc_heap.committed, 1000);
  /* Free pages on nodes 1 and 3; a thread on node 3 takes its own node's
   * page before node 1's. */
  struct pargc_page *p1, *p3;
  scenario(4, 1000);
  CHECK_EQ(take(t[1], &p1), PARGC_RUN_FRESH);
  CHECK_EQ(take(t[3], &p3), PARGC_RUN_FRESH);
  p1->node = 1, p3->node = 3;
  scenario(1, 4);
  atomic_store(&pargc_heap.committed, 1000);
  pargc_heap_release_run(NULL, p1); /* into node 1's pool */
  pargc_heap_release_run(NULL, p3); /* into node 3's pool */
  struct pargc_page *got;
  CHECK_EQ(take(t[3], &got), PARGC_RUN_STOLEN_LOCAL);
  CHECK(got == p3);
  /* Then other nodes' pages (node 1's pool, or leftovers of the 2-node
   * scenario): always counted as remote. */
  CHECK_EQ(take(t[3], &got), PARGC_RUN_STOLEN_REMOTE);
  CHECK(got->node != 3);
}

static void test_runs_and_decommit(void)
{
  scenario(64, 1 << 20);
  struct pargc_tctx *a = pargc_tctx_new();
  enum pargc_run_source src;
  /* A run of 8 pages, touched, released, then split by smaller takes. */
  struct pargc_page *r8 = pargc_heap_take_run(a, 8, false, &src);
  CHECK(r8 && src == PARGC_RUN_FRESH);
  memset((void *)pargc_page_addr(r8), 1, 8 * PARGC_PAGE_SIZE);
  size_t rss_before = pargc_os_rss_bytes();
  pargc_heap_release_run(a, r8);
  CHECK(r8->pages == 8 && atomic_load(&r8->state) == PARGC_PAGE_FREE);
  /* Decommit everything free: RSS falls by the run, contents read zero. */
  size_t given = pargc_heap_decommit(true);
  CHECK(given >= 8 * PARGC_PAGE_SIZE);
  size_t rss_after = pargc_os_rss_bytes();
  CHECK(rss_after + 4 * PARGC_PAGE_SIZE <= rss_before);
  struct pargc_page *r2 = pargc_heap_take_run(a, 2, false, &src);
  CHECK(r2 == r8 && src == PARGC_RUN_OWN && r2->zeroed);
  CHECK(((unsigned char *)pargc_page_addr(r2))[100] == 0);
  struct pargc_page *r6 = pargc_heap_take_run(a, 6, false, &src);
  CHECK(r6 == r8 + 2 && src == PARGC_RUN_OWN);
  /* Tails point back to their new heads. */
  CHECK(pargc_pagemap_lookup(pargc_page_addr(r6) + 3 * PARGC_PAGE_SIZE) == r6);
}

int main(void)
{
  setenv("PARGC_HEAP_RESERVE", "1G", 1);
  pargc_alloc_init();
  test_two_nodes();
  test_four_nodes();
  test_runs_and_decommit();
  return CHECK_SUMMARY();
}
