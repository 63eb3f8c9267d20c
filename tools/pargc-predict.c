/* pargc-predict: how long would this collection take on P GC threads?
 *
 *   pargc-predict SNAPSHOT [--threads 1,2,4,...] [--machine FILE] [--seed N]
 *   pargc-predict [options] --run PROGRAM [ARGS...]
 *   pargc-predict --calibrate [--quick] [-o FILE]
 *
 * --run runs PROGRAM with a snapshot of every collection
 * (PARGC_SNAPSHOT_EVERY, when set, thins them), keeps the one with the
 * most live data, and predicts for it: "how many GC threads should my
 * program use" in one command.
 *
 * SNAPSHOT is a heap snapshot written by a program run with
 * PARGC_SNAPSHOT=FILE (docs/snapshot.md).  For each P the program prints
 *
 *   threads=P predicted_ms=X cpu_ms=.. miss_ms=.. contention_ms=.. critical_path_ms=..
 *
 * (gc/model.h gives each term), then the best P and what limits scaling.
 * --machine reads a machine description written by --calibrate; without
 * it the machine is measured on the fly (--quick: a shorter measurement,
 * about a second).  --calibrate measures the memory latency by pointer
 * chasing (and the misses a core keeps in flight, by many chases side by
 * side), the memory nodes' occupancy by streaming reads on every CPU,
 * and the marker's CPU costs by collecting an empty heap and synthetic
 * heaps with one GC thread (and a tree with two: the share of their CPUs
 * the GC threads get), and writes the description to FILE (default:
 * standard output).
 *
 * -v prints what the calibration measured on standard error.
 *
 * Exit status: 0, or 1 with a one-line reason on standard error.
 */
#include "config.h"
#include "alloc/options.h"
#include "gc/model.h"
#include "gc/snapshot.h"
#include "gc/snapshot_write.h"
#include <gc.h>
#include <pargc.h>

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

static double now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- Memory: latency by pointer chasing, occupancy by streaming ------- */

/* One cache line per cell, linked in a random cycle (Sattolo's shuffle),
 * so each load depends on the previous one and hits no prefetcher.
 * `chains` walks go round the cycle side by side, each from its own
 * start: the loads of one walk wait for each other, those of different
 * walks do not.  Returns the time per load: the latency with one walk,
 * the latency over the misses a core keeps in flight with many. */
#define CHASE_MAX_CHAINS 64

static double chase_walk(void *const *start, unsigned chains, size_t steps)
{
  void *p[CHASE_MAX_CHAINS];
  for (unsigned c = 0; c < chains; c++)
    p[c] = start[c];
  size_t rounds = steps / chains;
  double t0 = now_ns();
  for (size_t i = 0; i < rounds; i++)
    for (unsigned c = 0; c < chains; c++)
      p[c] = *(void *volatile *)p[c];
  double t = (now_ns() - t0) / (double)(rounds * chains);
  for (unsigned c = 0; c < chains; c++)
    if (!p[c])
      t = 0; /* never: the walks' results are used */
  return t;
}

/* The latency (one walk) and the least time per miss with up to
 * CHASE_MAX_CHAINS walks, over a buffer of `bytes`; false when it
 * cannot be allocated. */
static bool chase_ns(size_t bytes, size_t steps, double *lat, double *per_miss)
{
  size_t cells = bytes / 64;
  if (cells < 2 * CHASE_MAX_CHAINS)
    return false;
  char *buf = aligned_alloc(64, cells * 64);
  size_t *perm = malloc(cells * sizeof *perm);
  if (!buf || !perm) {
    free(buf);
    free(perm);
    return false;
  }
  for (size_t i = 0; i < cells; i++)
    perm[i] = i;
  uint64_t x = 88172645463325252ull;
  for (size_t i = cells - 1; i > 0; i--) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    size_t j = x % i;
    size_t t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  for (size_t i = 0; i < cells; i++)
    *(void **)(buf + perm[i] * 64) = buf + perm[(i + 1) % cells] * 64;
  void *start[CHASE_MAX_CHAINS];
  for (unsigned c = 0; c < CHASE_MAX_CHAINS; c++)
    start[c] = buf + perm[cells / CHASE_MAX_CHAINS * c] * 64;
  free(perm);
  chase_walk(start, 1, cells < steps ? cells : steps); /* warm the TLB and caches */
  *lat = chase_walk(start, 1, steps);
  *per_miss = *lat;
  for (unsigned k = 2; k <= CHASE_MAX_CHAINS; k *= 2) {
    double t = chase_walk(start, k, steps);
    if (t > 0 && t < *per_miss)
      *per_miss = t;
  }
  free(buf);
  return *lat > 0;
}

struct stream_arg {
  const uint64_t *lo;
  size_t words;
  uint64_t sum;
};

static void *stream_main(void *arg)
{
  struct stream_arg *a = arg;
  uint64_t s = 0;
  for (int rep = 0; rep < 2; rep++)
    for (size_t i = 0; i < a->words; i += 8) /* one word a line: the line is fetched */
      s += a->lo[i];
  a->sum = s;
  return NULL;
}

/* Bytes per nanosecond all CPUs read together from a buffer well beyond
 * the last-level cache. */
static double stream_bytes_per_ns(size_t bytes, unsigned cpus)
{
  uint64_t *buf = malloc(bytes);
  if (!buf)
    return 0;
  memset(buf, 1, bytes);
  pthread_t th[256];
  struct stream_arg args[256];
  if (cpus > 256)
    cpus = 256;
  size_t per = bytes / 8 / cpus;
  double t0 = now_ns();
  for (unsigned i = 0; i < cpus; i++) {
    args[i] = (struct stream_arg){buf + i * per, per, 0};
    pthread_create(&th[i], NULL, stream_main, &args[i]);
  }
  uint64_t total = 0;
  for (unsigned i = 0; i < cpus; i++) {
    pthread_join(th[i], NULL);
    total += args[i].sum;
  }
  double t = now_ns() - t0;
  free(buf);
  return total == 1 ? 0 : 2.0 * (double)(per * cpus * 8) / t;
}

/* ---- CPU costs: collections of synthetic heaps -------------------------- */

struct tnode {
  struct tnode *l, *r;
  long i, j;
};

static struct tnode *tree(int depth)
{
  if (!depth)
    return NULL;
  struct tnode *n = GC_MALLOC(sizeof *n);
  n->l = tree(depth - 1);
  n->r = tree(depth - 1);
  return n;
}

/* The calibration heaps hang from here (static data: a root). */
static void *volatile calib_root;

/* Zero the stack below the caller, where the builders' dead frames left
 * pointers that would keep the previous heap alive. */
static __attribute__((noinline)) void wipe_stack(void)
{
  volatile char buf[256 << 10];
  memset((char *)buf, 0, sizeof buf);
  __asm__ volatile("" : : "r"(buf) : "memory");
}

static __attribute__((noinline)) void build_heap(int shape, double scale)
{
  calib_root = NULL;
  switch (shape) {
  case 0: { /* binary trees of 32-byte nodes */
    int depth = 14 + (int)log2(scale);
    calib_root = tree(depth < 10 ? 10 : depth);
    break;
  }
  case 1: { /* a chain of small nodes */
    size_t n = (size_t)(100000 * scale);
    struct tnode *head = NULL;
    for (size_t i = 0; i < n; i++) {
      struct tnode *c = GC_MALLOC(sizeof *c);
      c->l = head;
      head = c;
    }
    calib_root = head;
    break;
  }
  case 2: { /* pointer arrays (large objects), every slot a pointer to
             * one of a few small objects: many pointers, few objects */
    size_t arrays = (size_t)(8 * scale) + 1, slots = (256 << 10) / sizeof(void *);
    void **few = GC_MALLOC(1024 * sizeof *few);
    for (size_t k = 0; k < 1024; k++)
      few[k] = GC_MALLOC_ATOMIC(16);
    void ***top = GC_MALLOC((arrays + 1) * sizeof *top);
    top[arrays] = few;
    for (size_t a = 0; a < arrays; a++) {
      top[a] = GC_MALLOC(slots * sizeof(void *));
      for (size_t s = 0; s < slots; s++)
        top[a][s] = few[(s * 7) % 1024];
    }
    calib_root = top;
    break;
  }
  case 4: { /* a tree of 128-byte nodes: more words per object */
    size_t n = (size_t)(30000 * scale);
    struct tnode **all = GC_MALLOC(n * sizeof *all);
    for (size_t i = 0; i < n; i++) {
      all[i] = GC_MALLOC(128);
      if (i % 2)
        all[(i - 1) / 2]->l = all[i];
      else if (i)
        all[(i - 1) / 2]->r = all[i];
    }
    calib_root = all[0];
    break;
  }
  case 3: { /* scanned objects without pointers: words only */
    size_t n = (size_t)(2000 * scale);
    void **top = GC_MALLOC(n * sizeof *top);
    for (size_t i = 0; i < n; i++) {
      long *o = GC_MALLOC(4096);
      for (size_t k = 0; k < 4096 / sizeof(long); k++)
        o[k] = (long)k;
      top[i] = o;
    }
    calib_root = top;
    break;
  }
  }
}

/* The collector's figures for the calibration's collections: the
 * child's PARGC_STATS_FILE. */
static char calib_stats[64];

/* mark_us or mark_cpu_us (`field`) of the last collection in the
 * stats file, in nanoseconds; -1 if there is none. */
static double last_stat_ns(const char *field)
{
  FILE *f = fopen(calib_stats, "r");
  if (!f)
    return -1;
  char line[8192], key[64];
  snprintf(key, sizeof key, "\"%s\":", field);
  double v = -1;
  while (fgets(line, sizeof line, f)) {
    const char *k = strstr(line, key);
    unsigned long long us;
    if (k && sscanf(k + strlen(key), "%llu", &us) == 1)
      v = (double)us * 1000.0;
  }
  fclose(f);
  return v;
}

/* Median mark times of `reps` collections, nanoseconds: CPU and wall.
 * The CPU time of one-thread marks is what the costs are fitted to
 * (what other processes take from the mark on a shared machine is no
 * cost of the heap); the wall times tell what several threads gained. */
static void mark_times_ns(int reps, double *cpu, double *wall)
{
  double c[16], w[16];
  if (reps > 16)
    reps = 16;
  for (int r = 0; r < reps; r++) {
    GC_gcollect();
    c[r] = last_stat_ns("mark_cpu_us");
    w[r] = last_stat_ns("mark_us");
  }
  *cpu = median(c, reps);
  *wall = median(w, reps);
}

/* Least squares with the coefficients kept non-negative: solve the
 * normal equations over the free columns, drop the most negative one,
 * repeat (k <= NCOEF columns, a handful of rows). */
#define NCOEF 4

static void nnls(int rows, int k, const double x[][NCOEF], const double *y, double *coef)
{
  bool use[NCOEF] = {true, true, true, true};
  for (int iter = 0; iter <= k; iter++) {
    double a[NCOEF][NCOEF + 1] = {{0}};
    int idx[NCOEF], m = 0;
    for (int j = 0; j < k; j++)
      if (use[j])
        idx[m++] = j;
    for (int i = 0; i < m; i++) {
      for (int j = 0; j < m; j++)
        for (int r = 0; r < rows; r++)
          a[i][j] += x[r][idx[i]] * x[r][idx[j]];
      for (int r = 0; r < rows; r++)
        a[i][m] += x[r][idx[i]] * y[r];
    }
    for (int c = 0; c < m; c++) { /* Gauss-Jordan with partial pivoting */
      int piv = c;
      for (int r = c + 1; r < m; r++)
        if (fabs(a[r][c]) > fabs(a[piv][c]))
          piv = r;
      for (int j = 0; j <= m; j++) {
        double t = a[c][j];
        a[c][j] = a[piv][j];
        a[piv][j] = t;
      }
      if (fabs(a[c][c]) < 1e-12)
        a[c][c] = 1e-12;
      for (int r = 0; r < m; r++) {
        if (r == c)
          continue;
        double f = a[r][c] / a[c][c];
        for (int j = c; j <= m; j++)
          a[r][j] -= f * a[c][j];
      }
    }
    for (int j = 0; j < k; j++)
      coef[j] = 0;
    int worst = -1;
    for (int i = 0; i < m; i++) {
      coef[idx[i]] = a[i][m] / a[i][i];
      if (coef[idx[i]] < 0 && (worst < 0 || coef[idx[i]] < coef[worst]))
        worst = idx[i];
    }
    if (worst < 0)
      return;
    use[worst] = false;
  }
}

#define CALIB_SHAPES 5
#define CALIB_EMPTY CALIB_SHAPES /* build_heap builds nothing */

/* What one calibration heap gave: the model's counts and the measured
 * mark times with one GC thread and with `helpers`. */
struct calib_point {
  double x[NCOEF];  /* objects, words, pointers, L2 misses hitting the
                       LLC */
  double fixed_ns;  /* TLB and memory misses at the machine's costs */
  double one_ns, one_wall_ns, many_ns; /* one thread: CPU, wall; several: wall */
  bool ok;
};

/* In a child process, so every heap starts from an empty collector: build
 * the shape, take its snapshot, time its collections. */
static struct calib_point calibrate_shape(const struct pargc_machine *m, int shape, double scale,
                                          unsigned helpers, int reps, bool verbose)
{
  struct calib_point pt;
  memset(&pt, 0, sizeof pt);
  int fd[2];
  if (pipe(fd) != 0)
    return pt;
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) {
    close(fd[0]);
    close(fd[1]);
    return pt;
  }
  if (pid == 0) {
    close(fd[0]);
    snprintf(calib_stats, sizeof calib_stats, "/tmp/pargc-calibrate-%d.json", (int)getpid());
    GC_INIT();
    /* The options were read when the program started (PARGC_STATS_FILE
     * from the environment then): point the statistics at this child's
     * file directly. */
    pargc_opt.stats_file = calib_stats;
    pargc_set_gc_threads(1);
    build_heap(shape, scale);
    wipe_stack();
    char path[64];
    snprintf(path, sizeof path, "/tmp/pargc-calibrate-%d.snap", (int)getpid());
    pargc_snapshot_request(path);
    GC_gcollect();
    char err[256];
    struct pargc_snapshot *s = pargc_snapshot_load(path, err, sizeof err);
    unlink(path);
    struct pargc_model_base b;
    if (s && pargc_model_prepare(&b, s, m)) {
      mark_times_ns(reps, &pt.one_ns, &pt.one_wall_ns);
      if (helpers > 1) {
        pargc_set_gc_threads(helpers);
        double cpu_many;
        mark_times_ns(reps, &cpu_many, &pt.many_ns);
      }
      pt.x[0] = (double)b.scanned_objects;
      pt.x[1] = (double)(b.scanned_words + s->root_words);
      pt.x[2] = (double)b.pointer_words;
      pt.x[3] = (double)(b.l2_misses - b.q1 - b.s1);
      pt.fixed_ns = (double)b.tlb_misses * m->tlb_ns + b.q1w * 2 * m->sl_ns + (double)b.q1 * m->so_ns +
                    (double)b.s1 * m->so_ns;
      pt.ok = true;
      if (verbose)
        fprintf(stderr,
                "heap %d: %zu objects, %.0f words, %.0f pointers, %.0f L2 misses, %llu memory "
                "(+%llu streamed) misses: %.3f ms CPU (%.3f ms) on 1 GC thread, %.3f ms on %u\n",
                shape, s->n, pt.x[1], pt.x[2], pt.x[3], (unsigned long long)b.q1,
                (unsigned long long)b.s1,
                pt.one_ns / 1e6, pt.one_wall_ns / 1e6, pt.many_ns / 1e6, helpers);
    } else {
      fprintf(stderr, "pargc-predict: calibration snapshot: %s\n", s ? "out of memory" : err);
    }
    unlink(calib_stats);
    ssize_t w = write(fd[1], &pt, sizeof pt);
    _exit(w == (ssize_t)sizeof pt ? 0 : 1);
  }
  close(fd[1]);
  ssize_t r = read(fd[0], &pt, sizeof pt);
  close(fd[0]);
  int status;
  waitpid(pid, &status, 0);
  if (r != (ssize_t)sizeof pt)
    pt.ok = false;
  return pt;
}

static int calibrate(struct pargc_machine *m, bool quick, bool verbose)
{
  pargc_machine_defaults(m);
  /* Memory. */
  size_t big = 4 * m->llc.bytes;
  size_t cap = quick ? ((size_t)128 << 20) : ((size_t)512 << 20);
  if (big < ((size_t)64 << 20))
    big = (size_t)64 << 20;
  if (big > cap)
    big = cap;
  /* Memory-level parallelism: the least time per miss with many walks
   * side by side, against one walk's latency. */
  double lat = 0, per_miss = 0;
  if (!chase_ns(big, quick ? 300000 : 2000000, &lat, &per_miss))
    lat = 0;
  double bw = stream_bytes_per_ns(big, m->cpus);
  if (lat > 0 && bw > 0) {
    m->so_ns = 64.0 / (bw / (m->nodes ? m->nodes : 1));
    if (m->so_ns > lat / 2)
      m->so_ns = lat / 2;
    m->sl_ns = (lat - m->so_ns) / 2;
    m->sl_remote_ns = m->nodes > 1 ? m->sl_ns * 1.6 : m->sl_ns;
    /* No more misses overlap than walks ran side by side: a first walk
     * slowed by other work on a shared machine must not say otherwise. */
    m->mlp = per_miss > 0 ? lat / per_miss : 1;
    if (m->mlp < 1)
      m->mlp = 1;
    if (m->mlp > CHASE_MAX_CHAINS)
      m->mlp = CHASE_MAX_CHAINS;
  }
  if (verbose)
    fprintf(stderr,
            "memory: latency %.1f ns over %zu MiB, %.1f ns per miss with many in flight "
            "(%.1f at once), %.2f GB/s streaming on %u CPUs\n",
            lat, big >> 20, per_miss, m->mlp, bw, m->cpus);

  /* CPU costs: each shape collected with one GC thread; its snapshot
   * gives the counts the model charges for.  The cost of a collection
   * is measured on an empty heap; the others are the non-negative
   * least-squares fit of the rest of the times to the counts, each heap
   * weighted by its time (relative errors: a fitted intercept, or
   * absolute errors, would let the largest heaps' misfit decide the
   * cost of every small collection). */
  double scale = quick ? 4 : 16;
  unsigned helpers = m->cpus > 1 ? 2 : 1;
  int reps = quick ? 5 : 9;
  struct calib_point empty = calibrate_shape(m, CALIB_EMPTY, 1, 1, reps, verbose);
  if (!empty.ok) {
    fprintf(stderr, "pargc-predict: calibration of an empty heap failed\n");
    return 1;
  }
  m->fixed_ns = empty.one_ns;
  /* Each shape at two sizes. */
  enum { POINTS = 2 * CALIB_SHAPES };
  struct calib_point pts[POINTS];
  double x[POINTS][NCOEF], y[POINTS];
  for (int i = 0; i < POINTS; i++) {
    int shape = i % CALIB_SHAPES;
    double sc = i < CALIB_SHAPES ? scale : scale / 4;
    pts[i] = calibrate_shape(m, shape, sc, i == 0 ? helpers : 1, reps, verbose);
    if (!pts[i].ok) {
      fprintf(stderr, "pargc-predict: calibration heap %d failed\n", shape);
      return 1;
    }
    double w = pts[i].one_ns > 0 ? 1e6 / pts[i].one_ns : 0;
    for (int j = 0; j < NCOEF; j++)
      x[i][j] = pts[i].x[j] * w;
    y[i] = pts[i].one_ns - pts[i].fixed_ns - m->fixed_ns;
    y[i] = y[i] > 0 ? y[i] * w : 0;
  }
  double coef[NCOEF];
  nnls(POINTS, NCOEF, x, y, coef);
  m->obj_ns = coef[0];
  m->word_ns = coef[1];
  m->ptr_ns = coef[2];
  m->llc_hit_ns = coef[3];
  /* The CPUs the GC threads get.  The share of their CPUs `helpers`
   * threads got, from the tree's mark on them against its mark on one
   * (less the helpers' start): about 1 on an idle machine, less where
   * other processes hold CPUs.  That share of every CPU, but no more
   * than the CPUs the load average leaves (it counts this calibration,
   * one runnable process, too). */
  if (helpers > 1) {
    const struct calib_point *t = &pts[0];
    double ideal = t->one_wall_ns / helpers + m->wake_ns;
    double share = t->many_ns > ideal ? ideal / t->many_ns : 1;
    if (t->many_ns > 0 && t->one_wall_ns > 0 && t->many_ns > t->one_wall_ns)
      share = 1.0 / helpers; /* no gain at all */
    double avail = share * m->cpus;
    double load;
    if (getloadavg(&load, 1) == 1) {
      double left = (double)m->cpus - (load > 1 ? load - 1 : 0);
      if (left < share * helpers)
        left = share * helpers;
      if (avail > left)
        avail = left;
    }
    m->avail_cpus = avail < 1 ? 1 : avail > m->cpus ? m->cpus : avail;
    if (verbose)
      fprintf(stderr, "CPUs available to the GC threads: %.2f (%u threads got %.0f%% of theirs)\n",
              m->avail_cpus, helpers, 100 * share);
  }
  return 0;
}

/* ---- Prediction ------------------------------------------------------------- */

static int parse_threads(const char *s, unsigned *out, int max)
{
  int n = 0;
  while (*s && n < max) {
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || v < 1 || v > 1024)
      return -1;
    out[n++] = (unsigned)v;
    s = *end == ',' ? end + 1 : end;
    if (*end && *end != ',')
      return -1;
  }
  return n;
}

/* --run: run the program with PARGC_SNAPSHOT=DIR/%n.snap, then keep the
 * snapshot of the collection with the most live data.  Returns its path
 * (in `out`) or false. */
static bool run_program(char **argv, char *out, size_t cap)
{
  char dir[] = "/tmp/pargc-predict-XXXXXX";
  if (!mkdtemp(dir)) {
    perror("pargc-predict: mkdtemp");
    return false;
  }
  char pattern[128];
  snprintf(pattern, sizeof pattern, "%s/%%n.snap", dir);
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0)
    return false;
  if (pid == 0) {
    setenv("PARGC_SNAPSHOT", pattern, 1);
    execvp(argv[0], argv);
    fprintf(stderr, "pargc-predict: cannot run %s\n", argv[0]);
    _exit(127);
  }
  int status;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    fprintf(stderr, "pargc-predict: %s exited with status %d; using its snapshots anyway\n",
            argv[0], WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
  /* The snapshots are numbered 1.. by collection; read each header. */
  uint64_t best_live = 0;
  unsigned long best = 0;
  char path[192];
  for (unsigned long n = 1, missing = 0; missing < 1000; n++) {
    snprintf(path, sizeof path, "%s/%lu.snap", dir, n);
    FILE *f = fopen(path, "rb");
    if (!f) {
      missing++;
      continue;
    }
    missing = 0;
    struct pargc_snapshot_header h;
    if (fread(&h, sizeof h, 1, f) == 1 && h.live_bytes >= best_live) {
      best_live = h.live_bytes;
      best = n;
    }
    fclose(f);
  }
  for (unsigned long n = 1, missing = 0; missing < 1000; n++) {
    snprintf(path, sizeof path, "%s/%lu.snap", dir, n);
    if (n != best && unlink(path) != 0)
      missing++;
    else
      missing = 0;
  }
  if (!best) {
    fprintf(stderr, "pargc-predict: %s ran no collection\n", argv[0]);
    rmdir(dir);
    return false;
  }
  snprintf(out, cap, "%s/%lu.snap", dir, best);
  return true;
}

static void usage(FILE *f)
{
  fputs("usage: pargc-predict SNAPSHOT [--threads 1,2,4,...] [--machine FILE] [--seed N]\n"
        "       pargc-predict [--threads ...] [--machine FILE] --run PROGRAM [ARGS...]\n"
        "       pargc-predict --calibrate [--quick] [-o FILE]\n"
        "Predicts a collection's mark time on P GC threads from a heap snapshot\n"
        "(PARGC_SNAPSHOT=FILE), or from the largest collection of a run of PROGRAM.\n"
        "  --threads LIST  thread counts to predict (default: 1, 2, 4, ... the CPUs)\n"
        "  --machine FILE  the machine as --calibrate wrote it (default: measure now)\n"
        "  --seed N        the stealing simulation's seed (default 1)\n"
        "  --calibrate     measure this machine; --quick: in about a second\n"
        "  -v              say what the calibration measured, on stderr\n"
        "See docs/tuning.md, \"How many GC threads?\".\n",
        f);
}

int main(int argc, char **argv)
{
  const char *snap = NULL, *machine = NULL, *outfile = NULL, *threads = NULL;
  bool do_calibrate = false, quick = false, verbose = false;
  char **run = NULL;
  uint64_t seed = 1;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--calibrate"))
      do_calibrate = true;
    else if (!strcmp(a, "--quick"))
      quick = true;
    else if (!strcmp(a, "-v") || !strcmp(a, "--verbose"))
      verbose = true;
    else if ((!strcmp(a, "--threads") || !strcmp(a, "-t")) && i + 1 < argc)
      threads = argv[++i];
    else if ((!strcmp(a, "--machine") || !strcmp(a, "-m")) && i + 1 < argc)
      machine = argv[++i];
    else if (!strcmp(a, "-o") && i + 1 < argc)
      outfile = argv[++i];
    else if (!strcmp(a, "--run") && i + 1 < argc) {
      run = argv + i + 1;
      break;
    } else if (!strcmp(a, "--seed") && i + 1 < argc)
      seed = strtoull(argv[++i], NULL, 10);
    else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      usage(stdout);
      return 0;
    } else if (a[0] != '-' && !snap)
      snap = a;
    else {
      usage(stderr);
      return 1;
    }
  }
  struct pargc_machine m;
  if (do_calibrate) {
    if (calibrate(&m, quick, verbose))
      return 1;
    FILE *out = outfile ? fopen(outfile, "w") : stdout;
    if (!out) {
      fprintf(stderr, "pargc-predict: cannot write %s\n", outfile);
      return 1;
    }
    pargc_machine_write(&m, out);
    if (outfile)
      fclose(out);
    return 0;
  }
  char run_snap[256];
  if (run) {
    if (snap || !run_program(run, run_snap, sizeof run_snap))
      return 1;
    snap = run_snap;
  }
  if (!snap) {
    usage(stderr);
    return 1;
  }
  char err[512];
  struct pargc_snapshot *s = pargc_snapshot_load(snap, err, sizeof err);
  if (!s) {
    fprintf(stderr, "pargc-predict: %s\n", err);
    return 1;
  }
  if (machine) {
    pargc_machine_defaults(&m);
    if (!pargc_machine_read(&m, machine, err, sizeof err)) {
      fprintf(stderr, "pargc-predict: %s\n", err);
      return 1;
    }
  } else {
    fprintf(stderr, "pargc-predict: no --machine file; measuring this machine (--quick)\n");
    if (calibrate(&m, true, verbose))
      return 1;
  }
  unsigned list[64];
  int nlist;
  if (threads) {
    nlist = parse_threads(threads, list, 64);
    if (nlist <= 0) {
      fprintf(stderr, "pargc-predict: --threads wants a list like 1,2,4,8\n");
      return 1;
    }
  } else {
    nlist = 0;
    for (unsigned p = 1; p < m.cpus && nlist < 63; p *= 2)
      list[nlist++] = p;
    list[nlist++] = m.cpus;
  }
  struct pargc_model_base b;
  if (!pargc_model_prepare(&b, s, &m)) {
    fprintf(stderr, "pargc-predict: out of memory\n");
    return 1;
  }
  printf("# snapshot %s: collection %llu, %zu objects, %.1f MiB live, %zu pointers, %zu roots\n",
         snap, (unsigned long long)s->gc_no, s->n, (double)s->live_bytes / (1 << 20), s->nedges,
         b.nroots);
  printf("# pseudo-mark: T1 %.3f ms, critical path %.3f ms, Q1 %llu memory misses "
         "(%.0f after overlap, +%llu streamed; L2 misses %llu, TLB misses %llu)\n",
         b.t1_ns / 1e6, b.critical_ns / 1e6, (unsigned long long)b.q1, b.q1w,
         (unsigned long long)b.s1,
         (unsigned long long)b.l2_misses, (unsigned long long)b.tlb_misses);
  struct pargc_model_result best = {0};
  double base = 0;
  for (int i = 0; i < nlist; i++) {
    struct pargc_model_result r;
    pargc_model_predict(&b, &m, list[i], seed, &r);
    printf("threads=%u predicted_ms=%.3f cpu_ms=%.3f miss_ms=%.3f contention_ms=%.3f "
           "critical_path_ms=%.3f steals=%llu extra_misses=%llu\n",
           r.threads, r.predicted_ns / 1e6, r.cpu_ns / 1e6, r.miss_ns / 1e6,
           r.contention_ns / 1e6, r.critical_ns / 1e6, (unsigned long long)r.steals,
           (unsigned long long)r.extra_misses);
    if (r.threads == 1)
      base = r.predicted_ns;
    if (i == 0 || r.predicted_ns < best.predicted_ns * 0.97)
      best = r;
  }
  unsigned most = 0;
  for (int i = 0; i < nlist; i++)
    most = list[i] > most ? list[i] : most;
  const char *why = best.threads == most
                        ? "nothing yet: it gains up to the most threads asked about"
                        : "more threads stop paying for their start-up and steals";
  if (best.critical_ns > 0.8 * best.cpu_ns && best.threads < most)
    why = "the object graph is too narrow (its critical path)";
  else if (best.contention_ns > 0.25 * best.predicted_ns)
    why = "contention at the memory nodes";
  else if (best.miss_ns > 0.5 * best.predicted_ns)
    why = "cache misses";
  printf("best: threads=%u predicted_ms=%.3f", best.threads, best.predicted_ns / 1e6);
  if (base > 0)
    printf(" speedup=%.2f", base / best.predicted_ns);
  printf(" (limited by %s)\n", why);
  pargc_model_release(&b);
  pargc_snapshot_free(s);
  if (run) { /* the kept snapshot and its folder */
    unlink(run_snap);
    char *slash = strrchr(run_snap, '/');
    if (slash) {
      *slash = 0;
      rmdir(run_snap);
    }
  }
  return 0;
}
