/* fuzz_main.c: the multi-threaded driver.
 *
 *   fuzz_driver [--seed N] [--threads N] [--ops N | --seconds S] [--verbose]
 *               [--manual-vdb] [--incremental] [--max-live-mb N] [--watchdog S]
 *               [--no-fork] [--no-spawn] [--no-toggles] [--abort] [--disable NAME,...]
 *
 * Runs --threads worker slots.  Each slot runs generations: a thread
 * that does a random number of operations, exits, and is replaced (so
 * threads come and go all the time); --ops is each slot's total.  Prints
 * the seed first, and on success one summary line; a lost object prints
 * what was expected and found and exits 3, a hang exits 4.  See
 * docs/testing.md. */
#define _GNU_SOURCE
#include "fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define FZ_MAX_THREADS 64

struct slot {
  pthread_t thread;
  int index, running, detached, done; /* done: written by the worker */
  long ops_left;
  unsigned generation;
};
static struct slot slots[FZ_MAX_THREADS];
static double deadline;

static void usage(const char *argv0, int status)
{
  fprintf(stderr,
          "usage: %s [--seed N] [--threads N] [--ops N | --seconds S] [--verbose]\n"
          "          [--manual-vdb] [--incremental] [--max-live-mb N] [--watchdog S]\n"
          "          [--no-fork] [--no-spawn] [--no-toggles] [--abort] [--disable NAME,...]\n"
          "--disable takes operations and kinds of object:\n ",
          argv0);
  for (int i = 0; i < FZ_OP_COUNT; i++)
    fprintf(stderr, " %s", fz_op_names[i]);
  fprintf(stderr, "\n ");
  for (int i = 0; i < FZ_K_COUNT; i++)
    fprintf(stderr, " %s", fz_kinds[i].short_name);
  fprintf(stderr, "\n");
  exit(status);
}

/* --disable a,b,c: operations or kinds never chosen (to narrow a failure). */
static void parse_disable(const char *list, const char *argv0)
{
  char buf[1024];
  snprintf(buf, sizeof buf, "%s", list ? list : "");
  for (char *save, *name = strtok_r(buf, ",", &save); name; name = strtok_r(NULL, ",", &save)) {
    int found = 0;
    for (int i = 0; i < FZ_OP_COUNT; i++)
      if (!strcmp(name, fz_op_names[i]))
        fz_cfg.disabled_ops |= 1ULL << i, found = 1;
    for (int i = 0; i < FZ_K_COUNT; i++)
      if (!strcmp(name, fz_kinds[i].short_name))
        fz_cfg.disabled_kinds |= 1ULL << i, found = 1;
    if (!found) {
      fprintf(stderr, "%s: --disable: unknown name '%s'\n", argv0, name);
      usage(argv0, 2);
    }
  }
}

/* The variables that change how the collector runs, and the command
 * line with the seed made explicit: what a failure report prints. */
static void build_cmdline(int argc, char **argv, int seed_given)
{
  static const char *const vars[] = {
    "PARGC_MODE", "PARGC_BARRIER", "PARGC_GC_THREADS", "PARGC_CONC_GC_THREADS", "PARGC_CONC_MIN_LIVE",
    "PARGC_VERIFY", "PARGC_K", "PARGC_PRECLEAN_ROUNDS", "PARGC_DECOMMIT_DELAY_MS",
    "PARGC_MARK_PIECE", "PARGC_DEQUE_SIZE", "GC_MARKERS", "GC_NPROCS",
    "GC_INITIAL_HEAP_SIZE", "GC_FREE_SPACE_DIVISOR", "GC_ENABLE_INCREMENTAL",
    "GC_DISABLE_INCREMENTAL",
  };
  char *o = fz_cfg.cmdline, *end = o + sizeof fz_cfg.cmdline - 64;
  for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
    const char *v = getenv(vars[i]);
    if (v && o < end)
      o += snprintf(o, (size_t)(end - o), "%s='%s' ", vars[i], v);
  }
  for (int i = 0; i < argc && o < end; i++)
    o += snprintf(o, (size_t)(end - o), "%s%s", i ? " " : "", argv[i]);
  if (!seed_given)
    snprintf(o, 64, " --seed %llu", (unsigned long long)fz_cfg.seed);
}

static long number(const char *s, const char *argv0)
{
  char *e;
  long v = strtol(s ? s : "", &e, 10);
  if (!s || *e || v < 0)
    usage(argv0, 2);
  return v;
}

static void parse_args(int argc, char **argv)
{
  int seed_given = 0;
  fz_cfg.threads = 4;
  fz_cfg.ops = 20000;
  fz_cfg.max_live = (size_t)64 << 20;
  fz_cfg.watchdog_s = 60;
  fz_cfg.fork = fz_cfg.spawn = fz_cfg.toggles = 1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i], *v = argv[i + 1];
    if (!strcmp(a, "--seed")) {
      fz_cfg.seed = strtoull(v ? v : "", NULL, 10), seed_given = 1, i++;
    } else if (!strcmp(a, "--threads")) {
      fz_cfg.threads = (int)number(v, argv[0]), i++;
    } else if (!strcmp(a, "--ops")) {
      fz_cfg.ops = number(v, argv[0]), i++;
    } else if (!strcmp(a, "--seconds")) {
      fz_cfg.seconds = atof(v ? v : "0"), i++;
    } else if (!strcmp(a, "--max-live-mb")) {
      fz_cfg.max_live = (size_t)number(v, argv[0]) << 20, i++;
    } else if (!strcmp(a, "--watchdog")) {
      fz_cfg.watchdog_s = (int)number(v, argv[0]), i++;
    } else if (!strcmp(a, "--verbose")) {
      fz_cfg.verbose = 1;
    } else if (!strcmp(a, "--manual-vdb")) {
      fz_cfg.manual_vdb = 1;
    } else if (!strcmp(a, "--incremental")) {
      fz_cfg.incremental = 1;
    } else if (!strcmp(a, "--no-fork")) {
      fz_cfg.fork = 0;
    } else if (!strcmp(a, "--no-spawn")) {
      fz_cfg.spawn = 0;
    } else if (!strcmp(a, "--no-toggles")) {
      fz_cfg.toggles = 0;
    } else if (!strcmp(a, "--disable")) {
      parse_disable(v, argv[0]), i++;
    } else if (!strcmp(a, "--help")) {
      usage(argv[0], 0);
    } else if (!strcmp(a, "--abort")) {
      fz_cfg.abort_on_fail = 1;
    } else {
      usage(argv[0], 2);
    }
  }
  if (fz_cfg.threads < 1 || fz_cfg.threads > FZ_MAX_THREADS)
    usage(argv[0], 2);
  if (!seed_given)
    fz_cfg.seed = fz_mix((uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32)) % 1000000000;
  build_cmdline(argc, argv, seed_given);
}

/* ---- worker slots ------------------------------------------------------------- */

static void *worker_main(void *arg)
{
  struct slot *s = arg;
  struct fz_thread t;
  uint64_t seed = fz_mix(fz_cfg.seed ^ fz_mix((uint64_t)s->index << 32 | s->generation));
  long ops = fz_cfg.seconds > 0 ? 2000 + (long)(fz_mix(seed) % 20000) : s->ops_left;
  if (fz_cfg.seconds <= 0 && ops > fz_cfg.ops / 4) /* a few generations per slot */
    ops = fz_cfg.ops / 4 + (long)(fz_mix(seed) % (unsigned long)(fz_cfg.ops / 4 + 1));
  if (ops > s->ops_left && fz_cfg.seconds <= 0)
    ops = s->ops_left;
  fz_thread_init(&t, seed, 0);
  if (fz_cfg.verbose)
    fz_log("pargc-fuzz: slot %d generation %u: thread %llu, %ld ops\n", s->index, s->generation,
           (unsigned long long)t.uid, ops);
  fz_thread_run(&t, ops, deadline);
  long done = t.ops_done;
  fz_thread_fini(&t);
  s->ops_left -= done > 0 ? done : 1;
  __atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
  return NULL;
}

/* A new generation; detached now and then (nobody joins it then). */
static void start_slot(struct slot *s, struct fz_rng *r)
{
  s->done = 0;
  s->running = 1;
  s->generation++;
  if (pthread_create(&s->thread, NULL, worker_main, s) != 0)
    fz_fail(NULL, NULL, "pthread_create of a worker failed");
  s->detached = fz_rng_next(r) % 4 == 0;
  if (s->detached)
    pthread_detach(s->thread);
}

static int more_work(const struct slot *s)
{
  if (fz_stop)
    return 0;
  if (fz_cfg.seconds > 0)
    return fz_now() < deadline;
  return s->ops_left > 0;
}

static void progress(double start)
{
  fz_log("pargc-fuzz: %.0f s: %ld ops, %lu collections, heap %zu MiB, %ld finalizers run, "
         "%ld links cleared\n",
         fz_now() - start, fz_stats.ops, (unsigned long)GC_get_gc_no(), GC_get_heap_size() >> 20,
         fz_stats.finalizers_run, fz_stats.links_cleared);
}

/* Poll the slots: join finished generations, start the next ones. */
static void run_slots(void)
{
  struct fz_rng r;
  double start = fz_now(), next_report = start + 1;
  fz_rng_seed(&r, fz_cfg.seed);
  for (int i = 0; i < fz_cfg.threads; i++) {
    slots[i].index = i;
    slots[i].ops_left = fz_cfg.ops;
    start_slot(&slots[i], &r);
  }
  for (;;) {
    int running = 0;
    for (int i = 0; i < fz_cfg.threads; i++) {
      struct slot *s = &slots[i];
      if (s->running && __atomic_load_n(&s->done, __ATOMIC_ACQUIRE)) {
        if (!s->detached)
          pthread_join(s->thread, NULL);
        s->running = 0;
        if (more_work(s))
          start_slot(s, &r);
      }
      running += s->running;
    }
    if (!running && !__atomic_load_n(&fz_children_running, __ATOMIC_ACQUIRE))
      break;
    if (fz_cfg.verbose && fz_now() > next_report) {
      progress(start);
      next_report += 1;
    }
    struct timespec ts = {0, 2000000};
    nanosleep(&ts, NULL);
  }
}

/* ---- the watchdog ------------------------------------------------------------- */

/* Inside GC_do_blocking the collector neither stops nor scans this
 * thread, so it still runs when a collection hangs. */
static void *GC_CALLBACK watch(void *arg)
{
  (void)arg;
  long last = -1;
  int still = 0;
  for (;;) {
    sleep(1);
    long ops = __atomic_load_n(&fz_stats.ops, __ATOMIC_RELAXED);
    still = ops == last ? still + 1 : 0;
    last = ops;
    if (still >= fz_cfg.watchdog_s && !fz_stop) {
      fz_log("pargc-fuzz: HANG (seed %llu): no operation finished in %d s, %ld ops in all "
             "(a deadlock?)\npargc-fuzz: reproduce: %s\n",
             (unsigned long long)fz_cfg.seed, fz_cfg.watchdog_s, ops, fz_cfg.cmdline);
      _exit(4);
    }
  }
  return NULL;
}

static void *watchdog_main(void *arg) { return GC_do_blocking(watch, arg); }

static void summary(double seconds)
{
  printf("pargc-fuzz: ok: seed %llu, %d threads, %ld ops in %.1f s; %lu collections%s, %ld "
         "explicit collection calls; %ld allocations, %ld frees, %ld reallocs; %ld finalizers "
         "run, %ld closures run, %ld links cleared, %ld toggle-ref calls; %ld threads, %ld forks, "
         "%ld published; %ld walks checked %ld objects\n",
         (unsigned long long)fz_cfg.seed, fz_cfg.threads, fz_stats.ops, seconds,
         (unsigned long)GC_get_gc_no(), GC_is_incremental_mode() ? " (incremental)" : "",
         fz_stats.collections, fz_stats.allocs, fz_stats.frees,
         fz_stats.reallocs, fz_stats.finalizers_run, fz_stats.disclaims_run,
         fz_stats.links_cleared, fz_stats.toggle_calls, fz_stats.threads_started, fz_stats.forks,
         fz_stats.published, fz_stats.walks, fz_stats.objects_checked);
}

int main(int argc, char **argv)
{
  parse_args(argc, argv);
  printf("pargc-fuzz: seed %llu; reproduce: %s\n", (unsigned long long)fz_cfg.seed, fz_cfg.cmdline);
  fflush(stdout);
  GC_set_handle_fork(1);
  if (fz_cfg.manual_vdb)
    GC_set_manual_vdb_allowed(1);
  if (fz_cfg.incremental)
    GC_enable_incremental();
  GC_INIT();
  GC_allow_register_threads();
  fz_init_collector_extras();
  pthread_t wd;
  if (fz_cfg.watchdog_s > 0 && pthread_create(&wd, NULL, watchdog_main, NULL) == 0)
    pthread_detach(wd);
  double start = fz_now();
  deadline = fz_cfg.seconds > 0 ? start + fz_cfg.seconds : 0;
  run_slots();
  /* finalizers queued by a last collection run here, and check too */
  GC_gcollect();
  GC_invoke_finalizers();
  summary(fz_now() - start);
  return 0;
}
