/* deque: the work-stealing deque each GC thread marks from.
 *
 * A Chase-Lev deque (Chase and Lev, "Dynamic circular work-stealing
 * deque", SPAA 2005) with the C11 memory orders of Le, Pop, Cohen and
 * Zappa Nardelli ("Correct and efficient work-stealing for weak memory
 * models", PPoPP 2013).  The owner pushes and takes at the bottom (LIFO:
 * depth-first, cache-friendly); thieves steal at the top, the OLDEST
 * entry, which in a mark stack stands for the largest unexplored subtree
 * (Endo's "steal from the bottom of the stack").
 *
 * The buffer has a fixed size (PARGC_DEQUE_SIZE) and never grows: when it
 * is full, push fails and the tracer moves work to a shared overflow
 * list, so nothing is lost.  Entries are two words (a range).  A thief
 * may read a slot the owner is rewriting only if the owner popped that
 * slot's entry first, which moves `top` -- so such a torn read is always
 * followed by a failing CAS and discarded.  Each word is still read and
 * written with relaxed atomics so the race is not undefined behaviour.
 *
 * Memory-order reasoning (numbers refer to the fences below):
 *  (1) push: the entry's stores happen-before the store that publishes
 *      the new bottom (release fence), so a thief that sees the bottom
 *      sees the entry.
 *  (2) take: the bottom decrement must be globally ordered before the
 *      load of top (seq_cst fence), else owner and thief could both take
 *      the last entry; the race on the last entry is settled by a CAS
 *      on top, which thieves also use.
 *  (3) steal: load top, seq_cst fence, load bottom -- pairs with (2).
 */
#ifndef PARGC_DEQUE_H
#define PARGC_DEQUE_H
#ifndef PARGC_BUILDING
#error "gc/deque.h is internal to pargc"
#endif

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/report.h"

struct pargc_range {
  uintptr_t lo, hi;
};

struct pargc_deque {
  _Alignas(64) _Atomic int64_t top;
  _Alignas(64) _Atomic int64_t bottom;
  _Alignas(64) _Atomic uintptr_t (*buf)[2];
  int64_t size; /* power of two */
};

/* Set up with `size` entries (rounded up to a power of two). */
bool pargc_deque_init(struct pargc_deque *d, size_t size);

static inline bool pargc_deque_push(struct pargc_deque *d, struct pargc_range r)
{
  int64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed);
  int64_t t = atomic_load_explicit(&d->top, memory_order_acquire);
  /* Outside the owner's take, top <= bottom: thieves move top only
   * below bottom, and only the owner (here) moves bottom. */
  pargc_assert(t <= b && b - t <= d->size);
  if (b - t >= d->size)
    return false; /* full: caller overflows */
  _Atomic uintptr_t *slot = d->buf[b & (d->size - 1)];
  atomic_store_explicit(&slot[0], r.lo, memory_order_relaxed);
  atomic_store_explicit(&slot[1], r.hi, memory_order_relaxed);
  atomic_thread_fence(memory_order_release); /* (1) */
  atomic_store_explicit(&d->bottom, b + 1, memory_order_relaxed);
  return true;
}

static inline bool pargc_deque_take(struct pargc_deque *d, struct pargc_range *out)
{
  int64_t b = atomic_load_explicit(&d->bottom, memory_order_relaxed) - 1;
  atomic_store_explicit(&d->bottom, b, memory_order_relaxed);
  atomic_thread_fence(memory_order_seq_cst); /* (2) */
  int64_t t = atomic_load_explicit(&d->top, memory_order_relaxed);
  /* Empty means top == the old bottom: top never passes bottom. */
  pargc_assert(t <= b + 1);
  if (t > b) {
    atomic_store_explicit(&d->bottom, b + 1, memory_order_relaxed);
    return false; /* empty */
  }
  _Atomic uintptr_t *slot = d->buf[b & (d->size - 1)];
  out->lo = atomic_load_explicit(&slot[0], memory_order_relaxed);
  out->hi = atomic_load_explicit(&slot[1], memory_order_relaxed);
  if (t == b) {
    /* The last entry: race thieves for it. */
    bool won = atomic_compare_exchange_strong_explicit(
        &d->top, &t, t + 1, memory_order_seq_cst, memory_order_relaxed);
    atomic_store_explicit(&d->bottom, b + 1, memory_order_relaxed);
    return won;
  }
  return true;
}

/* Steal the oldest entry.  false: empty or lost a race (caller may retry
 * elsewhere). */
static inline bool pargc_deque_steal(struct pargc_deque *d, struct pargc_range *out)
{
  int64_t t = atomic_load_explicit(&d->top, memory_order_acquire);
  atomic_thread_fence(memory_order_seq_cst); /* (3) */
  int64_t b = atomic_load_explicit(&d->bottom, memory_order_acquire);
  if (t >= b)
    return false;
  _Atomic uintptr_t *slot = d->buf[t & (d->size - 1)];
  struct pargc_range r;
  r.lo = atomic_load_explicit(&slot[0], memory_order_relaxed);
  r.hi = atomic_load_explicit(&slot[1], memory_order_relaxed);
  if (!atomic_compare_exchange_strong_explicit(&d->top, &t, t + 1, memory_order_seq_cst,
                                               memory_order_relaxed))
    return false;
  *out = r;
  return true;
}

/* Validator (level 2), by the owner while no thief runs (between
 * rounds): top <= bottom, at most size entries, each a range of
 * word-aligned addresses or a descriptor-scanned object (hi == 0). */
static inline void pargc_deque_validate(struct pargc_deque *d)
{
  if (!PARGC_ASSERT_FULL)
    return;
  int64_t t = atomic_load(&d->top), b = atomic_load(&d->bottom);
  pargc_assert_full(t <= b && b - t <= d->size);
  for (int64_t i = t; i < b; i++) {
    uintptr_t lo = atomic_load_explicit(&d->buf[i & (d->size - 1)][0], memory_order_relaxed);
    uintptr_t hi = atomic_load_explicit(&d->buf[i & (d->size - 1)][1], memory_order_relaxed);
    pargc_assert_full(hi == 0 || (lo < hi && (lo & 7) == 0 && (hi & 7) == 0));
  }
}

/* A racy size estimate (thieves use it to pick victims). */
static inline int64_t pargc_deque_size_hint(struct pargc_deque *d)
{
  return atomic_load_explicit(&d->bottom, memory_order_relaxed) -
         atomic_load_explicit(&d->top, memory_order_relaxed);
}

#endif
