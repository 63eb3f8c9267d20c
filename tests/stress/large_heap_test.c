/* Stress: two GC threads marking a heap of 256 MB of live trees, with
 * garbage between their nodes, lose nothing.  The heap is large so that
 * its page descriptors and mark bitmaps outgrow a core's L2 cache, which
 * is when the GC threads mark through the candidate ring (gc/tracer.c,
 * drain_body): a test on a small heap would not run that path.  Two big arrays point at alternate objects
 * of one run of small ones, so the two GC threads, each scanning pieces
 * of one array, keep setting different bits of the same bitmap words at
 * the same time -- the race that racy marking (trace_racy) must survive.
 * PARGC_VERIFY checks every collection's marks; the values are checked
 * after the collections. */
#include "config.h"
#include <gc.h>
#include "check.h"

#include <stdint.h>
#include <stdlib.h>

struct node {
  struct node *left, *right;
  uintptr_t v, w;
};

enum { DEPTH = 16, TREES = 64 }; /* 64 trees of 131071 32-byte nodes: 256 MB */
enum { CELLS = 1 << 22 };         /* 16-byte objects, half in each array */

static struct node *build(int depth, uintptr_t v)
{
  struct node *n = GC_MALLOC(sizeof *n);
  GC_MALLOC(sizeof *n); /* garbage beside every node */
  n->v = v;
  n->w = ~v;
  if (depth > 0) {
    n->left = build(depth - 1, 2 * v);
    n->right = build(depth - 1, 2 * v + 1);
  }
  return n;
}

static int check(const struct node *n, int depth, uintptr_t v)
{
  if (!n || n->v != v || n->w != ~v)
    return 0;
  if (depth == 0)
    return !n->left && !n->right;
  return check(n->left, depth - 1, 2 * v) && check(n->right, depth - 1, 2 * v + 1);
}

int main(void)
{
  setenv("PARGC_GC_THREADS", "2", 1);
  setenv("PARGC_VERIFY", "1", 1);
  GC_INIT();
  struct node **trees = GC_MALLOC(TREES * sizeof *trees);
  for (int i = 0; i < TREES; i++)
    trees[i] = build(DEPTH, 1);
  uintptr_t **even = GC_MALLOC(CELLS / 2 * sizeof *even);
  uintptr_t **odd = GC_MALLOC(CELLS / 2 * sizeof *odd);
  CHECK(even && odd);
  for (uintptr_t i = 0; i < CELLS; i++) {
    uintptr_t *c = GC_MALLOC(2 * sizeof(uintptr_t));
    c[0] = i;
    (i & 1 ? odd : even)[i / 2] = c;
  }
  for (int r = 0; r < 3; r++) {
    GC_gcollect();
    for (int i = 0; i < 100000; i++)
      GC_MALLOC(sizeof(struct node)); /* reuses the garbage's slots */
  }
  int ok = 1;
  for (int i = 0; i < TREES; i++)
    ok &= check(trees[i], DEPTH, 1);
  CHECK(ok);
  for (uintptr_t i = 0; i < CELLS; i++)
    ok &= (i & 1 ? odd : even)[i / 2][0] == i;
  CHECK(ok);
  return CHECK_SUMMARY();
}
