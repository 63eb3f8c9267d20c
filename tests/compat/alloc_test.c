/* alloc_test.c: allocation calls and object queries of Boehm GC's API.
 *  - GC_base / GC_size / GC_is_heap_ptr for small and large objects and
 *    interior pointers; interior pointers keep objects alive;
 *  - GC_realloc edge cases (NULL, 0, grow, shrink, kind preserved);
 *  - GC_memalign, GC_posix_memalign, GC_strdup, GC_strndup;
 *  - uncollectable objects survive with no reference; GC_free;
 *  - GC_malloc_many; the gc_inline.h macros GC_MALLOC_WORDS and GC_CONS;
 *  - heap figures and GC_get_prof_stats;
 *  - buffers grown by doubling, the old one freed each time (C++
 *    containers on gc_allocator), and one copied into a slightly larger
 *    one at each step: the freed space serves the larger buffers, and
 *    the heap stays small.
 * Object queries use the plain functions (GC_malloc...), not the macros,
 * so that they see object bases under GC_DEBUG too. */
#include <gc.h>
#include <gc/gc_inline.h>
#include <gc/gc_mark.h>
#include <errno.h>
#include <stdint.h>
#include "compat.h"

static int static_word;

static void test_queries(void) {
  static const size_t sizes[] = {1, 8, 15, 16, 17, 100, 1000, 4096, 10000, 100000, 1 << 20};
  for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    size_t n = sizes[i];
    char *p = (char *)GC_malloc(n);
    CHECK(p != 0);
    CHECK(((uintptr_t)p & (sizeof(void *) - 1)) == 0);
    CHECK(GC_base(p) == p);
    CHECK(GC_base(p + n / 2) == p);
    CHECK(GC_base(p + n - 1) == p);
    CHECK(GC_size(p) >= n);
    CHECK(GC_is_heap_ptr(p));
    CHECK(GC_is_heap_ptr(p + n - 1));
    /* Zeroed. */
    int nonzero = 0;
    for (size_t k = 0; k < n; k++) nonzero |= p[k];
    CHECK_EQ(nonzero, 0);
  }
  int local = 0;
  CHECK(GC_base(&local) == 0);
  CHECK(GC_base(&static_word) == 0);
  CHECK(GC_base(0) == 0);
  CHECK(!GC_is_heap_ptr(&local));
  CHECK(!GC_is_heap_ptr(&static_word));
  size_t sz = 0;
  void *a = GC_malloc_atomic(40);
  int kind = GC_get_kind_and_size(a, &sz);
  CHECK_EQ(kind, GC_I_PTRFREE);
  CHECK(sz >= 40);
  CHECK_EQ(GC_get_kind_and_size(GC_malloc(40), 0), GC_I_NORMAL);
}

/* Keep an object alive through an interior pointer only. */
static void *interior_link;
static char *interior_root;
static COMPAT_NOINLINE void make_interior(void) {
  char *p = (char *)GC_malloc(64);
  interior_link = p;
  GC_general_register_disappearing_link(&interior_link, p);
  interior_root = p + 40;
  interior_link = (void *)GC_HIDE_POINTER(p);
}

static void test_realloc(void) {
  char *p = (char *)GC_realloc(0, 32); /* NULL: a fresh object */
  CHECK(p != 0);
  CHECK(GC_size(p) >= 32);
  for (int i = 0; i < 32; i++) p[i] = (char)i;
  char *q = (char *)GC_realloc(p, 5000); /* grow: contents kept */
  CHECK(q != 0);
  CHECK(GC_size(q) >= 5000);
  int same = 1;
  for (int i = 0; i < 32; i++) same &= q[i] == (char)i;
  CHECK(same);
  char *r = (char *)GC_realloc(q, 10); /* shrink: prefix kept */
  CHECK(r != 0);
  same = 1;
  for (int i = 0; i < 10; i++) same &= r[i] == (char)i;
  CHECK(same);
  CHECK(GC_realloc(r, 0) == 0); /* 0: freed, NULL back */
  /* The kind survives: atomic stays atomic, uncollectable stays so. */
  void *a = GC_realloc(GC_malloc_atomic(16), 4000);
  CHECK_EQ(GC_get_kind_and_size(a, 0), GC_I_PTRFREE);
  void *u = GC_malloc_uncollectable(16);
  int ukind = GC_get_kind_and_size(u, 0);
  void *u2 = GC_realloc(u, 3000);
  CHECK_EQ(GC_get_kind_and_size(u2, 0), ukind);
  GC_free(u2);
  /* The macro form works in every variant (debug objects under GC_DEBUG). */
  char *m = (char *)GC_MALLOC(20);
  m[19] = 7;
  m = (char *)GC_REALLOC(m, 200);
  CHECK_EQ(m[19], 7);
  m = (char *)GC_REALLOC(m, 0);
  CHECK(m == 0);
}

static void test_memalign_strdup(void) {
  /* Boehm GC 8.2 serves alignments up to its 4 KiB block size. */
  for (size_t align = sizeof(void *); align <= 4096; align *= 2) {
    char *p = (char *)GC_memalign(align, 100);
    CHECK(p != 0);
    CHECK(((uintptr_t)p & (align - 1)) == 0);
    CHECK(GC_base(p) != 0);
    p[99] = 1;
    void *q = 0;
    CHECK_EQ(GC_posix_memalign(&q, align, 50), 0);
    CHECK(((uintptr_t)q & (align - 1)) == 0);
  }
  void *bad = 0;
  CHECK_EQ(GC_posix_memalign(&bad, 3 * sizeof(void *), 16), EINVAL);
  char *s = GC_strdup("hello, world");
  CHECK(s != 0 && strcmp(s, "hello, world") == 0);
  CHECK(GC_base(s) == s);
  CHECK(GC_strdup(0) == 0);
  char *t = GC_strndup("hello, world", 5);
  CHECK(t != 0 && strcmp(t, "hello") == 0);
  char *u = GC_strndup("hi", 100);
  CHECK(u != 0 && strcmp(u, "hi") == 0);
  char *d = GC_STRDUP("debug or not");
  CHECK(d != 0 && strcmp(d, "debug or not") == 0);
  char *e = GC_STRNDUP("debug or not", 5);
  CHECK(e != 0 && strcmp(e, "debug") == 0);
}

static void *uncollectable_link;
static COMPAT_NOINLINE void *make_uncollectable(void) {
  void *u = GC_malloc_uncollectable(100);
  uncollectable_link = u;
  GC_general_register_disappearing_link(&uncollectable_link, u);
  uncollectable_link = (void *)GC_HIDE_POINTER(u);
  return (void *)GC_HIDE_POINTER(u);
}

static void test_malloc_many(void) {
  for (size_t sz = 8; sz <= 256; sz *= 2) {
    void *list = GC_malloc_many(sz);
    CHECK(list != 0);
    int count = 0, ok = 1;
    for (void *p = list; p != 0 && count < 100000; p = GC_NEXT(p)) {
      count++;
      ok &= GC_size(p) >= sz;
      ok &= GC_base(p) == p;
      /* A pointer just past the requested size still points into p (the
       * extra byte, as for GC_malloc). */
      ok &= GC_base((char *)p + sz) == p;
      for (size_t w = 1; w < sz / sizeof(void *); w++) ok &= ((void **)p)[w] == 0;
    }
    CHECK(count > 0);
    CHECK(ok);
  }
}

/* A list of GC_CONS cells reachable only from a static root survives
 * collections with its contents intact. */
static void *cons_list;
static void test_inline(void) {
  void *fl[GC_TINY_FREELISTS] = {0};
  void *afl[GC_TINY_FREELISTS] = {0};
  for (int n = 1; n <= 2 * GC_TINY_FREELISTS + 3; n++) {
    void *r;
    GC_MALLOC_WORDS(r, n, fl);
    CHECK(r != 0);
    CHECK(GC_size(r) >= n * sizeof(void *));
    CHECK(((void **)r)[0] == 0);
    GC_MALLOC_ATOMIC_WORDS(r, n, afl);
    CHECK(r != 0);
    CHECK(GC_size(r) >= n * sizeof(void *));
  }
  /* The link goes in the first word: Boehm GC (interior pointers on)
   * does not trace the last word of objects from these macros, since it
   * expects the client to add a byte for one-past-the-end pointers. */
  for (intptr_t i = 0; i < 10000; i++) {
    void *cell;
    GC_CONS(cell, cons_list, (void *)(i * 2 + 1), fl); /* odd: not a pointer */
    CHECK(cell != 0);
    cons_list = cell;
  }
  compat_collect(2);
  for (int i = 0; i < 20000; i++) GC_malloc(32); /* reuse freed memory */
  intptr_t expect = 9999, bad = 0;
  for (void **c = (void **)cons_list; c != 0 && expect >= -1; c = (void **)c[0], expect--)
    bad += (intptr_t)c[1] != expect * 2 + 1;
  CHECK_EQ(expect, -1);
  CHECK_EQ(bad, 0);
}

static void test_figures(void) {
  GC_word gc_no = GC_get_gc_no();
  size_t total = GC_get_total_bytes();
  for (int i = 0; i < 1000; i++) GC_malloc(100);
  CHECK(GC_get_total_bytes() >= total + 100000);
  GC_gcollect();
  CHECK(GC_get_gc_no() > gc_no);
  CHECK(GC_get_heap_size() > 0);
  CHECK(GC_get_free_bytes() <= GC_get_heap_size());
  GC_word heap = 0, free_b = 0, unmapped = 0, since = 0, tot = 0;
  GC_get_heap_usage_safe(&heap, &free_b, &unmapped, &since, &tot);
  CHECK(heap > 0);
  CHECK(tot >= 100000);
  GC_get_heap_usage_safe(0, 0, 0, 0, 0);
  struct GC_prof_stats_s st;
  memset(&st, 0, sizeof st);
  CHECK_EQ(GC_get_prof_stats(&st, sizeof st), sizeof st);
  CHECK(st.heapsize_full > 0);
  CHECK(st.gc_no >= gc_no + 1);
  CHECK(st.heapsize_full >= st.free_bytes_full);
  /* Reclaimed bytes are counted: garbage, a collection, allocation that
   * sweeps, twice over. */
  for (int round = 0; round < 2; round++) {
    for (int i = 0; i < 100000; i++) GC_malloc(64);
    GC_gcollect();
    for (int i = 0; i < 100000; i++) GC_malloc(64);
  }
  CHECK_EQ(GC_get_prof_stats(&st, sizeof st), sizeof st);
  CHECK(st.reclaimed_bytes_before_gc != ~(GC_word)0);
  CHECK(st.bytes_reclaimed_since_gc != ~(GC_word)0);
  CHECK(st.reclaimed_bytes_before_gc + st.bytes_reclaimed_since_gc >= (GC_word)1 << 20);
  /* A caller that knows fewer fields gets only those. */
  GC_word first[2] = {0, 12345};
  CHECK_EQ(GC_get_prof_stats((struct GC_prof_stats_s *)first, sizeof(GC_word)), sizeof(GC_word));
  CHECK(first[1] == 12345);
  CHECK(GC_get_version() == ((GC_VERSION_MAJOR << 16) | (GC_VERSION_MINOR << 8) | GC_VERSION_MICRO));
}

/* 200 times over, a buffer of doubles grows from 128 bytes to 2 MiB by
 * doubling, and each old buffer is freed with GC_FREE as soon as it is
 * copied; stale copies of the freed pointers stay in registers and on
 * the stack.  No more than 2 MiB is ever live.  The heap held 227 MB
 * at the end when freed runs were never joined, and 100 MB in some runs
 * when black-listed pages (hit by those stale pointers) kept a whole
 * free run from serving a request; Boehm GC 6.5 MB. */
static void test_growing_buffers(void) {
  size_t heap_before = GC_get_heap_size();
  for (int round = 0; round < 200; round++) {
    size_t cap = 16, n = 0;
    double *v = (double *)GC_MALLOC_ATOMIC(cap * sizeof *v);
    CHECK(v != 0);
    for (long i = 0; i < 200000; i++) {
      if (n == cap) {
        double *w = (double *)GC_MALLOC_ATOMIC(2 * cap * sizeof *v);
        CHECK(w != 0);
        memcpy(w, v, n * sizeof *v);
        GC_FREE(v);
        v = w;
        cap *= 2;
      }
      v[n++] = (double)i;
    }
    CHECK(v[n - 1] == 199999.0);
    GC_FREE(v);
  }
  size_t heap_after = GC_get_heap_size();
  CHECK(heap_after < heap_before + ((size_t)48 << 20));
  if (heap_after >= heap_before + ((size_t)48 << 20))
    printf("growing buffers: heap %zu -> %zu bytes\n", heap_before, heap_after);
}

/* A buffer copied into one 112 bytes larger at each of 4000 steps, from
 * 240000 bytes up, the old one freed with GC_FREE each time (Asymptote
 * extending a path).  Under 700 KB is ever live.  Spans of one object
 * (classes from 224 KiB) kept a freed one for their class until the next
 * collection, while the size moved on to the next class: with no
 * collection the heap grew by 9.7 MB; Boehm GC's by 3.1 MB, pargc's by
 * 1.9 MB now. */
static void test_creeping_buffer(void) {
  /* No collection on the way: what the freed buffers leave is all that
   * the larger ones can reuse. */
  GC_disable();
  size_t heap_before = GC_get_heap_size();
  size_t n = 240000;
  char *p = (char *)GC_MALLOC_ATOMIC(n);
  CHECK(p != 0);
  memset(p, 1, n);
  for (int i = 1; i < 4000; i++) {
    char *q = (char *)GC_MALLOC_ATOMIC(n + 112);
    CHECK(q != 0);
    memcpy(q, p, n);
    q[n + 111] = (char)i; /* the last byte */
    GC_FREE(p);
    p = q;
    n += 112;
  }
  CHECK(p[0] == 1 && p[n - 1] == (char)3999);
  GC_FREE(p);
  size_t heap_after = GC_get_heap_size();
  GC_enable();
#ifndef GC_DEBUG
  /* (Boehm GC's debugging free leaves the memory to a collection: its
   * heap grew by 1.9 GB here.) */
  CHECK(heap_after < heap_before + ((size_t)5 << 20));
  if (heap_after >= heap_before + ((size_t)5 << 20))
    printf("creeping buffer: heap %zu -> %zu bytes\n", heap_before, heap_after);
#else
  (void)heap_before;
  (void)heap_after;
#endif
}

int main(void) {
  GC_INIT();
  test_queries();
  make_interior();
  void *hidden_u = make_uncollectable();
  compat_collect(3);
  CHECK(interior_link != 0); /* kept by interior_root */
  CHECK(GC_base(interior_root) == GC_REVEAL_POINTER((GC_word)interior_link));
  CHECK(uncollectable_link != 0); /* uncollectable, no reference */
  GC_free(GC_REVEAL_POINTER((GC_word)hidden_u));
  test_realloc();
  test_memalign_strdup();
  test_malloc_many();
  test_inline();
  test_figures();
  test_growing_buffers();
  test_creeping_buffer();
  return CHECK_SUMMARY();
}
