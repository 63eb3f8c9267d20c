/* Stress: explicit free racing with collections.  Two threads toggle
 * patterned objects (mostly 8-34 KiB, some of 16-216 B) over private
 * slot arrays (free when full, allocate when empty), with GC_FREE_SPACE_DIVISOR=30 so that other
 * threads' collections interrupt lazy sweeps constantly.  A sweep stopped
 * half-way by a collection once read two different sets of mark bits and
 * linked an object twice (a free-list cycle): two live objects then shared
 * memory, caught here as a broken pattern, or a crash. */
#include "config.h"
#include <gc.h>
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { T = 2, SLOTS = 2048, OPS = 400000 };

static void *slots[T][SLOTS]; /* static: the collector sees them as roots */
static size_t sizes[T][SLOTS];
static _Atomic long broken;

static void *worker(void *arg)
{
  uintptr_t id = (uintptr_t)arg;
  uint64_t x = 0x9E3779B97F4A7C15ull * (id + 1);
  for (int op = 0; op < OPS; op++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    size_t s = x % SLOTS;
    unsigned char tag = (unsigned char)(1 + (id * 61 + s) % 251);
    if (slots[id][s]) {
      const unsigned char *p = slots[id][s];
      for (size_t i = 0; i < sizes[id][s]; i += 61)
        if (p[i] != tag) {
          broken++;
          break;
        }
      GC_FREE(slots[id][s]);
      slots[id][s] = NULL;
    } else {
      size_t n = (x >> 40) % 8 ? 8192 + (x >> 20) % 26624 : 16 + (x >> 20) % 200;
      unsigned char *p = GC_MALLOC(n);
      if (!p) {
        broken++;
        continue;
      }
      memset(p, tag, n);
      sizes[id][s] = n;
      slots[id][s] = p;
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
  CHECK(GC_get_gc_no() > 20);
  printf("%lu collections\n", (unsigned long)GC_get_gc_no());
  return CHECK_SUMMARY();
}
