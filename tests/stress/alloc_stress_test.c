/* Stress: 10 threads with very uneven allocation (one thread allocates 50x
 * more than the others), freeing explicitly, half of the frees done by a
 * different thread than the allocating one (remote frees), all objects
 * patterned and checked before being freed.  Collection is disabled so
 * only explicit free recycles memory: any double hand-out corrupts a
 * pattern. */
#include "config.h"
#include <gc.h>
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { T = 10, SLOTS = 4096 };

/* Mailboxes: thread i leaves objects for thread (i+1) % T to free. */
static _Atomic(uintptr_t) mailbox[T][64];
static _Atomic long bad;
static _Atomic size_t allocated_bytes;

static void fill(unsigned char *p, size_t n, unsigned char tag)
{
  memset(p, tag, n);
}

static int intact(const unsigned char *p, size_t n, unsigned char tag)
{
  for (size_t i = 0; i < n; i++)
    if (p[i] != tag)
      return 0;
  return 1;
}

struct slot {
  unsigned char *p;
  size_t n;
  unsigned char tag;
};

static void *worker(void *arg)
{
  uintptr_t id = (uintptr_t)arg;
  struct slot *slots = calloc(SLOTS, sizeof *slots);
  unsigned seed = (unsigned)id * 7919u + 1;
  long ops = id == 0 ? 1000000 : 20000;
  for (long op = 0; op < ops; op++) {
    unsigned r = rand_r(&seed);
    struct slot *s = &slots[r % SLOTS];
    if (s->p) {
      if (!intact(s->p, s->n, s->tag))
        bad++;
      /* Half the time hand it to the neighbour to free. */
      _Atomic(uintptr_t) *box = &mailbox[(id + 1) % T][r % 64];
      uintptr_t expected = 0;
      if ((r & 1) && atomic_compare_exchange_strong(box, &expected, (uintptr_t)s->p)) {
        /* the neighbour frees it */
      } else {
        GC_FREE(s->p);
      }
      s->p = NULL;
    } else {
      size_t n = (r >> 8) % 100 == 0 ? 20000 + (r >> 12) % 60000 : 8 + (r >> 8) % 120;
      s->p = GC_MALLOC(n);
      if (!s->p || !intact(s->p, n, 0))
        bad++;
      s->n = n;
      allocated_bytes += n;
      s->tag = (unsigned char)(1 + r % 250);
      fill(s->p, n, s->tag);
    }
    /* Free what the neighbour left for us. */
    uintptr_t m = atomic_exchange(&mailbox[id][op % 64], 0);
    if (m)
      GC_FREE((void *)m);
  }
  for (int i = 0; i < SLOTS; i++)
    if (slots[i].p) {
      if (!intact(slots[i].p, slots[i].n, slots[i].tag))
        bad++;
      GC_FREE(slots[i].p);
    }
  free(slots);
  return NULL;
}

int main(void)
{
  GC_INIT(); /* collects once, as Boehm GC's does */
  GC_disable();
  unsigned long collections = GC_get_gc_no();
  check_run_threads(T, worker);
  for (int i = 0; i < T; i++)
    for (int j = 0; j < 64; j++) {
      uintptr_t m = atomic_exchange(&mailbox[i][j], 0);
      if (m)
        GC_FREE((void *)m);
    }
  CHECK_EQ(bad, 0);
  CHECK_EQ(GC_get_gc_no(), collections);
  printf("heap %zu KiB after 1.2M operations\n", GC_get_heap_size() >> 10);
  /* Recycling worked: the heap is far smaller than everything allocated. */
  printf("allocated %zu KiB in all\n", allocated_bytes >> 10);
  CHECK(GC_get_heap_size() < allocated_bytes / 4);
  return CHECK_SUMMARY();
}
