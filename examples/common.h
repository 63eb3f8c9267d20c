/*
 * examples/common.h -- what the five example programs share: command-line
 * parsing, a deterministic random generator, running a function on N
 * threads, pause accounting through Boehm GC's collection-event callback,
 * and the one-line summary every example prints at the end:
 *
 *   name: wall=1.234s threads=2 gcs=17 pause_total=45.6ms pause_max=7.8ms
 *         heap=64.0MB rss=80.1MB check=ok            (on one line)
 *
 * Every example source builds twice from the same file: against pargc
 * (include/gc.h, libpargc) and against Boehm GC (Debian's libgc), so this
 * header must work with either gc.h.  Both builds define GC_THREADS, which
 * Boehm GC needs to redirect pthread_create (pargc registers threads on its
 * own and ignores it).
 */
#ifndef PARGC_EXAMPLES_COMMON_H
#define PARGC_EXAMPLES_COMMON_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <gc.h>

/* ---- Collection events ------------------------------------------------
 *
 * Pauses are timed with GC_set_on_collection_event, which Boehm GC 8.2
 * declares in gc.h with the enum below.  pargc implements the same call
 * with the same values, but its header may not declare it yet.  The enum is
 * not a macro, so the preprocessor cannot ask whether it exists; instead
 * the examples use their own constants (checked against Boehm's where
 * Boehm's header is in use) and, under pargc's header, reach the function
 * through an asm label.  That declaration can never clash with one pargc's
 * header adds later, and being weak it lets the examples link (reporting
 * pauses as unknown) against a libpargc that does not implement it. */
enum {
  EX_EVENT_START = 0,            /* GC_EVENT_START: a collection begins */
  EX_EVENT_MARK_START = 1,       /* GC_EVENT_MARK_START */
  EX_EVENT_MARK_END = 2,         /* GC_EVENT_MARK_END */
  EX_EVENT_RECLAIM_START = 3,    /* GC_EVENT_RECLAIM_START */
  EX_EVENT_RECLAIM_END = 4,      /* GC_EVENT_RECLAIM_END */
  EX_EVENT_END = 5,              /* GC_EVENT_END: the collection is over */
  EX_EVENT_PRE_STOP_WORLD = 6,   /* GC_EVENT_PRE_STOP_WORLD */
  EX_EVENT_POST_STOP_WORLD = 7,  /* GC_EVENT_POST_STOP_WORLD */
  EX_EVENT_PRE_START_WORLD = 8,  /* GC_EVENT_PRE_START_WORLD */
  EX_EVENT_POST_START_WORLD = 9, /* GC_EVENT_POST_START_WORLD */
};

/* ---- Options ----------------------------------------------------------- */

/* What every example accepts:
 *   -t threads  worker threads (default: the online CPUs)
 *   -n size     the problem size (meaning and default per program)
 *   -i count    a second size: steps, iterations, scramble length...
 *   -m mode     a variant name (bh: st or pt)
 *   -r seed     seed of the deterministic input (default 1)
 *   -s          small mode: the sizes make check uses (a second or less)
 *   -v          print the full GC statistics after the summary line
 *   -h          print the usage and exit
 * The collector itself is tuned from the environment (PARGC_K,
 * PARGC_GC_THREADS, GC_MARKERS, GC_NPROCS, GC_PRINT_STATS, ...): the
 * examples never override those settings, so the same binary can be
 * measured at every k and GC thread count. */
typedef struct ex_opts {
  const char *name;  /* program name, first word of the summary */
  int threads;
  long size;         /* -n */
  long count;        /* -i */
  const char *mode;  /* -m, NULL when not given */
  uint64_t seed;
  bool small;
  bool verbose;
} ex_opts;

/* Parse argv into *o.  `usage` is the program's own help text, printed by
 * -h or after a malformed option (exit status 2).  -s replaces the default
 * sizes (size, count) with the small ones; an explicit -n or -i still wins. */
void ex_parse(ex_opts *o, int argc, char **argv, const char *usage,
              long size, long count, long small_size, long small_count);

/* ---- Run, time and report --------------------------------------------- */

/* Initialise the collector (GC_INIT), install the pause accounting and an
 * out-of-memory handler that exits with a message (so GC_MALLOC never
 * returns NULL to the examples and they need no NULL checks), and start
 * the wall clock.  Call once from main before any thread starts. */
void ex_start(ex_opts *o);

/* Stop the wall clock and take the figures for the summary: call it when
 * the workload is done and before checking the result, so that checking
 * does not count.  ex_finish calls it if the program did not. */
void ex_stop(void);

/* Print the summary line (and with -v the statistics), and return the
 * exit status for main: 0 when ok, 1 otherwise. */
int ex_finish(const ex_opts *o, bool ok);
/* The same with any word after check= and any exit status (cube uses it
 * for "none": no answer within its limits, which is not a wrong answer). */
int ex_finish_as(const ex_opts *o, const char *check, int status);

/* Seconds since an arbitrary fixed point (CLOCK_MONOTONIC). */
double ex_now(void);

/* Run fn(tid, arg) on `threads` new threads, tid = 0..threads-1, and wait
 * for all of them.  The threads are created with pthread_create after
 * gc.h, so under Boehm GC they are registered with the collector. */
void ex_parallel(int threads, void (*fn)(int tid, void *arg), void *arg);

/* ---- Deterministic random numbers -------------------------------------- */

/* SplitMix64 (Steele, Lea and Flood, OOPSLA 2014): tiny, fast, and good
 * enough for generating inputs; every generated input depends only on the
 * seed, never on the thread count. */
static inline uint64_t ex_rand(uint64_t *state) {
  uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
/* Uniform in [0, n) (n > 0; the tiny bias of the modulo does not matter
 * for generating test inputs). */
static inline uint64_t ex_rand_below(uint64_t *state, uint64_t n) {
  return ex_rand(state) % n;
}
/* Uniform in [0, 1). */
static inline double ex_rand_unit(uint64_t *state) {
  return (double)(ex_rand(state) >> 11) * (1.0 / 9007199254740992.0);
}

#endif
