/* trees.h: the binary trees the heap-size stress tests keep live and
 * replace, and the largest heap they see.
 *
 *   check_tree_build(d)    a full tree of depth d (2^(d+1) - 1 nodes of
 *                          32 bytes), each node stamped with its depth
 *   check_tree_count(n)    its nodes, or a large negative number when a
 *                          stamp was overwritten (a node reclaimed and
 *                          reused while reachable)
 *   check_tree_max_heap    GC_get_heap_size after every collection, at
 *                          most, while check_tree_watching is set (install
 *                          check_tree_on_event with GC_set_on_collection_event)
 */
#ifndef PARGC_TESTS_TREES_H
#define PARGC_TESTS_TREES_H

#include <gc.h>
#include <stdatomic.h>
#include <stdlib.h>

struct check_node {
  struct check_node *left, *right;
  long depth, check;
};

static __attribute__((unused)) struct check_node *check_tree_build(int d)
{
  struct check_node *n = GC_MALLOC(sizeof *n);
  if (!n)
    abort();
  n->depth = d;
  n->check = d * 7 + 1;
  if (d > 0) {
    n->left = check_tree_build(d - 1);
    n->right = check_tree_build(d - 1);
  }
  return n;
}

static __attribute__((unused)) long check_tree_count(const struct check_node *n)
{
  if (!n)
    return 0;
  if (n->check != n->depth * 7 + 1)
    return -1000000;
  return 1 + check_tree_count(n->left) + check_tree_count(n->right);
}

static _Atomic size_t check_tree_max_heap;
static atomic_int check_tree_watching = 1;

static __attribute__((unused)) void check_tree_on_event(GC_EventType e)
{
  if (e != GC_EVENT_END || !atomic_load(&check_tree_watching))
    return;
  size_t h = GC_get_heap_size(), m = atomic_load(&check_tree_max_heap);
  while (h > m && !atomic_compare_exchange_weak(&check_tree_max_heap, &m, h))
    ;
}

#endif
