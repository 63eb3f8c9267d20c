/* sizing: the MemBalancer heap-sizing rule; see sizing.h. */
#include "config.h"
#include "alloc/sizing.h"

#include <float.h>
#include <stdint.h>

/* Weight of the newest interval in the smoothed sums. */
#define SIZING_ALPHA 0.5

/* Add one interval's `bytes` in `ns` to the smoothed sums and return
 * their ratio, in bytes per second. */
static double smooth_rate(double *bytes, double *secs, double b, uint64_t ns)
{
  *bytes = (1 - SIZING_ALPHA) * *bytes + b;
  *secs = (1 - SIZING_ALPHA) * *secs + (double)ns * 1e-9;
  return *bytes / *secs;
}

void pargc_sizing_update(struct pargc_sizing *s, size_t live, size_t allocated,
                         uint64_t mutator_ns, uint64_t gc_ns)
{
  s->live = (double)live;
  if (mutator_ns > 0 && allocated > 0)
    s->alloc_rate = smooth_rate(&s->alloc_bytes, &s->alloc_s, (double)allocated, mutator_ns);
  /* The collection's cost is its whole pause: stopping the threads and
   * scanning the roots cost time even when little is live, so a small
   * heap has a low speed and gets a proportionally larger E. */
  if (gc_ns > 0)
    s->gc_speed = smooth_rate(&s->gc_bytes, &s->gc_s, (double)(live > 0 ? live : 1), gc_ns);
}

/* Square root by Newton's method, so that the library needs no libm (a
 * program that does not load it otherwise maps it for this one call per
 * collection: about 300 KiB of resident pages).  The start halves the
 * exponent (within a few percent of the root); after one step the
 * iterates lie above the root and decrease to it, and the loop stops
 * when they stop decreasing: a handful of steps. */
static double sizing_sqrt(double x)
{
  if (!(x > 0) || x > DBL_MAX)
    return x > 0 ? x : 0;
  union { double d; uint64_t u; } v = {x};
  v.u = (v.u >> 1) + ((uint64_t)0x3ff << 51);
  double r = 0.5 * (v.d + x / v.d);
  for (;;) {
    double next = 0.5 * (r + x / r);
    if (!(next < r))
      return r;
    r = next;
  }
}

size_t pargc_sizing_extra(const struct pargc_sizing *s, double c, double share, size_t floor,
                          size_t cap)
{
  if (!(s->alloc_rate > 0) || !(s->gc_speed > 0))
    return floor;
  /* The collector's time per unit of the program's, times E. */
  double cost = s->live * s->alloc_rate / s->gc_speed;
  double e = sizing_sqrt(c * cost);
  /* The share's E at most half the live data: Boehm GC's own interval
   * (a third of a heap of live + E), so that the bound never costs more
   * memory than Boehm GC's rule. */
  double by_share = share > 0 ? cost / share : 0;
  if (by_share > s->live / 2)
    by_share = s->live / 2;
  if (by_share > e)
    e = by_share;
  if (cap && e > (double)cap)
    e = (double)cap;
  if (!(e > (double)floor)) /* also NaN */
    return floor;
  return (size_t)e;
}

size_t pargc_sizing_growth_cap(size_t live, unsigned pct, size_t cap)
{
  if (!pct || !live)
    return cap;
  size_t growth = (size_t)((double)live * (double)pct / 100.0);
  if (growth < 1)
    growth = 1;
  return !cap || growth < cap ? growth : cap;
}
