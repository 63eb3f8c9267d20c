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
 * A bound on the collector's share.  The cost weighs memory against time
 * at a fixed rate c, whatever the heap's size, so for a large heap that
 * the program fills slowly the least cost can be a collector that takes
 * half the program's time: Cube (live data growing to 60 MB, allocated
 * at a tenth of the collection speed) collected 16 times where Boehm GC
 * collects 11, each time finding nearly all live, and ran 10-20% slower
 * than on Boehm GC, whose interval grows with the heap.  Collections cost
 * (live / s) x (g / E) of the program's time; E is raised so that this
 * share is at most `share`,
 *     E >= live x g / (s x share),
 * but not past half the live data -- Boehm GC's own interval (a third of
 * a heap of live + E) -- so that the bound never costs more memory than
 * Boehm GC's rule would.  The cap (PARGC_HEAP_MAX_GROWTH) still bounds E.
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

/* E = sqrt(c x live x g / s), at least min(live x g / (s x share),
 * live / 2) (share a fraction, 0.25 for collections costing a quarter of
 * the program's time; 0: no such bound), clamped to [floor, cap] (cap 0:
 * none).  Unknown rates (before two collections) give the floor. */
size_t pargc_sizing_extra(const struct pargc_sizing *s, double c, double share, size_t floor,
                          size_t cap);

#endif
