/*
 * examples/bh.c -- Barnes-Hut N-body simulation: a Plummer sphere of
 * bodies evolved with leapfrog steps; the forces come from an octree that
 * is rebuilt from scratch every step, so each step turns the previous tree
 * (some 40,000 nodes for 30,000 bodies) into garbage.
 *
 * Two variants (-m):
 *   st  the tree is built by one thread, the forces computed in parallel;
 *   pt  both in parallel: the bodies are bucketed into the 512 cells of the
 *       tree's top three levels, threads build the cells' subtrees, and one
 *       thread joins the cells under the top levels (a few hundred nodes).
 *
 * Units: G = 1, total mass 1, Plummer scale length 1; softening EPS and
 * opening angle THETA below.
 *
 * Check (after the run, not timed): the accelerations of 64 sampled bodies
 * match direct summation over all bodies within 3% (the error vectors'
 * RMS over the accelerations' RMS; typical at THETA 0.7 is 0.5-1.5%), and
 * the total energy (kinetic plus the tree's potential) drifts by less than
 * 0.1% over the run.
 */
#include "common.h"

#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: bh [-t threads] [-n bodies] [-i steps] [-m st|pt] [-r seed] [-s] [-v]\n"
    "  Barnes-Hut N-body simulation, octree rebuilt every step.\n"
    "  -t threads  worker threads (default: CPUs)\n"
    "  -n bodies   number of bodies (default 30000)\n"
    "  -i steps    time steps (default 20)\n"
    "  -m st|pt    st: tree built by one thread; pt: in parallel (default pt)\n"
    "  -r seed     seed of the initial conditions (default 1)\n"
    "  -s          small mode for make check: 2000 bodies, 5 steps\n"
    "  -v          print the full GC statistics\n";

#define THETA 0.7       /* open a cell when size / distance >= THETA */
#define EPS 0.025       /* Plummer softening length */
#define DT 0.0125       /* time step */
#define FORCE_TOL 0.03   /* relative force error, see check_forces */
#define ENERGY_TOL 0.001
#define SAMPLES 64
#define TOP_LEVELS 3    /* pt: the top levels one thread builds */
#define TOP_CELLS 512   /* 8^TOP_LEVELS */
#define MAX_DEPTH 48    /* below this, coincident bodies share a leaf */

typedef struct body {
  double pos[3], vel[3], acc[3];
  double phi;         /* potential at the body, for the energy */
  double mass;
  struct body *next;  /* more bodies in the same leaf (coincident only) */
} body;

/* An octree cell.  A leaf has `bodies` set and no children; an internal
 * cell has children and, once summarised, the mass and centre of mass of
 * everything below it.  Every cell is a separate GC_MALLOC object, and the
 * whole tree becomes garbage when the next step builds a new one. */
typedef struct cell {
  double center[3], half; /* the cube this cell covers */
  double mass, com[3];    /* summary of the bodies below */
  body *bodies;
  struct cell *child[8];
} cell;

typedef struct {
  int nbodies, steps, threads;
  bool parallel_tree;
  body **bodies;          /* the bodies, GC_MALLOC'd one by one */
  cell *root;
  /* Bounding cube of the current step. */
  double center[3], half;
  /* pt: bodies bucketed by top cell, as index ranges into `order`. */
  int *order, *cell_start;
  cell **top;             /* the subtree of each top cell */
  atomic_int next_cell, next_body;
} sim;

static sim S; /* static: a root for both collectors, shared by the threads */

/* ---- Initial conditions ------------------------------------------------ */

/* A Plummer sphere (Aarseth, Henon and Wielen 1974): radius from the
 * inverse cumulative mass, speed by rejection from the distribution
 * function, isotropic directions.  Then shift to the centre of mass. */
static void random_direction(uint64_t *rng, double r, double out[3]) {
  double z = 2 * ex_rand_unit(rng) - 1, phi = 2 * M_PI * ex_rand_unit(rng);
  double s = sqrt(1 - z * z);
  out[0] = r * s * cos(phi);
  out[1] = r * s * sin(phi);
  out[2] = r * z;
}

static void plummer(uint64_t seed) {
  uint64_t rng = seed;
  double cm[6] = {0};
  for (int i = 0; i < S.nbodies; i++) {
    body *b = GC_MALLOC(sizeof(body));
    b->mass = 1.0 / S.nbodies;
    double x, r;
    do {
      x = ex_rand_unit(&rng);
      r = 1.0 / sqrt(pow(x, -2.0 / 3.0) - 1.0);
    } while (!(r < 20)); /* drop the rare far outliers (and x = 0) */
    random_direction(&rng, r, b->pos);
    double q, g;
    do {
      q = ex_rand_unit(&rng);
      g = ex_rand_unit(&rng) * 0.1;
    } while (g > q * q * pow(1 - q * q, 3.5));
    random_direction(&rng, q * M_SQRT2 * pow(1 + r * r, -0.25), b->vel);
    for (int k = 0; k < 3; k++) {
      cm[k] += b->pos[k] * b->mass;
      cm[3 + k] += b->vel[k] * b->mass;
    }
    S.bodies[i] = b;
  }
  for (int i = 0; i < S.nbodies; i++)
    for (int k = 0; k < 3; k++) {
      S.bodies[i]->pos[k] -= cm[k];
      S.bodies[i]->vel[k] -= cm[3 + k];
    }
}

/* ---- Tree building ------------------------------------------------------ */

static cell *new_cell(const double center[3], double half) {
  cell *c = GC_MALLOC(sizeof(cell));
  memcpy(c->center, center, sizeof c->center);
  c->half = half;
  return c;
}

static int octant(const cell *c, const double pos[3]) {
  return (pos[0] >= c->center[0]) | (pos[1] >= c->center[1]) << 1 |
         (pos[2] >= c->center[2]) << 2;
}

static void child_center(const cell *c, int oct, double out[3]) {
  for (int k = 0; k < 3; k++)
    out[k] = c->center[k] + ((oct >> k & 1) ? 0.5 : -0.5) * c->half;
}

/* Insert b below c (c is a leaf or internal cell covering b). */
static void insert(cell *c, body *b, int depth) {
  for (;;) {
    if (c->bodies) { /* a leaf: split it, unless the bodies coincide */
      if (depth >= MAX_DEPTH) {
        b->next = c->bodies;
        c->bodies = b;
        return;
      }
      body *old = c->bodies;
      c->bodies = NULL;
      int o = octant(c, old->pos);
      double cc[3];
      child_center(c, o, cc);
      c->child[o] = new_cell(cc, c->half / 2);
      c->child[o]->bodies = old;
    }
    int o = octant(c, b->pos);
    if (!c->child[o]) {
      bool internal = false;
      for (int k = 0; k < 8; k++)
        internal |= c->child[k] != NULL;
      if (!internal && depth > 0) { /* an empty cell: b makes it a leaf */
        c->bodies = b;
        b->next = NULL;
        return;
      }
      double cc[3];
      child_center(c, o, cc);
      c->child[o] = new_cell(cc, c->half / 2);
      c->child[o]->bodies = b;
      b->next = NULL;
      return;
    }
    c = c->child[o];
    depth++;
  }
}

/* Mass and centre of mass of everything below c, bottom-up. */
static void summarise(cell *c) {
  double m = 0, com[3] = {0};
  if (c->bodies) {
    for (body *b = c->bodies; b; b = b->next) {
      m += b->mass;
      for (int k = 0; k < 3; k++)
        com[k] += b->mass * b->pos[k];
    }
  } else {
    for (int o = 0; o < 8; o++) {
      cell *ch = c->child[o];
      if (!ch)
        continue;
      summarise(ch);
      m += ch->mass;
      for (int k = 0; k < 3; k++)
        com[k] += ch->mass * ch->com[k];
    }
  }
  c->mass = m;
  for (int k = 0; k < 3; k++)
    c->com[k] = m > 0 ? com[k] / m : c->center[k];
}

static void bounding_cube(void) {
  double lo[3] = {INFINITY, INFINITY, INFINITY}, hi[3] = {-INFINITY, -INFINITY, -INFINITY};
  for (int i = 0; i < S.nbodies; i++)
    for (int k = 0; k < 3; k++) {
      lo[k] = fmin(lo[k], S.bodies[i]->pos[k]);
      hi[k] = fmax(hi[k], S.bodies[i]->pos[k]);
    }
  S.half = 0;
  for (int k = 0; k < 3; k++) {
    S.center[k] = (lo[k] + hi[k]) / 2;
    S.half = fmax(S.half, (hi[k] - lo[k]) / 2);
  }
  S.half *= 1.0001; /* every body strictly inside */
}

/* st: one thread inserts every body. */
static void build_tree_serial(void) {
  S.root = new_cell(S.center, S.half);
  for (int i = 0; i < S.nbodies; i++)
    insert(S.root, S.bodies[i], 0);
  summarise(S.root);
}

/* pt: the top cell (a cube of side 2*half/8) that holds pos. */
static int top_cell_of(const double pos[3]) {
  int idx = 0;
  for (int k = 0; k < 3; k++) {
    int i = (int)((pos[k] - (S.center[k] - S.half)) / (2 * S.half) * 8);
    i = i < 0 ? 0 : i > 7 ? 7 : i;
    idx |= i << (3 * k);
  }
  return idx;
}

static void top_cell_geometry(int idx, double center[3], double *half) {
  *half = S.half / 8;
  for (int k = 0; k < 3; k++) {
    int i = idx >> (3 * k) & 7;
    center[k] = S.center[k] - S.half + (2 * i + 1) * *half;
  }
}

/* pt, phase 1: threads take top cells one at a time (cells are uneven in a
 * Plummer sphere, so dynamic assignment balances the load). */
static void build_cells(int tid, void *arg) {
  int c;
  while ((c = atomic_fetch_add(&S.next_cell, 1)) < TOP_CELLS) {
    int lo = S.cell_start[c], hi = S.cell_start[c + 1];
    if (lo == hi)
      continue;
    double center[3], half;
    top_cell_geometry(c, center, &half);
    cell *sub = new_cell(center, half);
    for (int i = lo; i < hi; i++)
      insert(sub, S.bodies[S.order[i]], 1);
    summarise(sub);
    S.top[c] = sub;
  }
}

/* pt, phase 2 (one thread): the top levels above the built cells.  The
 * children of the cell at (level, x, y, z) are the cells at level+1 with
 * coordinates 2x+{0,1}, ...; level TOP_LEVELS is the built cells. */
static cell *join_top(int level, int x, int y, int z) {
  if (level == TOP_LEVELS)
    return S.top[x | y << 3 | z << 6];
  double half = S.half / (1 << level), center[3];
  int xyz[3] = {x, y, z};
  for (int k = 0; k < 3; k++)
    center[k] = S.center[k] - S.half + (2 * xyz[k] + 1) * half;
  cell *c = new_cell(center, half);
  double m = 0, com[3] = {0};
  for (int o = 0; o < 8; o++) {
    cell *ch = join_top(level + 1, 2 * x + (o & 1), 2 * y + (o >> 1 & 1), 2 * z + (o >> 2 & 1));
    c->child[o] = ch;
    if (!ch)
      continue;
    m += ch->mass;
    for (int k = 0; k < 3; k++)
      com[k] += ch->mass * ch->com[k];
  }
  if (m == 0)
    return NULL;
  c->mass = m;
  for (int k = 0; k < 3; k++)
    c->com[k] = com[k] / m;
  return c;
}

static void build_tree_parallel(void) {
  /* Bucket the bodies by top cell (a counting sort; O(n), cheap next to
   * the insertions).  The arrays are garbage after this step too. */
  int *count = GC_MALLOC_ATOMIC(sizeof(int) * (TOP_CELLS + 1));
  int *cellof = GC_MALLOC_ATOMIC(sizeof(int) * (size_t)S.nbodies);
  memset(count, 0, sizeof(int) * (TOP_CELLS + 1));
  for (int i = 0; i < S.nbodies; i++)
    count[(cellof[i] = top_cell_of(S.bodies[i]->pos)) + 1]++;
  for (int c = 0; c < TOP_CELLS; c++)
    count[c + 1] += count[c];
  S.cell_start = count;
  S.order = GC_MALLOC_ATOMIC(sizeof(int) * (size_t)S.nbodies);
  int *fill = GC_MALLOC_ATOMIC(sizeof(int) * TOP_CELLS);
  memcpy(fill, count, sizeof(int) * TOP_CELLS);
  for (int i = 0; i < S.nbodies; i++)
    S.order[fill[cellof[i]]++] = i;
  S.top = GC_MALLOC(sizeof(cell *) * TOP_CELLS);
  atomic_store(&S.next_cell, 0);
  ex_parallel(S.threads, build_cells, NULL);
  S.root = join_top(0, 0, 0, 0);
}

/* ---- Forces ------------------------------------------------------------- */

/* Acceleration and potential at pos from the tree, skipping `self`. */
static void tree_force(const cell *c, const body *self, const double pos[3], double acc[3],
                       double *phi) {
  if (c->bodies) {
    for (const body *b = c->bodies; b; b = b->next) {
      if (b == self)
        continue;
      double d[3], r2 = EPS * EPS;
      for (int k = 0; k < 3; k++) {
        d[k] = b->pos[k] - pos[k];
        r2 += d[k] * d[k];
      }
      double inv = 1 / sqrt(r2), f = b->mass * inv * inv * inv;
      for (int k = 0; k < 3; k++)
        acc[k] += f * d[k];
      *phi -= b->mass * inv;
    }
    return;
  }
  double d[3], dist2 = 0;
  for (int k = 0; k < 3; k++) {
    d[k] = c->com[k] - pos[k];
    dist2 += d[k] * d[k];
  }
  double size = 2 * c->half;
  if (size * size < THETA * THETA * dist2) { /* far enough: one point mass */
    double r2 = dist2 + EPS * EPS, inv = 1 / sqrt(r2), f = c->mass * inv * inv * inv;
    for (int k = 0; k < 3; k++)
      acc[k] += f * d[k];
    *phi -= c->mass * inv;
    return;
  }
  for (int o = 0; o < 8; o++)
    if (c->child[o])
      tree_force(c->child[o], self, pos, acc, phi);
}

enum { FORCE_CHUNK = 64 };

static void compute_forces(int tid, void *arg) {
  int start;
  while ((start = atomic_fetch_add(&S.next_body, FORCE_CHUNK)) < S.nbodies) {
    int end = start + FORCE_CHUNK < S.nbodies ? start + FORCE_CHUNK : S.nbodies;
    for (int i = start; i < end; i++) {
      body *b = S.bodies[i];
      double acc[3] = {0}, phi = 0;
      tree_force(S.root, b, b->pos, acc, &phi);
      memcpy(b->acc, acc, sizeof acc);
      b->phi = phi;
    }
  }
}

static void forces(void) {
  bounding_cube();
  if (S.parallel_tree)
    build_tree_parallel();
  else
    build_tree_serial();
  atomic_store(&S.next_body, 0);
  ex_parallel(S.threads, compute_forces, NULL);
}

/* Leapfrog, kick-drift-kick: second order and symplectic, so the energy
 * error stays bounded instead of growing step after step. */
static void step(void) {
  for (int i = 0; i < S.nbodies; i++) {
    body *b = S.bodies[i];
    for (int k = 0; k < 3; k++) {
      b->vel[k] += 0.5 * DT * b->acc[k];
      b->pos[k] += DT * b->vel[k];
    }
  }
  forces();
  for (int i = 0; i < S.nbodies; i++) {
    body *b = S.bodies[i];
    for (int k = 0; k < 3; k++)
      b->vel[k] += 0.5 * DT * b->acc[k];
  }
}

static double energy(void) {
  double kin = 0, pot = 0;
  for (int i = 0; i < S.nbodies; i++) {
    const body *b = S.bodies[i];
    kin += 0.5 * b->mass * (b->vel[0] * b->vel[0] + b->vel[1] * b->vel[1] + b->vel[2] * b->vel[2]);
    pot += 0.5 * b->mass * b->phi; /* each pair counted from both ends */
  }
  return kin + pot;
}

/* ---- Check --------------------------------------------------------------- */

/* The error is measured against the sample's RMS acceleration rather
 * than body by body: near the centre the pulls nearly cancel, and there a
 * small absolute error is a large relative one without meaning anything. */
static bool check_forces(uint64_t seed) {
  uint64_t rng = seed ^ 0x5eed;
  double sum_diff2 = 0, sum_norm2 = 0;
  for (int s = 0; s < SAMPLES; s++) {
    const body *b = S.bodies[ex_rand_below(&rng, (uint64_t)S.nbodies)];
    double acc[3] = {0};
    for (int j = 0; j < S.nbodies; j++) {
      const body *o = S.bodies[j];
      if (o == b)
        continue;
      double d[3], r2 = EPS * EPS;
      for (int k = 0; k < 3; k++) {
        d[k] = o->pos[k] - b->pos[k];
        r2 += d[k] * d[k];
      }
      double inv = 1 / sqrt(r2), f = o->mass * inv * inv * inv;
      for (int k = 0; k < 3; k++)
        acc[k] += f * d[k];
    }
    for (int k = 0; k < 3; k++) {
      sum_diff2 += (b->acc[k] - acc[k]) * (b->acc[k] - acc[k]);
      sum_norm2 += acc[k] * acc[k];
    }
  }
  double err = sqrt(sum_diff2 / sum_norm2);
  bool ok = err < FORCE_TOL;
  if (!ok || getenv("BH_VERBOSE_CHECK"))
    fprintf(stderr, "bh: force error against direct summation: %.2e (limit %.0e)\n", err,
            FORCE_TOL);
  return ok;
}

int main(int argc, char **argv) {
  ex_opts o = {.name = "bh"};
  ex_parse(&o, argc, argv, usage, 30000, 20, 2000, 5);
  if (!o.mode || !strcmp(o.mode, "pt")) {
    o.name = "bh-pt";
    S.parallel_tree = true;
  } else if (!strcmp(o.mode, "st")) {
    o.name = "bh-st";
  } else {
    fprintf(stderr, "bh: -m wants st or pt, not '%s'\n%s", o.mode, usage);
    return 2;
  }
  if (o.size < 2 || o.size > 100000000) {
    fprintf(stderr, "bh: -n wants 2 to 100000000 bodies\n");
    return 2;
  }
  S.nbodies = (int)o.size;
  S.steps = (int)o.count;
  S.threads = o.threads;
  ex_start(&o);
  /* The body table has pointers, so it is scanned; the bodies stay live. */
  S.bodies = GC_MALLOC(sizeof(body *) * (size_t)S.nbodies);
  plummer(o.seed);
  forces();
  double e0 = energy();
  for (int s = 0; s < S.steps; s++)
    step();
  double e1 = energy();
  ex_stop();

  bool ok = check_forces(o.seed);
  double drift = fabs((e1 - e0) / e0);
  if (drift >= ENERGY_TOL || getenv("BH_VERBOSE_CHECK")) {
    fprintf(stderr, "bh: energy %.6f -> %.6f, drift %.2e (limit %.0e)\n", e0, e1, drift,
            ENERGY_TOL);
    ok = ok && drift < ENERGY_TOL;
  }
  return ex_finish(&o, ok);
}
