/* sizing: how much the program may allocate between two collections --
 * the heap-sizing policy, as pure arithmetic (heap.c applies it).
 *
 * MemBalancer (Kirisame, Shenoy and Panchekha, "Optimal Heap Limits for
 * Reducing Browser Memory Use", OOPSLA 2022): a collector that lets the
 * heap run to live + E between collections pays memory E and collection
 * time (allocation rate g / E collections per second, each costing
 * live / s at collection speed s).  Weighing one against the other,
 *     cost = E + c x (g x live) / (s x E),
 * with c the memory (bytes) worth a collector that takes all the time,
 * is least at
 *     E = sqrt(c x live x g / s).
 * E grows with the square root of the live data (not in proportion to it,
 * as a fixed divisor does), with the allocation rate, and falls when the
 * collector gets faster.  g and s are measured over the last collections:
 * each is a ratio of two smoothed sums (bytes over time, the newest
 * interval weighing 1/2, the one before 1/4, ...), so one odd interval
 * moves E only part of the way, and an interval counts in proportion to
 * its length.  (An average of the intervals' own rates would count a
 * burst of allocation that lasted a millisecond as much as the quiet
 * second after it: Matmul, which allocates its rows in bursts between
 * long multiplications, measured 0.3-4 GB/s where it allocates 0.1 GB/s
 * on the whole, and got an interval several times too long.)
 *
 * Invariants: E is never below the floor the caller passes, never above
 * the cap; rates are only ever updated from positive durations.
 */
#ifndef PARGC_SIZING_H
#define PARGC_SIZING_H
#ifndef PARGC_BUILDING
#error "alloc/sizing.h is internal to pargc"
#endif

#include <stddef.h>
#include <stdint.h>

struct pargc_sizing {
  /* Rates per second of whatever clock the caller measures in (heap.c:
   * the process's CPU time). */
  double alloc_rate; /* bytes allocated per second of the program's time (0: unknown) */
  double gc_speed;   /* live bytes collected per second of collection (0: unknown) */
  double live;       /* bytes marked by the last collection */
  /* The smoothed sums the two rates are the ratios of (bytes, seconds). */
  double alloc_bytes, alloc_s, gc_bytes, gc_s;
};

/* Fold one collection into the averages: `allocated` bytes in
 * `mutator_ns` of program time since the previous collection ended, then
 * `live` bytes marked in a collection of `gc_ns`. */
void pargc_sizing_update(struct pargc_sizing *s, size_t live, size_t allocated,
                         uint64_t mutator_ns, uint64_t gc_ns);

/* The cap for pargc_sizing_extra: `cap` (0: none) lowered to `pct`
 * percent of `live` when pct > 0 (PARGC_HEAP_MAX_GROWTH).  MemBalancer
 * counts a collection's fixed costs -- stopping the threads, scanning
 * the roots -- as if they grew with the live data, so a small heap gets
 * an interval of several times its live data (an 8 MB heap for 2 MB live
 * where Boehm GC keeps 5 MB); collections of a small heap are cheap in
 * absolute terms, and bounding E by the live data costs little time. */
size_t pargc_sizing_growth_cap(size_t live, unsigned pct, size_t cap);

/* E = sqrt(c x live x g / s), clamped to [floor, cap] (cap 0: none).
 * Unknown rates (before two collections) give the floor. */
size_t pargc_sizing_extra(const struct pargc_sizing *s, double c, size_t floor, size_t cap);

#endif
