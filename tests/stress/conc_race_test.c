/* Stress: the lost-object race of concurrent marking.
 *
 * While the concurrent collector marks, mutator threads keep moving the
 * only reference to an object between places the marker may or may not
 * have scanned yet -- slots of two ordinary arrays and of an
 * uncollectable one (a root by its kind), and fields of list nodes --
 * and clear the old place: the store a write barrier must catch.  One
 * more thread keeps read()ing from a pipe into GC_MALLOC buffers that
 * nothing else writes, which page protection must not turn into EFAULT.  Other threads
 * allocate garbage so that cycles run back to back.  Every object carries
 * its own id and a checksum; a freed object would be zeroed or reused,
 * and the checks (plus PARGC_VERIFY, on by default here) catch it.
 *
 *   conc_race_test [seconds-of-rounds]   (default: 40 rounds per thread)
 *
 * Runs in concurrent mode with the barrier from PARGC_BARRIER (auto by
 * default); with PARGC_BARRIER=manual every heap store goes through
 * GC_PTR_STORE_AND_DIRTY, so the same program tests the manual barrier.
 */
#include "config.h"
#include <gc.h>
#include "check.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SLOTS 20000
#define MOVERS 3
#define ALLOCATORS 2

struct obj {
  uintptr_t id, check;
  struct obj *next; /* a short chain hangs off every object */
};

static struct obj **from_arr, **to_arr;
/* A third array, uncollectable, whose address is kept only hidden: its
 * contents are roots because of its kind, not because it is reachable. */
static uintptr_t unc_hidden;
#define UNC_ARR ((struct obj **)(unc_hidden ^ 0x5555555555555555ull))
static int rounds = 40;
static _Atomic long moved;

static uintptr_t checksum(uintptr_t id) { return id * 0x9E3779B97F4A7C15ull ^ 0x5bd1e995u; }

static inline void store(void *slot, void *value)
{
  GC_PTR_STORE_AND_DIRTY(slot, value);
}

static struct obj *make(uintptr_t id)
{
  struct obj *o = GC_MALLOC(sizeof *o);
  CHECK(o != NULL);
  o->id = id;
  o->check = checksum(id);
  struct obj *tail = GC_MALLOC(sizeof *tail);
  tail->id = id + 1;
  tail->check = checksum(id + 1);
  store(&o->next, tail);
  GC_reachable_here(tail);
  return o;
}

static int valid(const struct obj *o)
{
  return o && o->check == checksum(o->id) && o->next && o->next->id == o->id + 1 &&
         o->next->check == checksum(o->id + 1);
}

static uint64_t rng_next(uint64_t *s)
{
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

/* Each mover owns slots [lo, hi) of both arrays: it moves objects back
 * and forth between them, the only reference passing through a
 * register, and checks every object it moves. */
static void *mover(void *arg)
{
  long t = (long)arg;
  long lo = t * (SLOTS / MOVERS), hi = lo + SLOTS / MOVERS;
  uint64_t rng = 0x1234567ull * (uint64_t)(t + 1);
  long bad = 0;
  for (int r = 0; r < rounds; r++) {
    for (long k = 0; k < 20 * (hi - lo); k++) {
      long i = lo + (long)(rng_next(&rng) % (uint64_t)(hi - lo));
      uint64_t pick = rng_next(&rng) % 3, other = (pick + 1 + (rng_next(&rng) & 1)) % 3;
      struct obj **arrs[3] = {from_arr, to_arr, UNC_ARR};
      struct obj **a = arrs[pick], **b = arrs[other];
      struct obj *o = a[i];
      if (!o)
        continue;
      store(&a[i], NULL);
      if (!valid(o))
        bad++;
      /* Sometimes move the chain's tail instead: a reference moved out
       * of an object field. */
      if ((rng_next(&rng) & 7) == 0) {
        struct obj *tail = o->next;
        store(&o->next, NULL);
        struct obj *fresh = GC_MALLOC(sizeof *fresh);
        fresh->id = o->id;
        fresh->check = o->check;
        store(&fresh->next, tail);
        o = fresh;
      }
      if (b[i]) {
        if (!valid(b[i]))
          bad++;
        store(&a[i], b[i]);
      }
      store(&b[i], o);
      moved++;
    }
  }
  CHECK_EQ(bad, 0);
  return NULL;
}

static _Atomic int stop_allocating;

/* System calls writing into scanned heap objects while cycles run (with
 * the mprotect barrier, into pages that may be protected): every read
 * must succeed and deliver the bytes written. */
static long io_rounds, io_bad;

static void *io_thread(void *arg)
{
  (void)arg;
  int fds[2];
  if (pipe(fds) != 0) {
    io_bad++;
    return NULL;
  }
  char msg[3000];
  for (size_t i = 0; i < sizeof msg; i++)
    msg[i] = (char)(i * 13 + 1);
  /* Buffers allocated once and then written only by read(): every cycle
   * protects their pages again, so each read after that meets a
   * protected page (a scanned kind, on purpose). */
  char *bufs[16];
  for (int i = 0; i < 16; i++)
    bufs[i] = GC_MALLOC(sizeof msg + 64);
  for (unsigned k = 0; !stop_allocating; k++) {
    char *buf = bufs[k % 16];
    if (write(fds[1], msg, sizeof msg) != (ssize_t)sizeof msg) {
      io_bad++;
      break;
    }
    size_t got = 0;
    while (got < sizeof msg) {
      ssize_t r = read(fds[0], buf + 8 + got, sizeof msg - got);
      if (r <= 0) {
        io_bad++;
        break;
      }
      got += (size_t)r;
    }
    if (got != sizeof msg)
      break; /* the pipe would fill up: stop here (counted above) */
    if (memcmp(buf + 8, msg, sizeof msg) != 0)
      io_bad++;
    io_rounds++;
  }
  close(fds[0]);
  close(fds[1]);
  GC_reachable_here(bufs[0]);
  return NULL;
}

static void *allocator(void *arg)
{
  (void)arg;
  while (!stop_allocating) {
    void **junk = GC_MALLOC(64 * sizeof(void *));
    for (int i = 0; i < 64; i++)
      store(&junk[i], GC_MALLOC(48));
    GC_reachable_here(junk);
  }
  return NULL;
}

int main(int argc, char **argv)
{
  if (argc > 1)
    rounds = atoi(argv[1]);
  setenv("PARGC_VERIFY", "1", 0);
  setenv("GC_INITIAL_HEAP_SIZE", "2M", 0);
  setenv("PARGC_CONC_MIN_LIVE", "0", 0); /* cycles however small the heap */
  GC_INIT();
  GC_enable_incremental();
  CHECK(GC_is_incremental_mode());
  from_arr = GC_MALLOC(SLOTS * sizeof *from_arr);
  to_arr = GC_MALLOC(SLOTS * sizeof *to_arr);
  unc_hidden = (uintptr_t)GC_MALLOC_UNCOLLECTABLE(SLOTS * sizeof *from_arr) ^ 0x5555555555555555ull;
  for (long i = 0; i < SLOTS; i++)
    store(&from_arr[i], make((uintptr_t)i * 4));

  pthread_t m[MOVERS], a[ALLOCATORS], io;
  for (long t = 0; t < ALLOCATORS; t++)
    pthread_create(&a[t], NULL, allocator, (void *)t);
  pthread_create(&io, NULL, io_thread, NULL);
  for (long t = 0; t < MOVERS; t++)
    pthread_create(&m[t], NULL, mover, (void *)t);
  for (long t = 0; t < MOVERS; t++)
    pthread_join(m[t], NULL);
  stop_allocating = 1;
  for (long t = 0; t < ALLOCATORS; t++)
    pthread_join(a[t], NULL);
  pthread_join(io, NULL);
  CHECK_EQ(io_bad, 0);
  CHECK(io_rounds > 0);

  /* Every object is in exactly one of the two arrays, intact. */
  long found = 0, bad = 0;
  for (long i = 0; i < SLOTS; i++) {
    for (int which = 0; which < 3; which++) {
      struct obj *o = which == 0 ? from_arr[i] : which == 1 ? to_arr[i] : UNC_ARR[i];
      if (!o)
        continue;
      found++;
      if (!valid(o))
        bad++;
    }
  }
  CHECK_EQ(found, SLOTS);
  CHECK_EQ(bad, 0);
  printf("conc_race: %ld moves, %ld reads into heap buffers, %lu collections\n", (long)moved,
         io_rounds, (unsigned long)GC_get_gc_no());
  CHECK(GC_get_gc_no() > 2);
  return CHECK_SUMMARY();
}
