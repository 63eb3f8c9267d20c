/* Unit test for alloc/thread: the fast path hands out zeroed, distinct
 * objects of the right class; explicit free is reused at once; frees from
 * another thread come back through the remote list; bad and double frees
 * are reported and ignored; large objects work; every branch of the
 * inline free fast path (current page, avail page, full page, tail page
 * of a multi-page span, uncollectable kind) frees exactly once; another
 * thread moving a lagging context to a new epoch while its owner refills
 * (the claim protocol of alloc/thread.h) leaves its lists whole and its
 * new objects zeroed; a sleeping context helped along twice gives back
 * the spans the second collection found empty; spans of one object, and
 * idle current spans, go back before any sweep. */
#include "config.h"
#include "alloc/options.h"
#include "alloc/page.h"
#include "alloc/thread.h"
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static char warnings[8192];
static void capture(char *msg, uintptr_t arg)
{
  (void)arg;
  strncat(warnings, msg, sizeof warnings - strlen(warnings) - 1);
}

static bool all_zero(const void *p, size_t n)
{
  const unsigned char *b = p;
  for (size_t i = 0; i < n; i++)
    if (b[i])
      return false;
  return true;
}

static void test_sizes(void)
{
  static const size_t sizes[] = {1, 8, 16, 17, 100, 1000, 4096, 20000, 70000, 300000,
                                 PARGC_SMALL_MAX, PARGC_SMALL_MAX + 1, 3 << 20};
  for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    size_t s = sizes[i];
    unsigned char *a = pargc_alloc(s, PARGC_KIND_NORMAL);
    unsigned char *b = pargc_alloc(s, PARGC_KIND_NORMAL);
    CHECK(a && b && a != b);
    CHECK(all_zero(a, s) && all_zero(b, s));
    memset(a, 0x5A, s);
    CHECK(b[0] == 0 && b[s - 1] == 0);
    struct pargc_page *pg = NULL;
    CHECK(pargc_pagemap_object((uintptr_t)a + s - 1, &pg) >= 0);
    CHECK(pg && pg->size >= s);
    CHECK(pargc_free(a));
    CHECK(pargc_free(b));
  }
}

static void test_reuse_and_zero(void)
{
  char *p = pargc_alloc(32, PARGC_KIND_NORMAL);
  memset(p, 0xFF, 32);
  CHECK(pargc_free(p));
  char *q = pargc_alloc(32, PARGC_KIND_NORMAL);
  CHECK(q == p);             /* LIFO reuse on the owner's list */
  CHECK(all_zero(q, 32));    /* zeroed on free */
  /* Atomic objects are not zeroed but are distinct. */
  char *x = pargc_alloc(64, PARGC_KIND_ATOMIC), *y = pargc_alloc(64, PARGC_KIND_ATOMIC);
  CHECK(x && y && x != y);
}

#define NREMOTE 20000
static void *objs[NREMOTE];

static void *remote_freer(void *arg)
{
  (void)arg;
  for (int i = 0; i < NREMOTE; i++)
    CHECK(pargc_free(objs[i]));
  return NULL;
}

static void test_remote_free(void)
{
  for (int i = 0; i < NREMOTE; i++) {
    objs[i] = pargc_alloc(48, PARGC_KIND_NORMAL);
    memset(objs[i], 7, 48);
  }
  size_t committed = pargc_heap_committed_pages();
  pthread_t t;
  pthread_create(&t, NULL, remote_freer, NULL);
  pthread_join(t, NULL);
  /* Allocating as many again reuses the remotely freed objects: the heap
   * grows by at most one span (the current page's neighbours). */
  int reused = 0;
  for (int i = 0; i < NREMOTE; i++) {
    void *p = pargc_alloc(48, PARGC_KIND_NORMAL);
    CHECK(all_zero(p, 48));
    for (int j = 0; j < 4; j++)
      if (p == objs[(i + j) % NREMOTE])
        reused++;
  }
  CHECK(pargc_heap_committed_pages() <= committed + 1);
  CHECK(reused > 0);
}

static void test_bad_frees(void)
{
  warnings[0] = 0;
  int local;
  CHECK(!pargc_free(&local));
  CHECK(strstr(warnings, "not the start of an allocated heap object") != NULL);
  char *p = pargc_alloc(100, PARGC_KIND_NORMAL);
  warnings[0] = 0;
  CHECK(!pargc_free(p + 8));
  CHECK(strstr(warnings, "not the start") != NULL);
  CHECK(pargc_free(p));
  warnings[0] = 0;
  CHECK(!pargc_free(p)); /* double free */
  CHECK(strstr(warnings, "already free") != NULL);
  void *big = pargc_alloc(2 << 20, PARGC_KIND_NORMAL);
  CHECK(pargc_free(big));
  warnings[0] = 0;
  CHECK(!pargc_free(big));
  CHECK(warnings[0] != 0);
}

/* The free fast path handles the owner's current and avail pages; full
 * pages, tails of multi-page spans and uncollectable kinds go to the slow
 * path.  Each must zero the object, hand it out again before the heap
 * grows, and report a second free of it. */
#define NFILL 3000 /* 64-byte objects: about three one-page spans */
static void *fill[NFILL];

static void expect_double_free_reported(void *p)
{
  warnings[0] = 0;
  CHECK(!pargc_free(p));
  CHECK(strstr(warnings, "already free") != NULL);
}

static void test_free_paths(void)
{
  for (int i = 0; i < NFILL; i++) {
    fill[i] = pargc_alloc(64, PARGC_KIND_NORMAL);
    memset(fill[i], 0xA5, 64);
  }
  struct pargc_page *first = NULL, *last = NULL;
  CHECK(pargc_pagemap_object((uintptr_t)fill[0], &first) == 0);
  CHECK(pargc_pagemap_object((uintptr_t)fill[NFILL - 1], &last) >= 0);
  CHECK(first != last);
  CHECK(first->nobjs < NFILL);
  CHECK_EQ(last->list, PARGC_LIST_CUR);
  /* The first span filled up and was left for another: full. */
  CHECK_EQ(first->list, PARGC_LIST_FULL);
  CHECK(pargc_free(fill[0])); /* slow path: full -> avail */
  CHECK_EQ(first->list, PARGC_LIST_AVAIL);
  CHECK(pargc_free(fill[1])); /* fast path, onto the page's own list */
  CHECK(first->free == (void **)fill[1]);
  CHECK(pargc_free(fill[NFILL - 1])); /* fast path, the current page */
  expect_double_free_reported(fill[0]);
  expect_double_free_reported(fill[1]);
  expect_double_free_reported(fill[NFILL - 1]);
  CHECK(all_zero((char *)fill[1] + 8, 56) && all_zero((char *)fill[NFILL - 1] + 8, 56));
  /* Reuse: the current page's object first, then the avail page's. */
  size_t committed = pargc_heap_committed_pages();
  char *a = pargc_alloc(64, PARGC_KIND_NORMAL);
  CHECK(a == fill[NFILL - 1]);
  CHECK(all_zero(a, 64));
  int found = 0;
  for (int i = 0; i < 4096 && found < 2; i++) {
    char *b = pargc_alloc(64, PARGC_KIND_NORMAL);
    CHECK(all_zero(b, 64));
    found += b == fill[0] || b == fill[1];
  }
  CHECK_EQ(found, 2);
  CHECK(pargc_heap_committed_pages() <= committed + 1);

  /* An object in the second page of a multi-page span: slow path. */
  size_t big = 40000; /* 40 KiB class: three objects in two pages */
  CHECK(pargc_sizeclasses[pargc_sizeclass_of(big)].pages > 1);
  char *objs[8];
  for (int i = 0; i < 8; i++) {
    objs[i] = pargc_alloc(big, PARGC_KIND_NORMAL);
    memset(objs[i], 0x3C, big);
  }
  struct pargc_page *head = NULL;
  int tail = -1;
  for (int i = 0; i < 8; i++) {
    CHECK(pargc_pagemap_object((uintptr_t)objs[i], &head) >= 0);
    if ((uintptr_t)objs[i] - pargc_page_addr(head) >= PARGC_PAGE_SIZE)
      tail = i;
  }
  CHECK(tail >= 0);
  if (tail >= 0) {
    CHECK(pargc_free(objs[tail]));
    expect_double_free_reported(objs[tail]);
    bool reused = false;
    for (int i = 0; i < 4 && !reused; i++) {
      char *again = pargc_alloc(big, PARGC_KIND_NORMAL);
      reused = again == objs[tail];
      CHECK(all_zero(again, big));
    }
    CHECK(reused);
  }

  /* Uncollectable: the slow path clears the "allocated" mark bit. */
  void *u = pargc_alloc_slow(48, PARGC_KIND_UNCOLLECTABLE);
  struct pargc_page *upg = NULL;
  int32_t ui = pargc_pagemap_object((uintptr_t)u, &upg);
  CHECK(ui >= 0 && pargc_mark_test(pargc_page_marks(upg), (uint32_t)ui));
  CHECK(pargc_free(u));
  CHECK(!pargc_mark_test(pargc_page_marks(upg), (uint32_t)ui));
  expect_double_free_reported(u);
}

/* The owner allocates while a "collector" bumps the epoch and helps
 * lagging contexts.  Without a collector no object is marked, so every
 * page the helper reaches is empty and released: the owner keeps no
 * object and frees none, and checks only that each new one is zero
 * (the released pages are formatted again, zeroed).
 * (Run under ThreadSanitizer: README, "Sanitizer builds".) */
#define LAG_ALLOCS 200000
static atomic_int lag_owner_done;
static atomic_long lag_nonzero;

static void *lag_owner(void *arg)
{
  (void)arg;
  for (long i = 0; i < LAG_ALLOCS; i++) {
    size_t size = 16 + (size_t)(i % 7) * 48;
    char *p = pargc_alloc(size, PARGC_KIND_NORMAL);
    if (!p || !all_zero(p, size))
      atomic_fetch_add(&lag_nonzero, 1);
    else
      memset(p, 0x5a, size); /* dead at once: its next use must see zeros */
  }
  atomic_store(&lag_owner_done, 1);
  return NULL;
}

static void test_lagging_claims(void)
{
  pthread_t t;
  pthread_create(&t, NULL, lag_owner, NULL);
  long moved = 0;
  while (!atomic_load(&lag_owner_done)) {
    atomic_fetch_add(&pargc_epoch, 1);
    moved += pargc_tctx_help_lagging(NULL);
  }
  pthread_join(t, NULL);
  CHECK(atomic_load(&lag_nonzero) == 0);
  CHECK(moved > 0);
}

/* A thread fills spans and sleeps.  A first "collection" finds an
 * object of its first span live; helping the context along moves the
 * span to unswept.  A second finds it dead: helping along again must
 * release the span, although the context's avail and full lists are
 * empty by then.  (It stayed unswept, resident, until its sleeping
 * owner allocated again.) */
#define NNAP 3000 /* 64-byte objects: about three one-page spans */
static void *nap_objs[NNAP];
static pthread_mutex_t nap_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t nap_cond = PTHREAD_COND_INITIALIZER;
static int nap_state; /* 1: filled, asleep; 2: wake up */

static void nap_set(int state)
{
  pthread_mutex_lock(&nap_lock);
  nap_state = state;
  pthread_cond_broadcast(&nap_cond);
  pthread_mutex_unlock(&nap_lock);
}

static void nap_wait(int state)
{
  pthread_mutex_lock(&nap_lock);
  while (nap_state != state)
    pthread_cond_wait(&nap_cond, &nap_lock);
  pthread_mutex_unlock(&nap_lock);
}

static void *napper(void *arg)
{
  (void)arg;
  for (int i = 0; i < NNAP; i++)
    nap_objs[i] = pargc_alloc(64, PARGC_KIND_NORMAL);
  nap_set(1);
  nap_wait(2); /* asleep, out of the allocator */
  return NULL;
}

static void test_sleeping_unswept(void)
{
  pthread_t t;
  pthread_create(&t, NULL, napper, NULL);
  nap_wait(1);

  struct pargc_page *pg = NULL;
  int32_t i = pargc_pagemap_object((uintptr_t)nap_objs[0], &pg);
  CHECK(i >= 0);
  CHECK_EQ(pg->list, PARGC_LIST_FULL);
  uint64_t *marks = (uint64_t *)pargc_page_sweep_marks(pg);
  uint64_t bit = (uint64_t)1 << (i % 64);
  marks[i / 64] |= bit; /* the first object live */
  atomic_fetch_add(&pargc_epoch, 1);
  CHECK(pargc_tctx_help_lagging(NULL));
  CHECK_EQ(atomic_load(&pg->state), PARGC_PAGE_SMALL);
  CHECK_EQ(pg->list, PARGC_LIST_UNSWEPT);
  marks[i / 64] &= ~bit; /* dead */
  atomic_fetch_add(&pargc_epoch, 1);
  CHECK(pargc_tctx_help_lagging(NULL));
  CHECK(atomic_load(&pg->state) != PARGC_PAGE_SMALL);

  nap_set(2);
  pthread_join(t, NULL);
}

/* Spans given back before the next sweep: a span of one object when that
 * object is freed (from the full list or as the current page), and a
 * current span whose objects are all free once a collection has passed
 * (the owner's next look at the epoch).  Last: the epoch bump releases
 * every unmarked span of this thread, the earlier tests' too. */
static void test_spans_given_back(void)
{
  size_t one = 300000; /* a class of one object per span */
  CHECK_EQ(pargc_sizeclasses[pargc_sizeclass_of(one)].nobjs, 1);
  char *a = pargc_alloc(one, PARGC_KIND_NORMAL), *b = pargc_alloc(one, PARGC_KIND_NORMAL);
  struct pargc_page *pa = NULL, *pb = NULL;
  CHECK(pargc_pagemap_object((uintptr_t)a, &pa) == 0 && pargc_pagemap_object((uintptr_t)b, &pb) == 0);
  CHECK_EQ(pa->list, PARGC_LIST_FULL);
  CHECK_EQ(pb->list, PARGC_LIST_CUR);
  CHECK(pargc_free(a));
  CHECK_EQ(atomic_load(&pa->state), PARGC_PAGE_FREE);
  CHECK(pargc_free(b));
  CHECK_EQ(atomic_load(&pb->state), PARGC_PAGE_FREE);
  warnings[0] = 0;
  CHECK(!pargc_free(b)); /* its span is gone: not an object any more */
  CHECK(strstr(warnings, "not the start of an allocated") != NULL);

  size_t few = 40000; /* three objects in two pages */
  CHECK_EQ(pargc_sizeclasses[pargc_sizeclass_of(few)].nobjs, 3);
  char *c = pargc_alloc(few, PARGC_KIND_NORMAL), *d = pargc_alloc(few, PARGC_KIND_NORMAL);
  struct pargc_page *pc = NULL, *pd = NULL;
  CHECK(pargc_pagemap_object((uintptr_t)c, &pc) >= 0 && pargc_pagemap_object((uintptr_t)d, &pd) >= 0);
  CHECK(pc == pd && pc->list == PARGC_LIST_CUR);
  CHECK(pargc_free(c) && pargc_free(d));
  CHECK_EQ(atomic_load(&pc->state), PARGC_PAGE_SMALL); /* a class in use keeps its span */
  atomic_fetch_add(&pargc_epoch, 1);
  pargc_tctx_adjust_epoch(pargc_tctx_current);
  CHECK_EQ(atomic_load(&pc->state), PARGC_PAGE_FREE);
  /* The class starts over on a span of its own. */
  char *e = pargc_alloc(few, PARGC_KIND_NORMAL);
  CHECK(e != NULL && all_zero(e, few));
}

int main(void)
{
  setenv("PARGC_HEAP_RESERVE", "4G", 1);
  pargc_report_set_warn(capture);
  test_sizes();
  test_reuse_and_zero();
  test_remote_free();
  test_bad_frees();
  test_free_paths();
  test_lagging_claims();
  test_sleeping_unswept();
  test_spans_given_back();
  return CHECK_SUMMARY();
}
