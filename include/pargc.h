/*
 * pargc.h -- what pargc offers beyond Boehm GC's API.
 *
 * Include after (or instead of) <gc.h>.  All settings here can also be
 * given in the environment (docs/environment.md); these calls are for
 * programs that want to choose at run time.
 */
#ifndef PARGC_H
#define PARGC_H

#include "gc/gc.h"
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of pargc itself (GC_VERSION_* is the Boehm API level). */
#define PARGC_VERSION_MAJOR 0
#define PARGC_VERSION_MINOR 1

/* ---- Tuning ------------------------------------------------------------ */

/* LPS consumption constant k (PARGC_K): fresh pages are taken from the OS
 * while the heap stays under k x max(live); beyond it threads steal free
 * pages from each other.  1 = most memory-efficient, number of threads =
 * most local.  Values above the thread count act as the thread count.
 * Returns the previous value; 0 is refused (returns 0, nothing changes). */
GC_API unsigned pargc_set_k(unsigned k);
GC_API unsigned pargc_get_k(void);

/* Number of threads that mark in parallel (PARGC_GC_THREADS).  Takes
 * effect at the next collection; n is clamped to 1..256. */
GC_API void pargc_set_gc_threads(unsigned n);
GC_API unsigned pargc_get_gc_threads(void);

/* Give every free page back to the OS now (madvise); returns the bytes
 * released.  Boehm's GC_gcollect_and_unmap collects first, then does
 * this. */
GC_API size_t pargc_release_memory(void);

/* ---- Statistics --------------------------------------------------------- */

/* Running totals since start-up.  Pass sizeof(struct pargc_stats) so that
 * a program built against an older, shorter struct keeps working. */
struct pargc_stats {
  uint64_t collections;         /* completed collections */
  uint64_t pause_total_us;      /* world stopped, all collections */
  uint64_t pause_max_us;        /* longest single stop */
  uint64_t mark_total_us;       /* parallel marking, all collections */
  uint64_t live_max_bytes;      /* max(live): what LPS's k multiplies */
  uint64_t heap_bytes;          /* committed heap now */
  uint64_t allocated_bytes;     /* allocated since start-up (approximate) */
  uint64_t decommitted_bytes;   /* given back to the OS, in all */
  uint64_t fresh_pages;         /* 64 KiB pages first touched by their thread */
  uint64_t own_pages;           /* pages reused from the thread's own list */
  uint64_t stolen_local_pages;  /* stolen from threads on the same node */
  uint64_t stolen_remote_pages; /* stolen from other NUMA nodes */
  uint64_t grown_pages;         /* fresh beyond k x max(live) */
  uint64_t gc_threads;          /* GC threads configured */
  uint64_t k;                   /* effective k */
  uint64_t adopted_pages;       /* partly free pages taken over from
                                   blocked or exited threads */
  uint64_t concurrent_cycles;   /* of the collections, those that marked
                                   beside the program (concurrent mode;
                                   the others stopped it) */
};
GC_API void pargc_get_stats(struct pargc_stats *out, size_t size);
/* Print the totals in a few readable lines (what GC_PRINT_STATS shows at
 * exit). */
GC_API void pargc_print_stats(FILE *out);

#ifdef __cplusplus
}
#endif
#endif
