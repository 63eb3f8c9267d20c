/*
 * examples/gcbench.c -- GCBench, the classic collector benchmark of John
 * Ellis and Pete Kovac, as adapted for C by Hans Boehm, written afresh for
 * pargc; with -t N every one of N threads runs the whole benchmark at once
 * (the multi-threaded variant).
 *
 * What each thread does, with Boehm's parameters (-n 18, the default):
 *   1. "stretch" the heap: build a complete binary tree of depth 18 and drop
 *      it;
 *   2. build a long-lived tree of depth 16 and an array of 500,000 doubles,
 *      both kept alive to the end, so every collection has live data to mark;
 *   3. for depth d = 4, 6, ..., 16: build 2 * size(18) / size(d) trees of
 *      depth d, once top-down (allocate the node, then fill its children)
 *      and once bottom-up (children first); each tree is garbage at once.
 * -n D sets the stretch depth D; the long-lived and largest trees then have
 * depth D - 2.  Small mode (-s): D = 14 and an array of 50,000 doubles.
 *
 * Check: every tree built has the node count of a complete tree of its
 * depth (counted for the first tree of each depth and kind), and at the
 * end the long-lived tree is intact and the array holds what was written.
 */
#include "common.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static const char usage[] =
    "usage: gcbench [-t threads] [-n depth] [-s] [-v] [-h]\n"
    "  GCBench (Ellis, Kovac, Boehm) run by every one of the threads at once.\n"
    "  -t threads  threads, each running the whole benchmark (default: CPUs)\n"
    "  -n depth    stretch tree depth (default 18); long-lived and largest\n"
    "              trees have depth-2, the smallest depth 4\n"
    "  -s          small mode for make check: depth 14, 50,000 doubles\n"
    "  -v          print the full GC statistics\n";

enum { MIN_TREE_DEPTH = 4 };

typedef struct node {
  struct node *left, *right;
  int i, j; /* payload, as in the original; never read back */
} node;

/* Nodes in a complete binary tree of the given depth (depth 0: one node). */
static long tree_size(int depth) { return (1L << (depth + 1)) - 1; }

/* Top-down: the node exists before its children are filled in, so the
 * collector sees partly built trees (this is what exercises write order in
 * generational collectors, and costs nothing here). */
static void populate(int depth, node *n) {
  if (depth <= 0)
    return;
  n->left = GC_MALLOC(sizeof(node));
  n->right = GC_MALLOC(sizeof(node));
  populate(depth - 1, n->left);
  populate(depth - 1, n->right);
}

/* Bottom-up: children first, then the node that points to them. */
static node *make_tree(int depth) {
  node *n = GC_MALLOC(sizeof(node));
  if (depth > 0) {
    node *l = make_tree(depth - 1);
    node *r = make_tree(depth - 1);
    n->left = l;
    n->right = r;
  }
  return n;
}

static long count_nodes(const node *n) {
  return n ? 1 + count_nodes(n->left) + count_nodes(n->right) : 0;
}

typedef struct {
  int stretch_depth, long_lived_depth, max_depth;
  long array_size;
  atomic_long failures;
} bench;

static void fail(bench *b, const char *what, int depth, long got, long want) {
  fprintf(stderr, "gcbench: %s of depth %d has %ld nodes, not %ld\n", what, depth, got, want);
  atomic_fetch_add(&b->failures, 1);
}

static void time_construction(bench *b, int depth) {
  long iterations = 2 * tree_size(b->stretch_depth) / tree_size(depth);
  for (long i = 0; i < iterations; i++) {
    node *t = GC_MALLOC(sizeof(node));
    populate(depth, t);
    if (i == 0 && count_nodes(t) != tree_size(depth))
      fail(b, "top-down tree", depth, count_nodes(t), tree_size(depth));
  }
  for (long i = 0; i < iterations; i++) {
    node *t = make_tree(depth);
    if (i == 0 && count_nodes(t) != tree_size(depth))
      fail(b, "bottom-up tree", depth, count_nodes(t), tree_size(depth));
  }
}

static void run(int tid, void *arg) {
  bench *b = arg;
  /* 1. Stretch the heap with a tree that dies at once. */
  node *stretch = make_tree(b->stretch_depth);
  if (count_nodes(stretch) != tree_size(b->stretch_depth))
    fail(b, "stretch tree", b->stretch_depth, count_nodes(stretch), tree_size(b->stretch_depth));
  stretch = NULL;

  /* 2. Live data for the whole run. */
  node *long_lived = GC_MALLOC(sizeof(node));
  populate(b->long_lived_depth, long_lived);
  double *array = GC_MALLOC_ATOMIC(sizeof(double) * (size_t)b->array_size);
  /* The original fills only the first half; all of it is filled here so
   * that the final check can sample the whole array.  array[0] = inf. */
  for (long i = 0; i < b->array_size; i++)
    array[i] = 1.0 / (double)i;

  /* 3. Short-lived trees of growing depth. */
  for (int d = MIN_TREE_DEPTH; d <= b->max_depth; d += 2)
    time_construction(b, d);

  /* The live data must have survived every collection untouched. */
  if (count_nodes(long_lived) != tree_size(b->long_lived_depth))
    fail(b, "long-lived tree", b->long_lived_depth, count_nodes(long_lived),
         tree_size(b->long_lived_depth));
  for (long i = 1; i < b->array_size; i += 997) {
    if (array[i] != 1.0 / (double)i) {
      fprintf(stderr, "gcbench: thread %d: array[%ld] was overwritten\n", tid, i);
      atomic_fetch_add(&b->failures, 1);
      break;
    }
  }
}

int main(int argc, char **argv) {
  ex_opts o = {.name = "gcbench"};
  ex_parse(&o, argc, argv, usage, 18, 0, 14, 0);
  if (o.size < MIN_TREE_DEPTH + 2 || o.size > 30) {
    fprintf(stderr, "gcbench: -n wants a depth from %d to 30\n", MIN_TREE_DEPTH + 2);
    return 2;
  }
  static bench b; /* static: its fields are read by every thread */
  b.stretch_depth = (int)o.size;
  b.long_lived_depth = b.max_depth = (int)o.size - 2;
  b.array_size = o.small ? 50000 : 500000;
  ex_start(&o);
  ex_parallel(o.threads, run, &b);
  ex_stop();
  return ex_finish(&o, atomic_load(&b.failures) == 0);
}
