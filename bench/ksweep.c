/* ksweep: uneven per-thread memory use, the case LPS's k is about.
 *
 *   ksweep -m LIVE_MB [-t THREADS] [-r ROUNDS]
 *
 * THREADS threads take turns: in round r only thread r % THREADS works,
 * building LIVE_MB of binary trees, replacing them once with a fresh copy
 * (so there is garbage), then dropping them all before the next round.
 * The program never needs more than about LIVE_MB live at once, but each
 * thread in turn needs all of it.  With all-local free pages (k = THREADS)
 * every thread ends up holding its own LIVE_MB of pages; with shared pages
 * (k = 1) the next thread reuses (steals) the pages the previous one freed,
 * at the cost of touching memory another thread touched first.  Run it for
 * k = 1..THREADS (PARGC_K) to see peak RSS against time; Boehm GC, whose
 * free lists are global, gives the reference.
 *
 * Prints one RESULT `ksweep` with param k (PARGC_K as set, "-" for
 * collectors without it): value = seconds, rss_kb = the peak RSS that
 * matters here.  With pargc, info_stolen is the share of the pages the
 * threads took that were stolen from other threads (pargc_get_stats:
 * stolen / (fresh + own + stolen + grown)), and info_remote the share
 * stolen from another NUMA node.
 */
#include "common.h"
#ifdef BENCH_IMPL_PARGC
#include <pargc.h>
#endif

#include <unistd.h>

typedef struct node {
  struct node *left, *right;
  long i, j;
} node;

#define TREE_DEPTH 12 /* 8191 nodes x 32 B = 256 KiB */
#define TREE_BYTES (((1L << (TREE_DEPTH + 1)) - 1) * (long)sizeof(node))
#define MAX_THREADS 256

static node **held[MAX_THREADS]; /* each thread's structure, rooted here */
static long n_trees;
static int threads, rounds;
static pthread_barrier_t turn;

static node *build(int depth)
{
  node *n = GC_MALLOC(sizeof *n);
  if (!n) {
    fprintf(stderr, "ksweep: out of memory\n");
    exit(1);
  }
  if (depth > 0) {
    n->left = build(depth - 1);
    n->right = build(depth - 1);
  }
  return n;
}

static void worker(int id, void *arg)
{
  (void)arg;
  for (int r = 0; r < rounds; r++) {
    if (r % threads == id) {
      held[id] = GC_MALLOC(sizeof(node *) * (size_t)n_trees);
      for (int copy = 0; copy < 2; copy++)
        for (long i = 0; i < n_trees; i++)
          held[id][i] = build(TREE_DEPTH);
      held[id] = NULL;
    }
    pthread_barrier_wait(&turn);
  }
}

int main(int argc, char **argv)
{
  long live_mb = 64;
  int c;
  threads = (int)sysconf(_SC_NPROCESSORS_ONLN);
  if (threads < 2)
    threads = 2;
  rounds = -1;
  while ((c = getopt(argc, argv, "m:t:r:")) != -1) {
    switch (c) {
    case 'm': live_mb = bench_parse_long(optarg, "live MB"); break;
    case 't': threads = (int)bench_parse_long(optarg, "threads"); break;
    case 'r': rounds = (int)bench_parse_long(optarg, "rounds"); break;
    default:
      fprintf(stderr, "usage: %s -m LIVE_MB [-t THREADS] [-r ROUNDS]\n", argv[0]);
      return 2;
    }
  }
  if (rounds < 0)
    rounds = 2 * threads;
  n_trees = live_mb * (1L << 20) / TREE_BYTES;
  if (threads < 1 || threads > MAX_THREADS || n_trees < 1 || rounds < 1) {
    fprintf(stderr, "ksweep: 1 <= THREADS <= %d, LIVE_MB >= 1, ROUNDS >= 1\n", MAX_THREADS);
    return 2;
  }
  GC_INIT();
  pthread_barrier_init(&turn, NULL, (unsigned)threads);
  double t = bench_run_threads(threads, worker, NULL);

  const char *k = getenv("PARGC_K");
  char params[96];
  snprintf(params, sizeof params, "live_mb=%ld threads=%d k=%s", live_mb, threads,
           k && *k && strcmp(BENCH_IMPL_NAME, "pargc") == 0 ? k : "-");
  char info[96] = "info_stolen=n/a";
#ifdef BENCH_IMPL_PARGC
  struct pargc_stats st;
  pargc_get_stats(&st, sizeof st);
  double stolen = (double)(st.stolen_local_pages + st.stolen_remote_pages);
  double all = stolen + (double)(st.fresh_pages + st.own_pages + st.grown_pages);
  snprintf(info, sizeof info, "info_stolen=%.3f info_remote=%.3f", all > 0 ? stolen / all : 0.0,
           all > 0 ? (double)st.stolen_remote_pages / all : 0.0);
#endif
  bench_result("ksweep", params, t, "s", info);
  return 0;
}
