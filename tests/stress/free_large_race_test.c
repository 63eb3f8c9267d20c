/* Stress: threads that allocate a large object, stamp it, check the
 * stamp and GC_FREE it, over and over, beside a thread that collects
 * without pause.  GC_FREE of a large object once looked the object up,
 * then released its run holding only the run's descriptor: a collection
 * that stopped the thread in between found nothing pointing to the
 * object, swept it as garbage and released the run too.  The run then
 * sat on two free lists: the program hung walking a list that had
 * become a cycle (about every other run of this test, in a build
 * without assertions), or two later allocations got the same memory and
 * one thread's live object was overwritten by another's.  Each object
 * here carries its thread's stamp in its first and last words; a stamp
 * found changed is such an overlap, and a hang is reported by the alarm
 * below (a run that works takes a few seconds).  No timing is
 * measured. */
#include "config.h"
#define GC_THREADS 1
#include <gc.h>
#include "check.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <unistd.h>

enum { T = 3, ROUNDS = 40000 };
enum { HANG_S = 120 }; /* the message says so */
static const char hang_msg[] = "free_large_race_test: still running after 120 s: hung "
                            "(a large run released twice?)\n";

static _Atomic int workers_done;
static _Atomic long overlaps;
static int rounds_done[T];

/* Sizes from 2 to 9 pages of 64 KiB, so runs split and merge. */
static size_t size_of_round(intptr_t id, int r)
{
  return (size_t)(2 + (id * 3 + r) % 8) * 65536 - 64;
}

/* The object lives in the worker's `slot` only: every use goes through
 * these helpers, so that no copy of its address stays behind in the
 * worker's registers, and the stack below the worker's frame is wiped
 * before the free -- as in a program that frees an object it no longer
 * keeps anywhere.  (Freed from a local variable, the object's address
 * stayed in a callee-saved register or a dead stack slot that the
 * collection scanned, which hid the race.) */
typedef uintptr_t *volatile slot_t;

static __attribute__((noinline)) void stamp_object(slot_t *slot, size_t n, uintptr_t v)
{
  (*slot)[0] = v;
  (*slot)[n - 1] = v;
}

static __attribute__((noinline)) bool stamp_intact(slot_t *slot, size_t n, uintptr_t v)
{
  for (volatile int spin = 0; spin < 200; spin++)
    ;
  return (*slot)[0] == v && (*slot)[n - 1] == v;
}

static __attribute__((noinline)) void free_slot(slot_t *slot)
{
  uintptr_t *p = *slot;
  *slot = NULL;
  GC_FREE(p);
}

static void *worker(void *arg)
{
  intptr_t id = (intptr_t)arg;
  uintptr_t stamp = 0x5a5a000000000000u | (uintptr_t)id << 32;
  slot_t slot = NULL;
  for (int r = 0; r < ROUNDS; r++) {
    size_t n = size_of_round(id, r) / sizeof(uintptr_t);
    slot = GC_MALLOC_ATOMIC(n * sizeof(uintptr_t));
    if (!slot) {
      CHECK(!"out of memory");
      break;
    }
    stamp_object(&slot, n, stamp | (uintptr_t)r);
    if (!stamp_intact(&slot, n, stamp | (uintptr_t)r))
      atomic_fetch_add(&overlaps, 1);
    check_wipe_stack();
    free_slot(&slot);
    rounds_done[id] = r + 1;
  }
  atomic_fetch_add(&workers_done, 1);
  return NULL;
}

static void *collector(void *arg)
{
  (void)arg;
  while (atomic_load(&workers_done) < T)
    GC_gcollect();
  return NULL;
}

int main(void)
{
  check_hang_alarm(HANG_S, hang_msg);
  GC_INIT();
  pthread_t w[T], c;
  for (intptr_t i = 0; i < T; i++)
    CHECK_EQ(pthread_create(&w[i], NULL, worker, (void *)i), 0);
  CHECK_EQ(pthread_create(&c, NULL, collector, NULL), 0);
  for (int i = 0; i < T; i++)
    CHECK_EQ(pthread_join(w[i], NULL), 0);
  CHECK_EQ(pthread_join(c, NULL), 0);
  check_hang_alarm(0, NULL);
  CHECK_EQ(atomic_load(&overlaps), 0);
  for (int i = 0; i < T; i++)
    CHECK_EQ(rounds_done[i], ROUNDS);
  return CHECK_SUMMARY();
}
