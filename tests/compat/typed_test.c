/* typed_test.c: gc_typed.h.  Words whose bitmap bit is set keep their
 * targets alive; words whose bit is clear are ignored even when they
 * hold a valid heap address.  Checked for a small struct (simple
 * descriptor), a 100-word struct (bitmap longer than a word) and arrays
 * from GC_calloc_explicitly_typed.  The functions are called directly:
 * under GC_DEBUG the GC_MALLOC_EXPLICITLY_TYPED macros fall back to
 * conservative GC_MALLOC, which is checked only for working at all. */
#include <gc.h>
#include <gc/gc_typed.h>
#include <stdint.h>
#include "compat.h"

#define N 100

struct small {
  void *ptr;        /* traced */
  uintptr_t plain;  /* NOT traced, though it holds an address */
  void *ptr2;       /* traced */
  uintptr_t more;
};
#define BIG_WORDS 100
#define BIG_PTR_A 3
#define BIG_PTR_B 97
#define BIG_FAKE 50

static void **traced_links, **untraced_links; /* atomic uncollectable */
static void **holders;                          /* uncollectable, scanned */

static COMPAT_NOINLINE void make_small(GC_descr d) {
  for (int i = 0; i < N; i++) {
    struct small *s = (struct small *)GC_malloc_explicitly_typed(sizeof *s, d);
    CHECK(s != 0);
    CHECK(GC_size(s) >= sizeof *s);
    s->ptr = compat_tracked(i, traced_links);
    s->plain = (uintptr_t)compat_tracked(i, untraced_links);
    holders[i] = s;
  }
}

static COMPAT_NOINLINE void make_big(GC_descr d) {
  for (int i = 0; i < N; i++) {
    void **b = (void **)GC_malloc_explicitly_typed(BIG_WORDS * sizeof(void *), d);
    CHECK(b != 0);
    b[BIG_PTR_B] = compat_tracked(i, traced_links);
    b[BIG_FAKE] = compat_tracked(i, untraced_links);
    holders[i] = b;
  }
}

static COMPAT_NOINLINE void make_array(GC_descr d) {
  struct small *arr = (struct small *)GC_calloc_explicitly_typed(N, sizeof(struct small), d);
  CHECK(arr != 0);
  CHECK(GC_size(arr) >= N * sizeof(struct small));
  for (int i = 0; i < N; i++) {
    arr[i].ptr2 = compat_tracked(i, traced_links);
    arr[i].more = (uintptr_t)compat_tracked(i, untraced_links);
  }
  holders[0] = arr;
}

/* After a collection: all traced targets alive, most untraced gone. */
static void check_links(const char *what) {
  int traced_alive = 0, untraced_gone = 0;
  for (int i = 0; i < N; i++) {
    traced_alive += traced_links[i] != 0;
    untraced_gone += untraced_links[i] == 0;
  }
  if (traced_alive != N || !COMPAT_MOSTLY(untraced_gone, N))
    fprintf(stderr, "%s: %d of %d traced alive, %d of %d untraced collected\n", what, traced_alive,
            N, untraced_gone, N);
  CHECK_EQ(traced_alive, N);
  CHECK(COMPAT_MOSTLY(untraced_gone, N));
}

int main(void) {
  GC_INIT();
  traced_links = (void **)GC_MALLOC_ATOMIC_UNCOLLECTABLE(N * sizeof(void *));
  untraced_links = (void **)GC_MALLOC_ATOMIC_UNCOLLECTABLE(N * sizeof(void *));
  holders = (void **)GC_malloc_uncollectable(N * sizeof(void *));

  GC_word bm[GC_BITMAP_SIZE(struct small)] = {0};
  GC_set_bit(bm, GC_WORD_OFFSET(struct small, ptr));
  GC_set_bit(bm, GC_WORD_OFFSET(struct small, ptr2));
  CHECK_EQ(GC_get_bit(bm, GC_WORD_OFFSET(struct small, plain)), 0);
  GC_descr d_small = GC_make_descriptor(bm, GC_WORD_LEN(struct small));

  make_small(d_small);
  compat_collect(3);
  check_links("small");

  GC_word big_bm[(BIG_WORDS + GC_WORDSZ - 1) / GC_WORDSZ] = {0};
  GC_set_bit(big_bm, BIG_PTR_A);
  GC_set_bit(big_bm, BIG_PTR_B);
  GC_descr d_big = GC_make_descriptor(big_bm, BIG_WORDS);
  memset(traced_links, 0, N * sizeof(void *));
  memset(untraced_links, 0, N * sizeof(void *));
  make_big(d_big);
  compat_collect(3);
  check_links("big");

  memset(traced_links, 0, N * sizeof(void *));
  memset(untraced_links, 0, N * sizeof(void *));
  for (int i = 0; i < N; i++) holders[i] = 0;
  make_array(d_small);
  compat_collect(3);
  check_links("array");

  /* The macros allocate in every variant. */
  struct small *m = (struct small *)GC_MALLOC_EXPLICITLY_TYPED(sizeof(struct small), d_small);
  CHECK(m != 0);
  struct small *ma = (struct small *)GC_CALLOC_EXPLICITLY_TYPED(5, sizeof(struct small), d_small);
  CHECK(ma != 0);
  void *op = GC_malloc_explicitly_typed_ignore_off_page(4000, d_small);
  CHECK(op != 0);
  return CHECK_SUMMARY();
}
