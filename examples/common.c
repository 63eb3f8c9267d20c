/*
 * examples/common.c -- the shared part of the example programs: option
 * parsing, threads, allocation wrappers, pause accounting from collection
 * events, and the summary line.  See common.h for the contract.
 */
#include "common.h"

#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

/* ---- Reaching GC_set_on_collection_event under either header ---------- */

#ifdef PARGC_GC_H
/* pargc's gc.h: declare the function under a private name bound to the
 * public symbol, with the enum passed as the int it is in the ABI.  Weak,
 * so that a libpargc without it still links; ex_start then reports pauses
 * as unknown ("n/a") instead of failing. */
typedef void (*ex_event_proc)(int);
extern void ex_set_on_collection_event(ex_event_proc proc)
    __asm__("GC_set_on_collection_event") __attribute__((weak));
#else
/* Boehm GC's gc.h declares the call; make sure our numbering is Boehm's. */
_Static_assert((int)EX_EVENT_START == (int)GC_EVENT_START, "event numbering");
_Static_assert((int)EX_EVENT_MARK_START == (int)GC_EVENT_MARK_START, "event numbering");
_Static_assert((int)EX_EVENT_MARK_END == (int)GC_EVENT_MARK_END, "event numbering");
_Static_assert((int)EX_EVENT_END == (int)GC_EVENT_END, "event numbering");
_Static_assert((int)EX_EVENT_PRE_STOP_WORLD == (int)GC_EVENT_PRE_STOP_WORLD, "event numbering");
_Static_assert((int)EX_EVENT_POST_START_WORLD == (int)GC_EVENT_POST_START_WORLD, "event numbering");
#endif

/* ---- Pause accounting --------------------------------------------------
 *
 * A pause is the time the world is stopped: from PRE_STOP_WORLD to
 * POST_START_WORLD.  A collection that reports no stop-the-world events
 * counts as one pause from START to END.  (Boehm GC also keeps allocating
 * threads waiting on its lock for the rest of START..END; that time is
 * shown separately by -v as "time in collections".)
 *
 * The callback runs inside the collector, possibly with the world stopped,
 * so it only reads the clock and updates counters.  Boehm GC calls it with
 * its lock held; pargc calls it from whichever thread drives the
 * collection, one collection at a time.  The totals are atomics anyway so
 * that reading them from ex_stop is race-free. */
static atomic_uint_fast64_t pause_total_ns, pause_max_ns, pause_count;
static atomic_uint_fast64_t gc_total_ns, mark_total_ns, event_collections;
static atomic_bool events_seen;
/* Per-collection state, touched only by the collecting thread. */
static uint64_t gc_start_ns, stop_start_ns, mark_start_ns;
static bool stopped_this_gc;

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double ex_now(void) { return (double)now_ns() * 1e-9; }

static void add_pause(uint64_t ns) {
  atomic_fetch_add(&pause_total_ns, ns);
  atomic_fetch_add(&pause_count, 1);
  uint64_t max = atomic_load(&pause_max_ns);
  while (ns > max && !atomic_compare_exchange_weak(&pause_max_ns, &max, ns)) {
  }
}

static void on_event(int event) {
  uint64_t t = now_ns();
  atomic_store(&events_seen, true);
  switch (event) {
  case EX_EVENT_START:
    gc_start_ns = t;
    stopped_this_gc = false;
    break;
  case EX_EVENT_PRE_STOP_WORLD:
    stop_start_ns = t;
    stopped_this_gc = true;
    break;
  case EX_EVENT_POST_START_WORLD:
    add_pause(t - stop_start_ns);
    break;
  case EX_EVENT_MARK_START:
    mark_start_ns = t;
    break;
  case EX_EVENT_MARK_END:
    atomic_fetch_add(&mark_total_ns, t - mark_start_ns);
    break;
  case EX_EVENT_END:
    atomic_fetch_add(&gc_total_ns, t - gc_start_ns);
    atomic_fetch_add(&event_collections, 1);
    if (!stopped_this_gc)
      add_pause(t - gc_start_ns);
    break;
  default:
    break;
  }
}

#ifndef PARGC_GC_H
static void GC_CALLBACK on_event_boehm(GC_EventType event) { on_event((int)event); }
#endif

/* Returns false when the collector offers no events. */
static bool install_event_callback(void) {
#ifdef PARGC_GC_H
  if (!ex_set_on_collection_event)
    return false;
  ex_set_on_collection_event(on_event);
#else
  GC_set_on_collection_event(on_event_boehm);
#endif
  return true;
}

/* ---- Options ----------------------------------------------------------- */

static long parse_long(const char *prog, char opt, const char *text, long min) {
  char *end;
  errno = 0;
  long v = strtol(text, &end, 10);
  if (errno || end == text || *end || v < min) {
    fprintf(stderr, "%s: -%c wants an integer >= %ld, not '%s'\n", prog, opt, min, text);
    exit(2);
  }
  return v;
}

void ex_parse(ex_opts *o, int argc, char **argv, const char *usage,
              long size, long count, long small_size, long small_count) {
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  long n = -1, i = -1;
  int c;
  o->threads = cpus > 0 ? (int)cpus : 1;
  o->mode = NULL;
  o->seed = 1;
  o->small = o->verbose = false;
  while ((c = getopt(argc, argv, "t:n:i:m:r:svh")) != -1) {
    switch (c) {
    case 't': o->threads = (int)parse_long(o->name, 't', optarg, 1); break;
    case 'n': n = parse_long(o->name, 'n', optarg, 1); break;
    case 'i': i = parse_long(o->name, 'i', optarg, 0); break;
    case 'm': o->mode = optarg; break;
    case 'r': o->seed = (uint64_t)parse_long(o->name, 'r', optarg, 0); break;
    case 's': o->small = true; break;
    case 'v': o->verbose = true; break;
    case 'h': fputs(usage, stdout); exit(0);
    default: fputs(usage, stderr); exit(2);
    }
  }
  if (optind < argc) {
    fprintf(stderr, "%s: unexpected argument '%s'\n", o->name, argv[optind]);
    fputs(usage, stderr);
    exit(2);
  }
  o->size = n >= 0 ? n : o->small ? small_size : size;
  o->count = i >= 0 ? i : o->small ? small_count : count;
}

/* ---- Start, stop, summary ---------------------------------------------- */

static void *GC_CALLBACK out_of_memory(size_t bytes);
static double wall_start, wall_end;
static GC_word gc_no_start;
static bool have_events;
/* Snapshot taken by ex_stop, so that the checking after the workload does
 * not count in the summary. */
static struct {
  bool taken;
  double wall;
  GC_word gcs;
  uint64_t pause_total_ns, pause_max_ns;
  size_t heap;
} snap;

void ex_start(ex_opts *o) {
  GC_INIT();
  GC_set_oom_fn(out_of_memory);
  have_events = install_event_callback();
  gc_no_start = GC_get_gc_no();
  wall_start = ex_now();
}

void ex_stop(void) {
  wall_end = ex_now();
  snap.wall = wall_end - wall_start;
  snap.gcs = GC_get_gc_no() - gc_no_start;
  snap.pause_total_ns = atomic_load(&pause_total_ns);
  snap.pause_max_ns = atomic_load(&pause_max_ns);
  snap.heap = GC_get_heap_size();
  snap.taken = true;
}

static double peak_rss_mb(void) {
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0)
    return 0;
  return (double)ru.ru_maxrss / 1024.0; /* Linux reports kilobytes */
}

static const char *env_or(const char *name, const char *dflt) {
  const char *v = getenv(name);
  return v && *v ? v : dflt;
}

/* -v: everything the Boehm API tells about the heap, plus what the events
 * measured.  GC_get_prof_stats exists only in Boehm GC's header. */
static void print_stats(const ex_opts *o) {
  const double mb = 1.0 / (1 << 20);
  printf("  gc: collections=%lu events=%s event_collections=%" PRIuFAST64
         " pauses=%" PRIuFAST64 "\n",
         (unsigned long)GC_get_gc_no(), have_events ? "yes" : "no",
         atomic_load(&event_collections), atomic_load(&pause_count));
  printf("  gc: time_in_collections=%.1fms marking=%.1fms world_stopped=%.1fms\n",
         atomic_load(&gc_total_ns) * 1e-6, atomic_load(&mark_total_ns) * 1e-6,
         atomic_load(&pause_total_ns) * 1e-6);
  printf("  heap: size=%.1fMB free=%.1fMB unmapped=%.1fMB\n",
         GC_get_heap_size() * mb, GC_get_free_bytes() * mb, GC_get_unmapped_bytes() * mb);
  printf("  alloc: total=%.1fMB since_last_gc=%.1fMB\n",
         GC_get_total_bytes() * mb, GC_get_bytes_since_gc() * mb);
#ifndef PARGC_GC_H
  struct GC_prof_stats_s ps;
  if (GC_get_prof_stats(&ps, sizeof ps) >= sizeof ps) {
    printf("  boehm: markers=%lu obtained_from_os=%.1fMB reclaimed_before_gc=%.1fMB"
           " non_gc=%.1fMB\n",
           (unsigned long)ps.markers_m1 + 1, ps.obtained_from_os_bytes * mb,
           ps.reclaimed_bytes_before_gc * mb, ps.non_gc_bytes * mb);
  }
  printf("  collector: Boehm GC %u.%u.%u\n", GC_get_version() >> 16,
         (GC_get_version() >> 8) & 0xff, GC_get_version() & 0xff);
#else
  printf("  collector: pargc (Boehm GC API %d.%d)\n", GC_VERSION_MAJOR, GC_VERSION_MINOR);
#endif
  printf("  env: PARGC_K=%s PARGC_GC_THREADS=%s GC_MARKERS=%s GC_NPROCS=%s\n",
         env_or("PARGC_K", "-"), env_or("PARGC_GC_THREADS", "-"),
         env_or("GC_MARKERS", "-"), env_or("GC_NPROCS", "-"));
  printf("  run: seed=%" PRIu64 " size=%ld count=%ld%s\n", o->seed, o->size, o->count,
         o->small ? " small" : "");
}

int ex_finish(const ex_opts *o, bool ok) {
  return ex_finish_as(o, ok ? "ok" : "FAILED", ok ? 0 : 1);
}

int ex_finish_as(const ex_opts *o, const char *check, int status) {
  if (!snap.taken)
    ex_stop();
  const double mb = 1.0 / (1 << 20);
  char total[32], max[32];
  if (have_events) {
    snprintf(total, sizeof total, "%.1fms", snap.pause_total_ns * 1e-6);
    snprintf(max, sizeof max, "%.1fms", snap.pause_max_ns * 1e-6);
  } else {
    snprintf(total, sizeof total, "n/a");
    snprintf(max, sizeof max, "n/a");
  }
  printf("%s: wall=%.3fs threads=%d gcs=%lu pause_total=%s pause_max=%s heap=%.1fMB"
         " rss=%.1fMB check=%s\n",
         o->name, snap.wall, o->threads, (unsigned long)snap.gcs, total, max,
         snap.heap * mb, peak_rss_mb(), check);
  if (o->verbose)
    print_stats(o);
  fflush(stdout);
  return status;
}

/* ---- Threads and allocation -------------------------------------------- */

typedef struct {
  void (*fn)(int, void *);
  void *arg;
  int tid;
} ex_thread;

static void *thread_main(void *p) {
  ex_thread *t = p;
  t->fn(t->tid, t->arg);
  return NULL;
}

void ex_parallel(int threads, void (*fn)(int tid, void *arg), void *arg) {
  /* The records hold no heap pointers of their own (arg is the caller's,
   * reachable from its stack or static data), so plain malloc is fine. */
  ex_thread *t = malloc(sizeof *t * (size_t)threads);
  pthread_t *ids = malloc(sizeof *ids * (size_t)threads);
  if (!t || !ids) {
    fprintf(stderr, "examples: out of memory for %d threads\n", threads);
    exit(1);
  }
  for (int i = 0; i < threads; i++) {
    t[i] = (ex_thread){fn, arg, i};
    int err = pthread_create(&ids[i], NULL, thread_main, &t[i]);
    if (err) {
      fprintf(stderr, "examples: pthread_create: %s\n", strerror(err));
      exit(1);
    }
  }
  for (int i = 0; i < threads; i++)
    pthread_join(ids[i], NULL);
  free(ids);
  free(t);
}

static void *GC_CALLBACK out_of_memory(size_t bytes) {
  fprintf(stderr, "examples: the collector could not allocate %zu bytes\n", bytes);
  exit(1);
}
