/* sizing: the MemBalancer heap-sizing rule; see sizing.h. */
#include "config.h"
#include "alloc/sizing.h"

#include <float.h>
#include <stdint.h>

/* Weight of the newest interval in the smoothed sums. */
#define SIZING_ALPHA 0.5
/* The share bound's limit (sizing.h): the garbage a longer interval
 * leaves, at most this part of the live data, with at most this much of
 * an interval counted as surviving. */
#define SIZING_MAX_GARBAGE 0.25
#define SIZING_MAX_SURVIVAL 0.5

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
  if (mutator_ns > 0 && allocated > 0) {
    s->alloc_rate = smooth_rate(&s->alloc_bytes, &s->alloc_s, (double)allocated, mutator_ns);
    s->grown_bytes = (1 - SIZING_ALPHA) * s->grown_bytes + ((double)live - s->live);
  }
  s->live = (double)live;
  /* The collection's cost is its whole pause: stopping the threads and
   * scanning the roots cost time even when little is live, so a small
   * heap has a low speed and gets a proportionally larger E. */
  if (gc_ns > 0)
    s->gc_speed = smooth_rate(&s->gc_bytes, &s->gc_s, (double)(live > 0 ? live : 1), gc_ns);
}

void pargc_sizing_update_share(struct pargc_sizing *s, uint64_t run_ns, uint64_t pause_ns,
                               size_t e)
{
  if (run_ns == 0 || e == 0)
    return;
  /* The older intervals' stops are scaled to the newest E (the share
   * goes as 1 / E): the smoothed share is the one the newest interval
   * would have had over the whole history. */
  double scale = s->share_e > 0 ? s->share_e / (double)e : 1;
  s->pause_s = (1 - SIZING_ALPHA) * s->pause_s * scale + (double)pause_ns * 1e-9;
  s->run_s = (1 - SIZING_ALPHA) * s->run_s + (double)run_ns * 1e-9;
  s->share_e = (double)e;
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

/* The collector's share of the time at interval e, from the share
 * measured at share_e (it goes as 1 / E); 0 when not measured. */
static double share_at(const struct pargc_sizing *s, double e)
{
  if (!(s->share_e > 0) || !(s->run_s > 0) || !(e > 0))
    return 0;
  return s->pause_s / s->run_s * s->share_e / e;
}

size_t pargc_sizing_extra(const struct pargc_sizing *s, double c, double share, size_t floor,
                          size_t cap)
{
  if (!(s->alloc_rate > 0) || !(s->gc_speed > 0))
    return floor;
  double e = sizing_sqrt(c * s->live * s->alloc_rate / s->gc_speed);
  /* The collector's share of the time, at most `share` (sizing.h). */
  /* The share goes as 1 / E: at E = 1 byte it is f x E0, and the E
   * that brings it down to `share` is that over `share`. */
  double f_e0 = share_at(s, 1.0);
  if (share > 0 && f_e0 > 0) {
    double by_share = f_e0 / share;
    /* What a longer interval costs is the garbage it lets accumulate:
     * (1 - survival) x E, held to a quarter of the live data. */
    double survival = s->alloc_bytes > 0 ? s->grown_bytes / s->alloc_bytes : 0;
    if (survival < 0)
      survival = 0;
    if (survival > SIZING_MAX_SURVIVAL)
      survival = SIZING_MAX_SURVIVAL;
    double most = s->live * SIZING_MAX_GARBAGE / (1 - survival);
    if (by_share > most)
      by_share = most;
    if (by_share > e)
      e = by_share;
  }
  if (cap && e > (double)cap)
    e = (double)cap;
  if (!(e > (double)floor)) /* also NaN */
    return floor;
  return (size_t)e;
}


size_t pargc_sizing_growth_cap(const struct pargc_sizing *s, size_t live, size_t roots,
                               unsigned pct, double share, size_t cap)
{
  if (!pct || !live)
    return cap;
  double growth = (double)live * (double)pct / 100.0;
  double boehm = ((double)live * 2 + (double)roots) / 3;
  if (boehm > growth && share > 0 && share_at(s, growth) > share)
    growth = boehm;
  size_t g = growth >= 1 ? (size_t)growth : 1;
  return !cap || g < cap ? g : cap;
}
