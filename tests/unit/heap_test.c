/* Unit test for alloc/heap: the LPS decisions -- own pages first, fresh
 * pages while under k x max(live), then stealing (same NUMA node first),
 * then growth -- on synthetic 2- and 4-node topologies, decommit, and
 * how free runs are joined and fitted. */
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

/* Free runs: neighbours on a list are joined when a request finds no
 * run long enough; the shortest run that fits is taken; a run with
 * black-listed pages serves a request from a clean part of it. */
static void test_join_and_fit(void)
{
  scenario(64, 1 << 20);
  /* The node pools' runs from the scenarios above would come first:
   * leave them aside. */
  for (int i = 0; i < PARGC_MAX_NODES; i++)
    while (pargc_list_pop(&pargc_heap.pool[i].runs))
      ;
  struct pargc_tctx *a = pargc_tctx_new();
  enum pargc_run_source src;
  /* Runs of 1, 2, 4 and 8 pages, fresh, so side by side. */
  struct pargc_page *r[4];
  for (int i = 0; i < 4; i++) {
    r[i] = pargc_heap_take_run(a, (size_t)1 << i, false, &src);
    CHECK(r[i] && src == PARGC_RUN_FRESH);
  }
  for (int i = 1; i < 4; i++)
    CHECK(r[i] == r[i - 1] + (1 << (i - 1)));
  /* Given back out of order: four runs on A's list, none of 15 pages. */
  pargc_heap_release_run(a, r[2]);
  pargc_heap_release_run(a, r[0]);
  pargc_heap_release_run(a, r[3]);
  pargc_heap_release_run(a, r[1]);
  CHECK_EQ(a->free_runs.count, 4);
  size_t committed = pargc_heap_committed_pages();
  struct pargc_page *j = pargc_heap_take_run(a, 15, false, &src);
  CHECK(j == r[0] && src == PARGC_RUN_OWN);
  CHECK_EQ(j->pages, 15);
  CHECK_EQ(a->free_runs.count, 0);
  CHECK_EQ(pargc_heap_committed_pages(), committed);
  /* Every page of the joined run leads back to its head. */
  for (size_t i = 0; i < 15; i++)
    CHECK(pargc_pagemap_lookup(pargc_page_addr(j) + i * PARGC_PAGE_SIZE) == j);

  /* Best fit: with an 8-page run first on the list and a 1-page run
   * behind it, one page comes from the 1-page run. */
  struct pargc_page *one = pargc_heap_take_run(a, 1, false, &src);
  CHECK(one && src == PARGC_RUN_FRESH);
  pargc_heap_release_run(a, j); /* 15 pages: j .. j + 14 */
  pargc_heap_release_run(a, one);
  struct pargc_page *got = pargc_heap_take_run(a, 1, false, &src);
  CHECK(got == one && src == PARGC_RUN_OWN);
  CHECK_EQ(j->pages, 15);

  /* A black-listed first page: 4 pages come from the clean part after
   * it, and the page before them stays free. */
  pargc_blacklist_page(pargc_page_index(j));
  got = pargc_heap_take_run(a, 4, false, &src);
  CHECK(got == j + 1 && src == PARGC_RUN_OWN);
  CHECK_EQ(j->pages, 1);
  CHECK_EQ(atomic_load(&j->state), PARGC_PAGE_FREE);
  CHECK_EQ(a->free_runs.count, 2); /* j, and the 10 pages after got */
  pargc_heap_release_run(a, got);

  /* A committed run and a decommitted neighbour stay apart (joined, the
   * run would be miscounted); once both are decommitted they join. */
  struct pargc_page *tail = j + 5;
  CHECK_EQ(tail->pages, 10);
  pargc_heap_decommit(true); /* all three runs */
  CHECK(tail->decommitted && j->decommitted);
  got = pargc_heap_take_run(a, 4, false, &src); /* j + 1 .. j + 4 again */
  CHECK(got == j + 1 && src == PARGC_RUN_OWN && got->zeroed);
  memset((void *)pargc_page_addr(got), 1, 4 * PARGC_PAGE_SIZE);
  committed = pargc_heap_committed_pages();
  pargc_heap_release_run(a, got);
  scenario(0, 0); /* k = 1, nothing committed: no fresh pages */
  pargc_heap.max_heap = 4 * PARGC_PAGE_SIZE;
  CHECK(pargc_heap_take_run(a, 14, false, &src) == NULL);
  CHECK_EQ(a->free_runs.count, 3);
  /* The limit holds for runs taken back from the OS too. */
  CHECK(pargc_heap_take_run(a, 10, false, &src) == NULL);
  pargc_heap.max_heap = 0;
  atomic_store(&pargc_heap.committed, committed);
  pargc_heap_decommit(true);
  got = pargc_heap_take_run(a, 14, false, &src);
  CHECK(got == j + 1 && src == PARGC_RUN_OWN && got->zeroed);
  CHECK_EQ(a->free_runs.count, 1);
  CHECK(j->pages == 1 && j->decommitted);
  memset((void *)pargc_page_addr(got), 0, 14 * PARGC_PAGE_SIZE);
}

int main(void)
{
  setenv("PARGC_HEAP_RESERVE", "1G", 1);
  pargc_alloc_init();
  test_two_nodes();
  test_four_nodes();
  test_runs_and_decommit();
  test_join_and_fit();
  return CHECK_SUMMARY();
}
