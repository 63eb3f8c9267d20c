/* GC_malloc_many and GC_generic_malloc_many under collections: three
 * threads take batches (the allocator hands out part of the thread's
 * free list at once), stamp every object with its owner and position,
 * keep the batches in a ring for a while and check the stamps before
 * dropping them, while collections run -- concurrent cycles too, under
 * tests/stress/concurrent_test.sh.  An object handed out twice, or freed
 * while a batch still holds it, shows as a wrong stamp or a crash.  A
 * batch taken while a cycle stops the world must leave the thread's own
 * list whole: the cycle walks it (black allocation). */
#include "config.h"
#include <gc.h>
#include <gc/gc_inline.h>
#include <gc/gc_mark.h>
#include "check.h"

#include <pthread.h>
#include <stdint.h>

enum { THREADS = 3, ROUNDS = 6000, RING = 64 };

struct obj {
  struct obj *next; /* GC_NEXT link, as handed out */
  uintptr_t stamp;
  void *child;      /* a fresh object only this one references */
};

static long broken;

static uintptr_t stamp_of(uintptr_t t, uintptr_t round, uintptr_t i)
{
  return (t << 48) ^ (round << 16) ^ i ^ 0x5a5a;
}

static void *worker(void *arg)
{
  uintptr_t t = (uintptr_t)arg;
  struct obj *ring[RING] = {0};
  uintptr_t ring_round[RING] = {0};
  for (uintptr_t r = 0; r < ROUNDS; r++) {
    unsigned slot = (unsigned)(r % RING);
    /* Check the batch this slot held, then replace it. */
    uintptr_t i = 0;
    for (struct obj *o = ring[slot]; o; o = o->next, i++) {
      if (o->stamp != stamp_of(t, ring_round[slot], i) ||
          ((uintptr_t *)o->child)[0] != o->stamp)
        __atomic_fetch_add(&broken, 1, __ATOMIC_RELAXED);
    }
    void *list;
    size_t sz = sizeof(struct obj) + (r % 3) * 16;
    if (r % 2)
      list = GC_malloc_many(sz);
    else
      GC_generic_malloc_many(sz + 16 - sz % 16, GC_I_NORMAL, &list);
    CHECK(list != NULL);
    i = 0;
    for (struct obj *o = list; o; o = o->next, i++) {
      o->stamp = stamp_of(t, r, i);
      uintptr_t *c = GC_MALLOC_ATOMIC(sizeof(uintptr_t) * 2);
      c[0] = o->stamp;
      o->child = c;
    }
    ring[slot] = list;
    ring_round[slot] = r;
    if (r % 500 == 0 && t == 0)
      GC_gcollect();
  }
  return NULL;
}

int main(void)
{
  GC_INIT();
  pthread_t th[THREADS];
  for (uintptr_t i = 0; i < THREADS; i++)
    CHECK_EQ(pthread_create(&th[i], NULL, worker, (void *)i), 0);
  for (int i = 0; i < THREADS; i++)
    CHECK_EQ(pthread_join(th[i], NULL), 0);
  CHECK_EQ(broken, 0);
  return CHECK_SUMMARY();
}
