/* stats: figures of each collection and running totals, from one field
 * list.  PARGC_COLLECTION_FIELDS generates the struct, the readable line
 * GC_PRINT_STATS prints and the JSON line PARGC_STATS_FILE receives, so
 * the three cannot disagree.
 */
#ifndef PARGC_GC_STATS_H
#define PARGC_GC_STATS_H
#ifndef PARGC_BUILDING
#error "gc/stats.h is internal to pargc"
#endif

#include <stdint.h>
#include <stdio.h>

#include "gc/tracer.h"

/* X(field, unit-suffix in the text line, description) -- all uint64_t. */
#define PARGC_COLLECTION_FIELDS(X)                                          \
  X(gc_no, "", "collection number")                                        \
  X(gc_threads, "", "GC threads that marked")                              \
  X(pause_us, "us", "world stopped, from stop request to restart")         \
  X(stop_us, "us", "time to stop the world")                               \
  X(mark_us, "us", "parallel mark")                                        \
  X(live_bytes, "B", "bytes marked (live)")                                \
  X(live_objects, "", "objects marked")                                    \
  X(root_bytes, "B", "root ranges scanned (data segments, registered roots, stacks; a concurrent cycle's final stop)") \
  X(steals, "", "entries stolen between GC threads")                       \
  X(overflows, "", "deque overflows (spilled, not lost)")                  \
  X(large_freed_bytes, "B", "large objects freed at once")                 \
  X(heap_bytes, "B", "committed heap after the collection")                \
  X(allocated_bytes, "B", "allocated since the previous collection")       \
  X(interval_bytes, "B", "what the program may allocate before the next collection (the sizing policy's E, or the divisor's threshold)") \
  X(threads, "", "registered mutator threads")                            \
  X(concurrent, "", "1: a mostly-concurrent collection (pause_us is its final stop)") \
  X(init_pause_us, "us", "concurrent: the first stop (roots, barrier on)") \
  X(conc_mark_us, "us", "concurrent: marking while the program ran, pre-cleaning included") \
  X(preclean_rounds, "", "concurrent: passes over dirty pages while the program ran") \
  X(precleaned_pages, "", "concurrent: dirty pages rescanned while the program ran") \
  X(rescanned_pages, "", "concurrent: dirty pages rescanned in the final stop") \
  X(barrier_faults, "", "concurrent: write faults taken by the page-protection barrier") \
  X(mark_cpu_us, "us", "stop-parallel: CPU time the process spent in the mark (its GC threads: the program's are stopped); under mark_us x gc_threads when other processes held the CPUs")

struct pargc_collection_stats {
#define PARGC_STATS_FIELD(f, unit, doc) uint64_t f;
  PARGC_COLLECTION_FIELDS(PARGC_STATS_FIELD)
#undef PARGC_STATS_FIELD
  /* Marked bytes per GC thread (the load balance). */
  uint64_t marked_per_thread[PARGC_MAX_GC_THREADS];
};

struct pargc_totals {
  uint64_t collections, concurrent_cycles;
  uint64_t pause_total_us, pause_max_us;
  uint64_t mark_total_us;
  uint64_t live_max_bytes;
};

extern struct pargc_totals pargc_totals;

/* Record one collection: update totals, print / append as configured. */
void pargc_stats_record(const struct pargc_collection_stats *s);
/* Where the GC_PRINT_STATS lines and GC_log_printf go: stderr, the
 * GC_LOG_FILE file, or GC_set_log_fd's descriptor. */
extern int pargc_stats_log_fd;
/* Open GC_LOG_FILE if set (once; pargc_stats_install calls it too). */
void pargc_stats_open_log(void);
/* At start-up, once the options are final: with GC_PRINT_STATS, the
 * totals are printed when the program exits as well, by `print_totals`
 * (pargc_print_stats, which the API layer provides). */
void pargc_stats_install(void (*print_totals)(FILE *out));

#endif
