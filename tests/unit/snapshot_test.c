/* Tests of gc/snapshot: an in-memory snapshot survives save and load
 * unchanged; damaged files are refused; a real collection writes a
 * snapshot (pargc_snapshot_request and PARGC_SNAPSHOT) whose objects,
 * live bytes and edges match what the collection marked. */
#include "config.h"
#include "gc/snapshot.h"
#include "gc/snapshot_write.h"
#include <gc.h>
#include "check.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[] = "/tmp/pargc-snapshot-XXXXXX";

static void path_in_dir(char *out, size_t cap, const char *name)
{
  snprintf(out, cap, "%s/%s", dir, name);
}

static void test_round_trip_in_memory(void)
{
  enum { N = 5000 };
  uint32_t size[N];
  uint8_t flags[N];
  for (int i = 0; i < N; i++) {
    size[i] = i % 7 == 0 ? 4096 : 16 * (1 + i % 5);
    flags[i] = i % 11 == 0 ? 0 : PARGC_SNAP_SCANNED;
  }
  struct pargc_snapshot *s = pargc_snapshot_new(N, size, flags);
  CHECK(s != NULL);
  for (uint32_t i = 0; i < N; i++) {
    if (!(flags[i] & PARGC_SNAP_SCANNED))
      continue;
    for (uint32_t k = 1; k <= 2 && 2 * i + k < N; k++)
      pargc_snapshot_add_edge(s, i, 2 * i + k);
    if (i % 13 == 0)
      pargc_snapshot_add_edge(s, i, 0); /* back edges and repeats are kept */
  }
  for (int i = 0; i < N / 2; i++)
    s->node[N / 2 + i] = 1;
  s->nodes = 2;
  pargc_snapshot_add_root(s, 0);
  pargc_snapshot_add_root(s, N - 1);
  pargc_snapshot_add_root(s, 3);
  pargc_snapshot_seal(s);
  s->gc_no = 42;
  s->root_words = 1234;

  char path[256];
  path_in_dir(path, sizeof path, "mem.snap");
  CHECK(pargc_snapshot_save(s, path));
  char err[256] = "";
  struct pargc_snapshot *t = pargc_snapshot_load(path, err, sizeof err);
  CHECK(t != NULL);
  if (!t) {
    fprintf(stderr, "load: %s\n", err);
    pargc_snapshot_free(s);
    return;
  }
  CHECK_EQ(t->n, s->n);
  CHECK_EQ(t->nedges, s->nedges);
  CHECK_EQ(t->nroots, 3);
  CHECK_EQ(t->gc_no, 42);
  CHECK_EQ(t->root_words, 1234);
  CHECK_EQ(t->live_bytes, s->live_bytes);
  CHECK_EQ(t->nodes, 2);
  CHECK(memcmp(t->addr, s->addr, N * sizeof *s->addr) == 0);
  CHECK(memcmp(t->size, s->size, N * sizeof *s->size) == 0);
  CHECK(memcmp(t->flags, s->flags, N) == 0);
  CHECK(memcmp(t->node, s->node, N * sizeof *s->node) == 0);
  CHECK(memcmp(t->edge_start, s->edge_start, (N + 1) * sizeof *s->edge_start) == 0);
  CHECK(memcmp(t->edge, s->edge, s->nedges * sizeof *s->edge) == 0);
  CHECK_EQ(t->root[1], N - 1);
  pargc_snapshot_free(t);

  /* A flipped byte in the body fails the checksum; a cut file, the
   * length; another version, the version check. */
  FILE *f = fopen(path, "r+b");
  CHECK(f != NULL);
  fseek(f, PARGC_SNAPSHOT_HEADER_BYTES + 100, SEEK_SET);
  int c = fgetc(f);
  fseek(f, PARGC_SNAPSHOT_HEADER_BYTES + 100, SEEK_SET);
  fputc(c ^ 0x55, f);
  fclose(f);
  CHECK(pargc_snapshot_load(path, err, sizeof err) == NULL);
  CHECK(strstr(err, "checksum") != NULL);
  CHECK(pargc_snapshot_save(s, path));
  CHECK(truncate(path, PARGC_SNAPSHOT_HEADER_BYTES + 10) == 0);
  CHECK(pargc_snapshot_load(path, err, sizeof err) == NULL);
  CHECK(strstr(err, "truncated") != NULL);
  CHECK(pargc_snapshot_save(s, path));
  f = fopen(path, "r+b");
  fseek(f, 8, SEEK_SET);
  fputc(9, f);
  fclose(f);
  CHECK(pargc_snapshot_load(path, err, sizeof err) == NULL);
  CHECK(strstr(err, "version") != NULL);
  CHECK(pargc_snapshot_load("/nonexistent/x.snap", err, sizeof err) == NULL);
  pargc_snapshot_free(s);
  unlink(path);
}

/* A binary tree of `depth` levels, each node two pointers and a value;
 * a pointer-free leaf buffer hangs off every fourth node. */
struct tnode {
  struct tnode *l, *r;
  void *buf;
  uintptr_t v;
};

static struct tnode *build(int depth, unsigned *count)
{
  if (!depth)
    return NULL;
  struct tnode *n = GC_MALLOC(sizeof *n);
  n->l = build(depth - 1, count);
  n->r = build(depth - 1, count);
  n->v = ++*count;
  if (n->v % 4 == 0)
    n->buf = GC_MALLOC_ATOMIC(200);
  return n;
}

static struct tnode *volatile tree_root;
static void *volatile big_array;

/* The JSON stats line of collection gc_no: its live_bytes, or -1. */
static long long stats_live_bytes(const char *file, unsigned long long gc_no)
{
  FILE *f = fopen(file, "r");
  if (!f)
    return -1;
  char line[8192];
  long long live = -1;
  while (fgets(line, sizeof line, f)) {
    unsigned long long n = 0, lb = 0;
    const char *g = strstr(line, "\"gc_no\":");
    const char *l = strstr(line, "\"live_bytes\":");
    if (g && l && sscanf(g, "\"gc_no\":%llu", &n) == 1 &&
        sscanf(l, "\"live_bytes\":%llu", &lb) == 1 && n == gc_no)
      live = (long long)lb;
  }
  fclose(f);
  return live;
}

static void test_real_collection(const char *stats_file)
{
  unsigned count = 0;
  tree_root = build(14, &count);
  /* A large pointer array (a run of its own) pointing at tree nodes. */
  void **arr = GC_MALLOC(600 * 1024);
  for (size_t i = 0; i < 600 * 1024 / sizeof(void *); i += 8)
    arr[i] = tree_root->l;
  big_array = arr;
  char path[256];
  path_in_dir(path, sizeof path, "real-%n.snap");
  pargc_snapshot_request(path);
  GC_gcollect();
  unsigned long long gc_no = (unsigned long long)GC_get_gc_no();
  char file[256];
  snprintf(file, sizeof file, "%s/real-%llu.snap", dir, gc_no);
  char err[256] = "";
  struct pargc_snapshot *s = pargc_snapshot_load(file, err, sizeof err);
  CHECK(s != NULL);
  if (!s) {
    fprintf(stderr, "load %s: %s\n", file, err);
    return;
  }
  CHECK_EQ(s->gc_no, gc_no);
  long long live = stats_live_bytes(stats_file, gc_no);
  CHECK(live > 0);
  CHECK_EQ(s->live_bytes, live);
  /* The tree's nodes and buffers are live, so the snapshot has at least
   * them, and at least their edges (two children per inner node, the
   * buffer of every fourth). */
  CHECK(s->n >= count + count / 4);
  CHECK(s->nedges >= (count - 1) + count / 4);
  CHECK(s->nroots > 0);
  uint64_t sum = 0;
  bool sorted = true, large = false;
  for (size_t i = 0; i < s->n; i++) {
    sum += s->size[i];
    sorted &= i == 0 || s->addr[i] > s->addr[i - 1];
    large |= (s->flags[i] & PARGC_SNAP_LARGE) && s->size[i] >= 600 * 1024;
  }
  CHECK_EQ(sum, s->live_bytes);
  CHECK(sorted);
  CHECK(large);
  /* The root node is found: some object with edges to two objects that
   * each have edges to two more (a tree node). */
  size_t tree_like = 0;
  for (size_t i = 0; i < s->n; i++)
    tree_like += s->edge_start[i + 1] - s->edge_start[i] >= 2;
  CHECK(tree_like >= count / 2);
  pargc_snapshot_free(s);
  unlink(file);

  /* No request: the next collection writes nothing (PARGC_SNAPSHOT's
   * once-only file was written at collection 1, see main). */
  GC_gcollect();
  snprintf(file, sizeof file, "%s/real-%llu.snap", dir, (unsigned long long)GC_get_gc_no());
  CHECK(access(file, F_OK) != 0);
}

int main(void)
{
  if (!mkdtemp(dir)) {
    perror("mkdtemp");
    return 1;
  }
  char stats_file[256], env_snap[256];
  path_in_dir(stats_file, sizeof stats_file, "stats.json");
  path_in_dir(env_snap, sizeof env_snap, "env.snap");
  setenv("PARGC_STATS_FILE", stats_file, 1);
  setenv("PARGC_SNAPSHOT", env_snap, 1);
  setenv("PARGC_HEAP_RESERVE", "4G", 0);
  GC_INIT();
  test_round_trip_in_memory();
  /* PARGC_SNAPSHOT without %n: the first collection writes it, once. */
  GC_gcollect();
  char err[256] = "";
  struct pargc_snapshot *s = pargc_snapshot_load(env_snap, err, sizeof err);
  CHECK(s != NULL);
  if (s) {
    CHECK_EQ(s->gc_no, 1);
    CHECK_EQ(s->live_bytes, stats_live_bytes(stats_file, 1));
    pargc_snapshot_free(s);
  }
  unlink(env_snap);
  test_real_collection(stats_file);
  CHECK(access(env_snap, F_OK) != 0);
  unlink(stats_file);
  rmdir(dir);
  return CHECK_SUMMARY();
}
