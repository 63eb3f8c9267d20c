/* model-heaps: live heaps of a known shape, collected a few times, for
 * checking the performance model against measured collections
 * (tools/model-validate.sh, docs/performance.md).
 *
 *   model-heaps SHAPE MIB [COLLECTIONS]
 *
 * SHAPE is `trees` (complete binary trees of 32-byte nodes, depth 16
 * each), `chain` (one linked list of 32-byte nodes: no parallelism at
 * all), or `arrays` (1 MiB pointer arrays, every slot pointing to its own
 * 16-byte pointer-free object).  MIB is the live data to build; then
 * GC_gcollect runs COLLECTIONS times (default 5).  The figures come from
 * the collector: run it with PARGC_STATS_FILE and PARGC_SNAPSHOT.
 */
#include <gc.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 24 bytes: with the byte GC_MALLOC adds (interior pointers), the
 * 32-byte class. */
struct node {
  struct node *l, *r;
  long i;
};

struct link {
  struct link *next;
  long i;
};

static struct node *tree(int depth)
{
  if (!depth)
    return NULL;
  struct node *n = GC_MALLOC(sizeof *n);
  n->l = tree(depth - 1);
  n->r = tree(depth - 1);
  return n;
}

static void *volatile root;

int main(int argc, char **argv)
{
  if (argc < 3) {
    fprintf(stderr, "usage: model-heaps trees|chain|arrays MIB [COLLECTIONS]\n");
    return 1;
  }
  GC_INIT();
  size_t bytes = (size_t)strtoul(argv[2], NULL, 10) << 20;
  int collections = argc > 3 ? atoi(argv[3]) : 5;
  if (!strcmp(argv[1], "trees")) {
    size_t per = ((size_t)1 << 16) * 32, n = bytes / per + 1;
    struct node **all = GC_MALLOC(n * sizeof *all);
    for (size_t i = 0; i < n; i++)
      all[i] = tree(16);
    root = all;
  } else if (!strcmp(argv[1], "chain")) {
    size_t n = bytes / 32;
    struct link *head = NULL;
    for (size_t i = 0; i < n; i++) {
      struct link *c = GC_MALLOC(sizeof *c);
      c->next = head;
      head = c;
    }
    root = head;
  } else if (!strcmp(argv[1], "arrays")) {
    size_t slots = (1 << 20) / sizeof(void *), n = bytes / ((1 << 20) + slots * 32) + 1;
    void ***all = GC_MALLOC(n * sizeof *all);
    for (size_t a = 0; a < n; a++) {
      all[a] = GC_MALLOC((1 << 20) - 64);
      for (size_t s = 0; s + 8 < slots; s++)
        all[a][s] = GC_MALLOC_ATOMIC(15);
    }
    root = all;
  } else {
    fprintf(stderr, "model-heaps: unknown shape %s\n", argv[1]);
    return 1;
  }
  for (int c = 0; c < collections; c++)
    GC_gcollect();
  return root ? 0 : 1;
}
