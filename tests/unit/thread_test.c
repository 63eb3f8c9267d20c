/* Unit test for alloc/thread: the fast path hands out zeroed, distinct
 * objects of the right class; explicit free is reused at once; frees from
 * another thread come back through the remote list; bad and double frees
 * are reported and ignored; large objects work. */
#include "config.h"
#include "alloc/options.h"
#include "alloc/page.h"
#include "alloc/thread.h"
#include "check.h"

#include <pthread.h>
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
    struct pargc_page *pg;
    CHECK(pargc_pagemap_object((uintptr_t)a + s - 1, &pg) >= 0);
    CHECK(pg->size >= s);
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
  size_t committed = atomic_load(&pargc_heap.committed);
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
  CHECK(atomic_load(&pargc_heap.committed) <= committed + 1);
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

int main(void)
{
  setenv("PARGC_HEAP_RESERVE", "4G", 1);
  pargc_report_set_warn(capture);
  test_sizes();
  test_reuse_and_zero();
  test_remote_free();
  test_bad_frees();
  return CHECK_SUMMARY();
}
