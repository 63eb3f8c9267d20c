/* Tests of gc/model on synthetic snapshots, with a fixed machine (no
 * measurement, so every figure is deterministic):
 *  - a single chain gains nothing from more GC threads, and its critical
 *    path is nearly all of the work;
 *  - a wide forest scales nearly linearly while its misses are few, and
 *    stops scaling once the memory node's queue dominates (contention);
 *  - a heap whose misses all go to one of two memory nodes (the nodes of
 *    an hwloc synthetic topology) queues more than the same heap spread
 *    over both;
 *  - stealing adds misses (QP > Q1) and the terms add up;
 *  - the machine file round-trips;
 *  - the online form picks one thread for small or narrow work and more
 *    for large, balanced work. */
#include "config.h"
#include "gc/model.h"
#include "gc/snapshot.h"
#include "alloc/topology.h"
#include "check.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A machine of known figures: caches small enough that the test heaps
 * miss in them. */
static void test_machine(struct pargc_machine *m)
{
  memset(m, 0, sizeof *m);
  m->l1 = (struct pargc_cache_level){32 << 10, 8, 64};
  m->l2 = (struct pargc_cache_level){256 << 10, 8, 64};
  m->llc = (struct pargc_cache_level){1 << 20, 16, 64};
  m->tlb = (struct pargc_cache_level){(uint64_t)64 << 12, 4, 4096};
  m->llc_shared = true;
  m->cpus = 64;
  m->nodes = 1;
  m->obj_ns = 10;
  m->word_ns = 1;
  m->ptr_ns = 3;
  m->llc_hit_ns = 10;
  m->tlb_ns = 5;
  m->sl_ns = 40;
  m->sl_remote_ns = 80;
  m->so_ns = 10;
  m->steal_ns = 200;
  m->probe_ns = 50;
  m->wake_ns = 2000;
  m->piece_bytes = 32 << 10;
}

/* n objects of `size` bytes. */
static struct pargc_snapshot *objects(size_t n, uint32_t size)
{
  uint32_t *sz = malloc(n * sizeof *sz);
  for (size_t i = 0; i < n; i++)
    sz[i] = size;
  struct pargc_snapshot *s = pargc_snapshot_new(n, sz, NULL);
  free(sz);
  return s;
}

static struct pargc_snapshot *chain(size_t n)
{
  struct pargc_snapshot *s = objects(n, 32);
  for (uint32_t i = 0; i + 1 < n; i++)
    pargc_snapshot_add_edge(s, i, i + 1);
  pargc_snapshot_add_root(s, 0);
  pargc_snapshot_seal(s);
  return s;
}

/* `trees` complete binary trees of `nodes` nodes each, each tree a root.
 * Node i of a tree is its object i (heap order: marked in address order,
 * as the hardware prefetcher likes), or with `scatter` its object
 * i * scatter mod nodes (scatter prime to nodes: consecutive nodes far
 * apart, every miss a wait). */
static struct pargc_snapshot *forest_at(size_t trees, size_t nodes, uint32_t size, size_t scatter)
{
  size_t n = trees * nodes;
  struct pargc_snapshot *s = objects(n, size);
  for (size_t t = 0; t < trees; t++)
    for (size_t i = 0; i < nodes; i++) {
      size_t base = t * nodes;
      for (size_t k = 1; k <= 2; k++)
        if (2 * i + k < nodes)
          pargc_snapshot_add_edge(s, (uint32_t)(base + i * scatter % nodes),
                                  (uint32_t)(base + (2 * i + k) * scatter % nodes));
    }
  for (size_t t = 0; t < trees; t++)
    pargc_snapshot_add_root(s, (uint32_t)(t * nodes));
  pargc_snapshot_seal(s);
  return s;
}

static struct pargc_snapshot *forest(size_t trees, size_t nodes, uint32_t size)
{
  return forest_at(trees, nodes, size, 1);
}

static void predict(const struct pargc_snapshot *s, const struct pargc_machine *m, unsigned p,
                    struct pargc_model_result *r)
{
  struct pargc_model_base b;
  CHECK(pargc_model_prepare(&b, s, m));
  pargc_model_predict(&b, m, p, 7, r);
  pargc_model_release(&b);
}

/* A chain whose node i is object i * scatter mod n (scatter prime to n). */
static struct pargc_snapshot *chain_at(size_t n, size_t scatter)
{
  struct pargc_snapshot *s = objects(n, 32);
  for (size_t i = 0; i + 1 < n; i++)
    pargc_snapshot_add_edge(s, (uint32_t)(i * scatter % n), (uint32_t)((i + 1) * scatter % n));
  pargc_snapshot_add_root(s, 0);
  pargc_snapshot_seal(s);
  return s;
}

static void test_chain(void)
{
  struct pargc_machine m;
  test_machine(&m);
  struct pargc_snapshot *s = chain(50000);
  struct pargc_model_base b;
  CHECK(pargc_model_prepare(&b, s, &m));
  CHECK_EQ(b.objects, 50000);
  CHECK_EQ(b.pointer_words, 49999);
  /* The whole chain is one path. */
  CHECK(b.critical_ns > 0.95 * b.t1_ns);
  struct pargc_model_result r1, r;
  pargc_model_predict(&b, &m, 1, 7, &r1);
  CHECK(fabs(r1.cpu_ns - b.t1_ns) < 1e-6 * b.t1_ns);
  CHECK_EQ(r1.steals, 0);
  unsigned ps[] = {2, 4, 8, 32};
  for (size_t i = 0; i < sizeof ps / sizeof ps[0]; i++) {
    pargc_model_predict(&b, &m, ps[i], 7, &r);
    CHECK(r.predicted_ns >= 0.97 * r1.predicted_ns); /* no gain */
    CHECK(r.cpu_ns >= r.critical_ns);
  }
  pargc_model_release(&b);
  pargc_snapshot_free(s);
}

static void test_forest(void)
{
  struct pargc_machine m;
  test_machine(&m);
  /* Caches that hold the heap: few misses, so only the work counts. */
  m.llc.bytes = 64 << 20;
  m.l2.bytes = 32 << 20;
  struct pargc_snapshot *s = forest(256, 1023, 64);
  struct pargc_model_result r1, r2, r4, r8;
  predict(s, &m, 1, &r1);
  predict(s, &m, 2, &r2);
  predict(s, &m, 4, &r4);
  predict(s, &m, 8, &r8);
  CHECK(r1.predicted_ns / r2.predicted_ns > 1.85);
  CHECK(r1.predicted_ns / r4.predicted_ns > 3.5);
  CHECK(r1.predicted_ns / r8.predicted_ns > 6.5);
  CHECK(r8.steals > 0);
  CHECK(r8.qp > r1.qp); /* a thief misses what the owner had cached */
  CHECK(r8.critical_ns < r1.cpu_ns / 100); /* wide: short paths */
  /* The terms add up. */
  CHECK(fabs(r8.predicted_ns - (r8.cpu_ns + r8.miss_ns + r8.contention_ns)) <
        1e-6 * r8.predicted_ns);

  /* The same forest, scattered, on a machine where every line comes
   * from one slow memory node: near-linear at first, then the node's
   * queue takes over. */
  pargc_snapshot_free(s);
  s = forest_at(256, 1023, 64, 383);
  test_machine(&m);
  m.l2.bytes = 64 << 10;
  m.llc.bytes = 128 << 10;
  m.so_ns = 20;
  predict(s, &m, 1, &r1);
  CHECK_EQ(r1.contention_ns, 0);
  CHECK(r1.miss_ns > 0);
  struct pargc_model_result r64;
  predict(s, &m, 2, &r2);
  predict(s, &m, 64, &r64);
  CHECK(r1.predicted_ns / r2.predicted_ns > 1.7);
  CHECK(r64.contention_ns > 0);
  CHECK(r64.contention_ns > r64.miss_ns); /* the queue dominates the misses */
  CHECK(r1.predicted_ns / r64.predicted_ns < 0.5 * 64); /* far from linear */
  CHECK(r64.qp >= r1.qp);
  CHECK(r64.steals > r2.steals);
  pargc_snapshot_free(s);
}

/* Misses overlap: the hardware prefetcher streams a heap marked in
 * address order, and the tracer's prefetches overlap the misses of a
 * wide heap up to the misses a core keeps in flight -- but not those of
 * a chain, whose next object is known only once this one is loaded. */
static void test_overlap(void)
{
  struct pargc_machine m;
  test_machine(&m);
  m.l2.bytes = 64 << 10;
  m.llc.bytes = 128 << 10;

  /* In address order, nearly every miss is streamed; scattered, none. */
  struct pargc_snapshot *ordered = chain_at(50000, 1), *scattered = chain_at(50000, 7919);
  struct pargc_model_base b;
  CHECK(pargc_model_prepare(&b, ordered, &m));
  CHECK(b.s1 > 20 * b.q1);
  pargc_model_release(&b);
  CHECK(pargc_model_prepare(&b, scattered, &m));
  CHECK(b.q1 > 20 * b.s1);
  /* A chain waits out each miss whatever the core could overlap. */
  CHECK(fabs(b.q1w - (double)b.q1) < 1.0);
  struct pargc_model_result r1, r8;
  m.mlp = 1;
  pargc_model_predict(&b, &m, 1, 7, &r1);
  m.mlp = 8;
  pargc_model_predict(&b, &m, 1, 7, &r8);
  CHECK(fabs(r1.predicted_ns - r8.predicted_ns) < 1e-6 * r1.predicted_ns);
  pargc_model_release(&b);

  /* A wide forest, scattered: an object's miss waits an eighth of the
   * latency; the side data of a node's two pointers overlap in pairs. */
  struct pargc_snapshot *wide = forest_at(256, 1023, 64, 383);
  m.mlp = 1;
  CHECK(pargc_model_prepare(&b, wide, &m));
  CHECK(fabs(b.q1w - (double)b.q1) < 1.0);
  pargc_model_predict(&b, &m, 1, 7, &r1);
  pargc_model_release(&b);
  m.mlp = 8;
  CHECK(pargc_model_prepare(&b, wide, &m));
  CHECK(b.q1w < 0.35 * (double)b.q1);
  CHECK(b.q1w > 0.12 * (double)b.q1);
  pargc_model_predict(&b, &m, 1, 7, &r8);
  CHECK(r8.miss_ns < 0.4 * r1.miss_ns);
  CHECK(r8.predicted_ns < r1.predicted_ns);
  pargc_model_release(&b);
  pargc_snapshot_free(ordered);
  pargc_snapshot_free(scattered);
  pargc_snapshot_free(wide);
}

/* The nodes of a synthetic two-node topology: the heap's lines all on
 * node 0, or half on each. */
static void test_two_nodes(void)
{
  uint64_t bytes[3];
  unsigned ways[3], line[3];
  bool shared;
  int nodes = 0;
  int pus = pargc_topology_caches("pack:2 numa:1 l3:1 core:4 pu:1", bytes, ways, line, &shared,
                                  &nodes);
  if (pus == 0) {
    pus = pargc_topology_caches("package:2 numa:1 l3:1 core:4 pu:1", bytes, ways, line, &shared,
                                &nodes);
  }
  CHECK_EQ(pus, 8);
  CHECK_EQ(nodes, 2);
  struct pargc_machine m;
  test_machine(&m);
  m.nodes = (unsigned)nodes;
  m.cpus = (unsigned)pus;
  m.l2.bytes = 64 << 10;
  m.llc.bytes = 128 << 10;
  m.so_ns = 40;
  struct pargc_snapshot *one = forest(128, 1023, 64), *two = forest(128, 1023, 64);
  for (size_t i = 0; i < two->n; i++)
    two->node[i] = (uint16_t)(i % 2); /* alternate objects: both nodes */
  struct pargc_model_result a1, a8, b8;
  predict(one, &m, 1, &a1);
  predict(one, &m, 8, &a8);
  predict(two, &m, 8, &b8);
  CHECK_EQ(a1.contention_ns, 0);
  CHECK(a8.contention_ns > 0);
  CHECK(b8.contention_ns > 0);
  CHECK(a8.contention_ns > 1.5 * b8.contention_ns); /* one node queues more */
  CHECK(a8.predicted_ns > b8.predicted_ns);
  /* Spread over both nodes, half the accesses are remote for a thread:
   * the latency part of a miss is higher than all-local. */
  struct pargc_machine local = m;
  local.sl_remote_ns = local.sl_ns;
  struct pargc_model_result b8l;
  predict(two, &local, 8, &b8l);
  CHECK(b8.miss_ns > b8l.miss_ns);
  pargc_snapshot_free(one);
  pargc_snapshot_free(two);
}

/* Nothing can be stolen before the collecting thread has scanned the
 * roots: with a large fixed cost per collection, no P beats the
 * critical path, which starts with it. */
static void test_fixed_cost_is_sequential(void)
{
  struct pargc_machine m;
  test_machine(&m);
  m.fixed_ns = 5e6;
  struct pargc_snapshot *s = forest(64, 255, 64);
  struct pargc_model_base b;
  CHECK(pargc_model_prepare(&b, s, &m));
  CHECK(b.critical_ns >= 5e6);
  unsigned ps[] = {1, 2, 8};
  for (size_t i = 0; i < 3; i++) {
    struct pargc_model_result r;
    pargc_model_predict(&b, &m, ps[i], 7, &r);
    CHECK(r.cpu_ns >= b.critical_ns);
    CHECK(r.cpu_ns >= 5e6 + (b.t1_ns - 5e6) / ps[i]);
  }
  pargc_model_release(&b);
  pargc_snapshot_free(s);
}

static void test_unreached_objects_count(void)
{
  /* Objects that no recorded root reaches (a root hook marked them) are
   * still marked by the pseudo-mark. */
  struct pargc_machine m;
  test_machine(&m);
  struct pargc_snapshot *s = objects(100, 48);
  for (uint32_t i = 0; i + 1 < 50; i++)
    pargc_snapshot_add_edge(s, i, i + 1);
  pargc_snapshot_add_root(s, 0);
  pargc_snapshot_seal(s);
  struct pargc_model_base b;
  CHECK(pargc_model_prepare(&b, s, &m));
  CHECK_EQ(b.objects, 100);
  CHECK_EQ(b.nroots, 51);
  pargc_model_release(&b);
  pargc_snapshot_free(s);
}

static void test_machine_file(void)
{
  struct pargc_machine m, r;
  test_machine(&m);
  m.obj_ns = 12.5;
  m.nodes = 4;
  char path[] = "/tmp/pargc-machine-XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  FILE *f = fdopen(fd, "w");
  pargc_machine_write(&m, f);
  fclose(f);
  memset(&r, 0, sizeof r);
  char err[256];
  CHECK(pargc_machine_read(&r, path, err, sizeof err));
  CHECK(fabs(r.obj_ns - 12.5) < 1e-3);
  CHECK_EQ(r.nodes, 4);
  CHECK_EQ(r.llc.bytes, m.llc.bytes);
  CHECK_EQ(r.l1.ways, m.l1.ways);
  f = fopen(path, "a");
  fputs("bogus_key 3\n", f);
  fclose(f);
  CHECK(!pargc_machine_read(&r, path, err, sizeof err));
  CHECK(strstr(err, "bogus_key") != NULL);
  unlink(path);
}

static unsigned online(uint64_t mark_ns, unsigned threads, double parallelism, unsigned max)
{
  struct pargc_model_online o = {0, 0};
  pargc_model_online_observe(&o, mark_ns, threads, parallelism, 30000);
  return pargc_model_online_threads(&o, max, 30000);
}

static void test_online(void)
{
  /* 50 us of marking: helpers that take 30 us to start cannot pay. */
  CHECK_EQ(online(50000, 1, 1.0, 8), 1);
  /* 100 ms seen on one thread, nothing known of the graph: all 8. */
  CHECK_EQ(online(100000000, 1, 1.0, 8), 8);
  /* Both of 2 marked throughout: up to twice as many next. */
  CHECK_EQ(online(50000000, 2, 2.0, 16), 4);
  /* Narrow: on 4 threads the marking reached a parallelism of 1.03
   * (a chain's work moving between threads) -- back to one, and one
   * stays the choice after a collection on one thread. */
  struct pargc_model_online o = {0, 0};
  pargc_model_online_observe(&o, 100000000, 4, 1.03, 30000);
  CHECK_EQ(pargc_model_online_threads(&o, 16, 30000), 1);
  pargc_model_online_observe(&o, 100000000, 1, 1.0, 30000);
  CHECK_EQ(pargc_model_online_threads(&o, 16, 30000), 1);
  /* ... but not for ever: a few collections later, two are tried. */
  for (int i = 0; i < 3; i++)
    pargc_model_online_observe(&o, 100000000, 1, 1.0, 30000);
  CHECK_EQ(pargc_model_online_threads(&o, 16, 30000), 2);
  /* Half-narrow: a parallelism of 2 on 4 threads allows 2. */
  CHECK_EQ(online(100000000, 4, 2.0, 16), 2);
  /* Unknown parallelism (0): as if every thread marked throughout. */
  CHECK_EQ(online(50000000, 2, 0, 16), 4);
  /* Never more than allowed, never zero. */
  CHECK_EQ(online(100000000, 1, 1.0, 1), 1);
  CHECK_EQ(online(0, 1, 1.0, 8), 1);
}

int main(void)
{
  test_chain();
  test_forest();
  test_overlap();
  test_two_nodes();
  test_fixed_cost_is_sequential();
  test_unreached_objects_count();
  test_machine_file();
  test_online();
  return CHECK_SUMMARY();
}
