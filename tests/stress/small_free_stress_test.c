/* Stress: the inline free fast path racing with collections and remote
 * frees.  Two threads run the mixed malloc-style step (free what a random
 * slot holds, put a new object of 8..128 B there) over private slot
 * arrays, so that frees land on the current page, on avail pages and on
 * full pages in random order.  Each also allocates garbage (so that the
 * other's collections interrupt its lazy sweeps, with
 * GC_FREE_SPACE_DIVISOR=30) and posts some of its objects to a mailbox
 * that the other thread frees (remote frees into pages that may be
 * current, avail or full for their owner).
 *
 * Every object carries its requested size in its first byte and a byte
 * derived from its address elsewhere: an object handed out twice (on two
 * free lists, or freed by a sweep while live) shows as a broken pattern
 * or as a new object that is not all zero. */
#include "config.h"
#include <gc.h>
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { T = 2, SLOTS = 8192, OPS = 1000000, MAILBOX = 256 };

static unsigned char *slots[T][SLOTS]; /* static: roots for the collector */
static _Atomic(unsigned char *) mailbox[T][MAILBOX]; /* [to][i] */
static _Atomic long broken, remote_frees;

static unsigned char tag_of(const unsigned char *p)
{
  return (unsigned char)(1 + ((uintptr_t)p >> 4) % 251);
}

static void check_and_free(unsigned char *p)
{
  size_t n = p[0];
  unsigned char tag = tag_of(p);
  if (n < 8 || n > 128) {
    broken++;
    return; /* freeing a broken object would only spread the damage */
  }
  for (size_t i = 1; i < n; i++)
    if (p[i] != tag) {
      broken++;
      return;
    }
  GC_FREE(p);
}

static unsigned char *new_object(size_t n)
{
  unsigned char *p = GC_MALLOC(n);
  if (!p) {
    broken++;
    return NULL;
  }
  for (size_t i = 0; i < n; i++)
    if (p[i]) {
      broken++;
      break;
    }
  memset(p, tag_of(p), n);
  p[0] = (unsigned char)n;
  return p;
}

static void *worker(void *arg)
{
  uintptr_t id = (uintptr_t)arg, other = (id + 1) % T;
  uint64_t x = 0x9E3779B97F4A7C15ull * (id + 1);
  for (int op = 0; op < OPS; op++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    size_t s = x % SLOTS;
    if (slots[id][s])
      check_and_free(slots[id][s]);
    slots[id][s] = new_object(8 + (x >> 32) % 121);
    if (op % 8 == 0)
      GC_MALLOC(16 + (x >> 48) % 113); /* garbage: drives collections */
    if (op % 64 == 0 && slots[id][s]) {
      /* Hand this one to the other thread to free. */
      unsigned char *old = atomic_exchange(&mailbox[other][(x >> 20) % MAILBOX], slots[id][s]);
      slots[id][s] = NULL;
      if (old) {
        check_and_free(old); /* we posted it; the other did not take it yet */
      }
    }
    if (op % 16 == 0) {
      unsigned char *p = atomic_exchange(&mailbox[id][(x >> 28) % MAILBOX], NULL);
      if (p) {
        check_and_free(p);
        remote_frees++;
      }
    }
  }
  return NULL;
}

int main(void)
{
  setenv("GC_FREE_SPACE_DIVISOR", "30", 0);
  GC_INIT();
  check_run_threads(T, worker);
  CHECK_EQ(broken, 0);
  CHECK(remote_frees > 1000);
  CHECK(GC_get_gc_no() > 20);
  printf("%lu collections, %ld remote frees\n", (unsigned long)GC_get_gc_no(),
         (long)remote_frees);
  return CHECK_SUMMARY();
}
