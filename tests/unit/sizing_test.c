/* Unit test for alloc/sizing: the MemBalancer interval from fixed
 * measurements, its floor and cap, the bound by the live data
 * (PARGC_HEAP_MAX_GROWTH), the bound on the collector's share of the
 * time (PARGC_HEAP_MAX_GC_SHARE), and the smoothing of the rates. */
#include "config.h"
#include "alloc/sizing.h"
#include "check.h"

#define MB ((size_t)1 << 20)

static void test_formula(void)
{
  /* live 16 MB, allocating 1 GB/s, collecting 500 MB/s, c = 8 MB:
   * E = sqrt(8M x 16M x 2) = 16 MB exactly. */
  struct pargc_sizing s = {.alloc_rate = 1e9, .gc_speed = 5e8, .live = 16.0 * MB};
  CHECK_EQ(pargc_sizing_extra(&s, 8.0 * MB, 0, 0, 0), 16 * MB);
  /* Four times the live data: twice the interval (the square root). */
  s.live = 64.0 * MB;
  CHECK_EQ(pargc_sizing_extra(&s, 8.0 * MB, 0, 0, 0), 32 * MB);
  /* A collector four times as fast: half the interval. */
  s.gc_speed = 2e9;
  CHECK_EQ(pargc_sizing_extra(&s, 8.0 * MB, 0, 0, 0), 16 * MB);
  /* Four times c: twice the interval. */
  CHECK_EQ(pargc_sizing_extra(&s, 32.0 * MB, 0, 0, 0), 32 * MB);
}

static void test_bounds(void)
{
  struct pargc_sizing s = {.alloc_rate = 1e9, .gc_speed = 5e8, .live = 16.0 * MB};
  CHECK_EQ(pargc_sizing_extra(&s, 8.0 * MB, 0, 20 * MB, 0), 20 * MB); /* floor */
  CHECK_EQ(pargc_sizing_extra(&s, 8.0 * MB, 0, 0, 10 * MB), 10 * MB); /* cap */
  /* Nothing measured yet, or nothing live: the floor. */
  struct pargc_sizing none = {0};
  CHECK_EQ(pargc_sizing_extra(&none, 8.0 * MB, 0, 3 * MB, 0), 3 * MB);
  s.live = 0;
  CHECK_EQ(pargc_sizing_extra(&s, 8.0 * MB, 0, 1 * MB, 0), 1 * MB);
}

/* No share measured yet. */
static const struct pargc_sizing none;

static void test_growth_cap(void)
{
  /* 2 MB live, a collector slow per live byte (fixed costs): E would be
   * sqrt(16M x 2M x 4) = 11.3 MB; at most 100% of live: 2 MB. */
  struct pargc_sizing s = {.alloc_rate = 2e9, .gc_speed = 5e8, .live = 2.0 * MB};
  size_t cap = pargc_sizing_growth_cap(&none, 2 * MB, 0, 100, 0, 0);
  CHECK_EQ(cap, 2 * MB);
  CHECK_EQ(pargc_sizing_extra(&s, 16.0 * MB, 0, 1 * MB, cap), 2 * MB);
  /* The floor still wins over the bound for a tiny heap. */
  CHECK_EQ(pargc_sizing_extra(&s, 16.0 * MB, 0, 1 * MB, pargc_sizing_growth_cap(&none, 256 << 10, 0, 100, 0, 0)),
           1 * MB);
  /* A large heap: the square root is under the bound, which then does
   * nothing (64 MB live: E = 32 MB at c = 8 MB, g/s = 2). */
  s.alloc_rate = 1e9;
  s.live = 64.0 * MB;
  CHECK_EQ(pargc_sizing_extra(&s, 8.0 * MB, 0, 0, pargc_sizing_growth_cap(&none, 64 * MB, 0, 100, 0, 0)), 32 * MB);
  /* The smaller of the two caps; 0 percent: no bound; 250 percent. */
  CHECK_EQ(pargc_sizing_growth_cap(&none, 64 * MB, 0, 100, 0, 10 * MB), 10 * MB);
  CHECK_EQ(pargc_sizing_growth_cap(&none, 64 * MB, 0, 0, 0, 10 * MB), 10 * MB);
  CHECK_EQ(pargc_sizing_growth_cap(&none, 64 * MB, 0, 0, 0, 0), 0);
  CHECK_EQ(pargc_sizing_growth_cap(&none, 4 * MB, 0, 250, 0, 0), 10 * MB);
  /* Roots, where collections at the bound would take more than the
   * share: GNU poke, 1.5 MB live and 1.8 MB of roots, stops of 0.46 s
   * in 0.54 s of running measured at E = 1.125 MB (75%): 46% > 25%, so
   * the cap is Boehm GC's interval, (2 x 1.5 + 1.8) / 3 = 1.6 MB. */
  struct pargc_sizing poke = {.pause_s = 0.46, .run_s = 0.54, .share_e = 1152.0 * 1024};
  size_t want = (size_t)((2 * 1536.0 * 1024 + 1843.0 * 1024) / 3);
  CHECK_EQ(pargc_sizing_growth_cap(&poke, 1536 << 10, 1843 << 10, 75, 0.25, 0), want);
  /* Measured at that larger E the share is lower (28%), and is judged
   * at the smaller cap all the same: the cap stays. */
  poke.pause_s = 0.28 * 0.54;
  poke.share_e = (double)want;
  CHECK_EQ(pargc_sizing_growth_cap(&poke, 1536 << 10, 1843 << 10, 75, 0.25, 0), want);
  /* Boehm GC's interval under the percentage: the percentage rules
   * (1.5 MB live, no roots, 100%: 1.5 MB against 1 MB). */
  CHECK_EQ(pargc_sizing_growth_cap(&poke, 1536 << 10, 0, 100, 0.25, 0), (size_t)1536 << 10);
  /* A percentage under Boehm GC's two thirds still holds where
   * collections are cheap, not where they are not (25% of 4 MB: 1 MB;
   * Boehm GC: (8 + 1) / 3 = 3 MB). */
  CHECK_EQ(pargc_sizing_growth_cap(&none, 4 * MB, 1 * MB, 25, 0.25, 0), 1 * MB);
  CHECK_EQ(pargc_sizing_growth_cap(&poke, 4 * MB, 1 * MB, 25, 0.25, 0), 3 * MB);
  /* Collections taking 22% of the time at the bound (2 MB live, 0.8 MB
   * of roots): the percentage rules. */
  struct pargc_sizing guile = {.pause_s = 0.018, .run_s = 0.082, .share_e = 1.5 * MB};
  CHECK_EQ(pargc_sizing_growth_cap(&guile, 2 * MB, 800 << 10, 75, 0.25, 0), (size_t)(1.5 * MB));
  /* No share bound (0), or none measured yet: the percentage rules. */
  CHECK_EQ(pargc_sizing_growth_cap(&poke, 1536 << 10, 1843 << 10, 75, 0, 0), (size_t)(1152.0 * 1024));
  CHECK_EQ(pargc_sizing_growth_cap(&none, 1536 << 10, 1843 << 10, 75, 0.25, 0),
           (size_t)(1152.0 * 1024));
  /* The caller's cap still bounds it; 0 percent still means no bound. */
  CHECK_EQ(pargc_sizing_growth_cap(&poke, 1536 << 10, 1843 << 10, 75, 0.25, 1 * MB), 1 * MB);
  CHECK_EQ(pargc_sizing_growth_cap(&poke, 4 * MB, 64 * MB, 0, 0.25, 0), 0);
}

static void test_gc_share(void)
{
  /* Cube's shape: 64 MB live, allocating at 100 MB/s, collecting at
   * 800 MB/s, c = 16 MB: MemBalancer's E = sqrt(16M x 64M / 8) = 11.3 MB. */
  struct pargc_sizing s = {.alloc_rate = 1e8, .gc_speed = 8e8, .live = 64.0 * MB};
  size_t mb = pargc_sizing_extra(&s, 16.0 * MB, 0.25, 0, 0);
  CHECK(mb > (size_t)(11.31 * MB) && mb < (size_t)(11.32 * MB)); /* nothing measured yet */
  /* At that interval the program ran 100 ms between stops of 50 ms: a
   * share of 50%.  At most 25% wants twice the interval, 22.6 MB, but
   * the garbage it lets pile up is held to a quarter of the live data:
   * 16 MB when nothing survives. */
  pargc_sizing_update_share(&s, 100000000u, 50000000u, mb);
  CHECK_EQ(pargc_sizing_extra(&s, 16.0 * MB, 0.25, 0, 0), 16 * MB);
  /* Half of each interval surviving (the live data grew by 8 MB of 16
   * allocated): the garbage of 22.6 MB is 11.3 MB, under the quarter. */
  s.grown_bytes = 8.0 * MB;
  s.alloc_bytes = 16.0 * MB;
  size_t e = pargc_sizing_extra(&s, 16.0 * MB, 0.25, 0, 0);
  CHECK(e > (size_t)(22.62 * MB) && e < (size_t)(22.63 * MB));
  /* No bound (0), or one the share is under (60%): MemBalancer's E. */
  CHECK_EQ(pargc_sizing_extra(&s, 16.0 * MB, 0, 0, 0), mb);
  CHECK_EQ(pargc_sizing_extra(&s, 16.0 * MB, 0.6, 0, 0), mb);
  /* The cap still wins (PARGC_HEAP_MAX_GROWTH=25: 16 MB). */
  CHECK_EQ(pargc_sizing_extra(&s, 16.0 * MB, 0.25, 0, pargc_sizing_growth_cap(&none, 64 * MB, 0, 25, 0, 0)),
           16 * MB);
  /* The floor still applies above it. */
  CHECK_EQ(pargc_sizing_extra(&s, 16.0 * MB, 0.25, 40 * MB, 0), 40 * MB);
}

/* The share's sums are kept at the newest interval: a stop of 50 ms per
 * 100 ms run at 8 MB is one of 25 ms at 16 MB (the share goes as 1 / E).
 * After that and a measured 25 ms per 100 ms at 16 MB: (12.5 + 25) ms of
 * stops in (50 + 100) ms, 25% at 16 MB -- just at a bound of 25%. */
static void test_share_update(void)
{
  struct pargc_sizing s = {.alloc_rate = 1e3, .gc_speed = 8e8, .live = 256.0 * MB};
  pargc_sizing_update_share(&s, 100000000u, 50000000u, 8 * MB);
  pargc_sizing_update_share(&s, 100000000u, 25000000u, 16 * MB);
  CHECK(s.pause_s > 0.03749 && s.pause_s < 0.03751);
  CHECK(s.run_s > 0.14999 && s.run_s < 0.15001);
  size_t e = pargc_sizing_extra(&s, 16.0 * MB, 0.25, 0, 0);
  CHECK(e > 16 * MB - 16 && e < 16 * MB + 16);
  /* A program that did not run between two stops: nothing folded in. */
  pargc_sizing_update_share(&s, 0, 50000000u, 16 * MB);
  CHECK(s.pause_s > 0.03749 && s.pause_s < 0.03751);
}

static void test_update(void)
{
  struct pargc_sizing s = {0};
  /* 100 MB in 100 ms of program time, 16 MB live marked in 32 ms. */
  pargc_sizing_update(&s, 16 * MB, 100 * MB, 100000000u, 32000000u);
  CHECK_EQ((long long)s.alloc_rate, (long long)(1000.0 * MB));
  CHECK_EQ((long long)s.gc_speed, (long long)(500.0 * MB));
  CHECK_EQ((long long)s.live, (long long)(16 * MB));
  /* The next collection measures twice the allocation rate: the older
   * interval weighs half, (50 + 200) MB in (50 + 100) ms. */
  pargc_sizing_update(&s, 16 * MB, 200 * MB, 100000000u, 32000000u);
  CHECK_EQ((long long)(s.alloc_rate + 0.5), (long long)(250.0 * MB / 0.15 + 0.5));
  double rate = s.alloc_rate;
  /* No program time (two collections back to back): the rate stays. */
  pargc_sizing_update(&s, 16 * MB, 1 * MB, 0, 32000000u);
  CHECK_EQ((long long)s.alloc_rate, (long long)rate);
  /* Nothing live: the speed still counts the pause (one byte). */
  pargc_sizing_update(&s, 0, 1 * MB, 100000000u, 1000000u);
  CHECK(s.gc_speed > 0);
  CHECK_EQ((long long)s.live, 0);
}

/* Intervals count by their length: a burst (8 MB in 1 ms) and the quiet
 * second after it (8 MB) is a rate near 12 MB/s, not the 4 GB/s that
 * averaging the two intervals' rates gives. */
static void test_bursts(void)
{
  struct pargc_sizing s = {0};
  pargc_sizing_update(&s, 2 * MB, 8 * MB, 1000000u, 100000u);
  CHECK_EQ((long long)s.alloc_rate, (long long)(8000.0 * MB));
  pargc_sizing_update(&s, 2 * MB, 8 * MB, 1000000000u, 100000u);
  double want = 12.0 * MB / 1.0005;
  CHECK(s.alloc_rate > 0.999 * want && s.alloc_rate < 1.001 * want);
  /* The speed likewise: after two collections of 2 MB in 0.1 ms, one of
   * 2 MB in 10 ms: (1.5 + 2) MB in (0.075 + 10) ms. */
  pargc_sizing_update(&s, 2 * MB, 8 * MB, 1000000u, 10000000u);
  want = 3.5 * MB / 0.010075;
  CHECK(s.gc_speed > 0.999 * want && s.gc_speed < 1.001 * want);
}

int main(void)
{
  test_formula();
  test_bounds();
  test_growth_cap();
  test_gc_share();
  test_share_update();
  test_update();
  test_bursts();
  return CHECK_SUMMARY();
}
