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
 * (live / s) x (g / E) of the program's time, a share that goes as 1 / E.
 * It is measured as the program sees it, in wall time: the stops against
 * the time the program ran between them (CPU time counts each GC
 * thread's work once more: w3m, one thread marked by two, read twice its
 * share).  The E that brings a share f, measured at interval E0, down to
 * `share` is
 *     E >= E0 x f / share,
 * but what a longer interval costs is the garbage it lets pile up, the
 * part of E that does not survive to the next collection: that is held
 * to a quarter of the live data,
 *     (1 - survival) x E <= live / 4,
 * survival being the live data's growth over the bytes allocated (a ratio
 * of smoothed sums, the growth with its sign, at most 1/2).  Cube, half
 * of whose allocation survives, gets E up to half its live data, and
 * collects 11-13 times; w3m, whose live data grows to 80 MB while it
 * allocates 1.1 GB, keeps about MemBalancer's E (with E up to half the
 * live data whatever survived, it peaked at 1.2x Boehm GC's memory).
 * The cap (PARGC_HEAP_MAX_GROWTH) still bounds E.
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
  /* The collector's share of the time, in wall time: the smoothed sums
   * of the stops and of the time the program ran between them, and the
   * E they were measured at (0: not measured). */
  double pause_s, run_s, share_e;
  /* Smoothed sum of the live data's growth (signed), over alloc_bytes
   * the share of an interval that survives. */
  double grown_bytes;
};

/* Fold one collection into the averages: `allocated` bytes in
 * `mutator_ns` of program time since the previous collection ended, then
 * `live` bytes marked in a collection of `gc_ns`. */
void pargc_sizing_update(struct pargc_sizing *s, size_t live, size_t allocated,
                         uint64_t mutator_ns, uint64_t gc_ns);

/* Fold one collection's wall times into the share: the program ran
 * `run_ns` since the previous collection ended, then was stopped for
 * `pause_ns`, with an interval of `e` bytes. */
void pargc_sizing_update_share(struct pargc_sizing *s, uint64_t run_ns, uint64_t pause_ns,
                               size_t e);

/* The cap for pargc_sizing_extra: `cap` (0: none) lowered to `pct`
 * percent of `live` when pct > 0 (PARGC_HEAP_MAX_GROWTH).  MemBalancer
 * counts a collection's fixed costs -- stopping the threads, scanning
 * the roots -- as if they grew with the live data, so a small heap gets
 * an interval of several times its live data (an 8 MB heap for 2 MB live
 * where Boehm GC keeps 5 MB); collections of a small heap are cheap in
 * absolute terms, and bounding E by the live data costs little time.
 *
 * Unless the roots are large beside the live data: GNU poke, 1.8 MB of
 * roots and 1.5 MB live, spent 46% of its time in collections at that
 * bound and collected 1.5 times as often as on Boehm GC, whose interval,
 * (2 x live + roots) / 3, counts them.  So where collections at pct
 * percent of the live data would take more than `share` of the time
 * (the share bound's measure, pargc_sizing_extra; 0: never), the cap is
 * not below Boehm GC's interval -- counting all the live data as
 * objects with pointers, which Boehm GC counts twice (those without, a
 * quarter).  Judged at the smaller cap, whatever E is now, so that the
 * choice does not flip with E. */
size_t pargc_sizing_growth_cap(const struct pargc_sizing *s, size_t live, size_t roots,
                               unsigned pct, double share, size_t cap);

/* E = sqrt(c x live x g / s), at least min(E0 x f / share, live / 4 /
 * (1 - survival)) (share a fraction, 0.25 for stops costing a quarter of
 * the program's time; 0: no such bound), clamped to [floor, cap] (cap 0:
 * none).  Unknown rates (before two collections) give the floor. */
size_t pargc_sizing_extra(const struct pargc_sizing *s, double c, double share, size_t floor,
                          size_t cap);

#endif
