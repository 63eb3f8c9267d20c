/*
 * examples/cube.c -- approximate solving of a scrambled Rubik's cube by
 * breadth-first search with pruning (a beam search): at each depth every
 * position of the frontier is expanded by all face turns, positions seen
 * before are dropped, and only the best-scoring BEAM positions survive to
 * the next depth.  Threads share the expansion of each frontier.
 *
 * What the collector sees: every expanded position is a new heap object
 * carrying its move history as a linked list that shares its tail with the
 * parent's, most of them die at the next pruning; the visited set is a
 * binary search tree that only grows (live data to mark at every
 * collection), into which the threads insert without locks (a node is
 * linked by compare-and-swap into an empty child slot).
 *
 * The cube is in cubie form (corner and edge permutation and orientation,
 * Kociemba's conventions); a position's score is the sum over cubies of
 * the fewest turns that would bring that cubie home on its own, which is
 * 0 only for the solved cube.
 *
 * Check: the moves found, applied to the scrambled cube, give the solved
 * cube.  A beam search may miss, the more likely the longer the scramble:
 * when no solution is found within 20 moves the program says so plainly,
 * reports check=none and exits with status 3 (not 1, which means a wrong
 * answer).  The default (scramble 8, beam 10,000) and small mode (7,
 * 2,000) are sized to succeed.
 */
#include "common.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: cube [-t threads] [-n beam] [-i scramble] [-r seed] [-s] [-v]\n"
    "  Beam search (breadth-first with pruning) for a Rubik's cube solution.\n"
    "  -t threads   worker threads (default: CPUs)\n"
    "  -n beam      positions kept at each depth (default 10000)\n"
    "  -i scramble  random turns in the scramble (default 8)\n"
    "  -r seed      seed of the scramble (default 1)\n"
    "  -s           small mode for make check: beam 2000, scramble 7\n"
    "  -v           print the full GC statistics\n"
    "  Exit status: 0 solved and checked, 1 wrong solution, 3 none found\n"
    "  within 20 moves (longer scrambles need a wider beam, or luck).\n";

enum { MOVES = 18, MAX_DEPTH = 20 }; /* 20: every position is solvable in 20 */

/* ---- The cube ---------------------------------------------------------------
 * Corners URF UFL ULB UBR DFR DLF DBL DRB, edges UR UF UL UB DR DF DL DB FR
 * FL BL BR.  cp[i] is the cubie at position i, co[i] its twist (0..2);
 * likewise ep/eo (flip 0..1).  Turning by m: the cubie at position m.cp[i]
 * moves to position i and gains twist m.co[i]. */
typedef struct {
  uint8_t cp[8], co[8], ep[12], eo[12];
} cube;

/* The six clockwise quarter turns U R F D L B, as cubes. */
static const cube face_turns[6] = {
    {{3, 0, 1, 2, 4, 5, 6, 7}, {0}, {3, 0, 1, 2, 4, 5, 6, 7, 8, 9, 10, 11}, {0}},
    {{4, 1, 2, 0, 7, 5, 6, 3},
     {2, 0, 0, 1, 1, 0, 0, 2},
     {8, 1, 2, 3, 11, 5, 6, 7, 4, 9, 10, 0},
     {0}},
    {{1, 5, 2, 3, 0, 4, 6, 7},
     {1, 2, 0, 0, 2, 1, 0, 0},
     {0, 9, 2, 3, 4, 8, 6, 7, 1, 5, 10, 11},
     {0, 1, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0}},
    {{0, 1, 2, 3, 5, 6, 7, 4}, {0}, {0, 1, 2, 3, 5, 6, 7, 4, 8, 9, 10, 11}, {0}},
    {{0, 2, 6, 3, 4, 1, 5, 7},
     {0, 1, 2, 0, 0, 2, 1, 0},
     {0, 1, 10, 3, 4, 5, 9, 7, 8, 2, 6, 11},
     {0}},
    {{0, 1, 3, 7, 4, 5, 2, 6},
     {0, 0, 1, 2, 0, 0, 2, 1},
     {0, 1, 2, 11, 4, 5, 6, 10, 8, 9, 3, 7},
     {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 1, 1}},
};
static const char face_names[] = "URFDLB";

/* moves[3f + p]: face f turned p+1 quarter turns (U, U2, U', R, ...). */
static cube moves[MOVES];

static cube apply(const cube *s, const cube *m) {
  cube t;
  for (int i = 0; i < 8; i++) {
    t.cp[i] = s->cp[m->cp[i]];
    t.co[i] = (uint8_t)((s->co[m->cp[i]] + m->co[i]) % 3);
  }
  for (int i = 0; i < 12; i++) {
    t.ep[i] = s->ep[m->ep[i]];
    t.eo[i] = (uint8_t)((s->eo[m->ep[i]] + m->eo[i]) % 2);
  }
  return t;
}

static cube solved(void) {
  cube s = {{0}, {0}, {0}, {0}};
  for (int i = 0; i < 8; i++)
    s.cp[i] = (uint8_t)i;
  for (int i = 0; i < 12; i++)
    s.ep[i] = (uint8_t)i;
  return s;
}

static bool is_solved(const cube *s) {
  cube z = solved();
  return memcmp(s, &z, sizeof z) == 0;
}

/* Two 64-bit words that identify a position (5 bits per corner, 5 per
 * edge), and a hash of them that orders the visited tree: hashed keys
 * keep an unbalanced BST shallow. */
typedef struct {
  uint64_t hash, c, e;
} key;

static key key_of(const cube *s) {
  key k = {0, 0, 0};
  for (int i = 0; i < 8; i++)
    k.c = k.c << 5 | (uint64_t)(s->cp[i] << 2 | s->co[i]);
  for (int i = 0; i < 12; i++)
    k.e = k.e << 5 | (uint64_t)(s->ep[i] << 1 | s->eo[i]);
  uint64_t h = k.c * 0x9e3779b97f4a7c15ULL ^ k.e;
  k.hash = ex_rand(&h);
  return k;
}

static int key_cmp(const key *a, const key *b) {
  if (a->hash != b->hash)
    return a->hash < b->hash ? -1 : 1;
  if (a->c != b->c)
    return a->c < b->c ? -1 : 1;
  if (a->e != b->e)
    return a->e < b->e ? -1 : 1;
  return 0;
}

/* ---- The score ---------------------------------------------------------------
 * corner_dist[c][p][o]: turns that bring corner cubie c from position p,
 * twist o, home to position c, twist 0 (found by a breadth-first search
 * over the 24 placements of one cubie; the move set is closed under
 * inverses, so searching outward from home gives the same distances). */
static uint8_t corner_dist[8][8][3], edge_dist[12][12][2];

static void cubie_distances(void) {
  memset(corner_dist, 0xff, sizeof corner_dist);
  memset(edge_dist, 0xff, sizeof edge_dist);
  for (int c = 0; c < 8; c++) {
    corner_dist[c][c][0] = 0;
    for (int d = 0, changed = 1; changed; d++) {
      changed = 0;
      for (int p = 0; p < 8; p++)
        for (int o = 0; o < 3; o++) {
          if (corner_dist[c][p][o] != d)
            continue;
          for (int m = 0; m < MOVES; m++)
            for (int i = 0; i < 8; i++)
              if (moves[m].cp[i] == p) {
                uint8_t *t = &corner_dist[c][i][(o + moves[m].co[i]) % 3];
                if (*t == 0xff) {
                  *t = (uint8_t)(d + 1);
                  changed = 1;
                }
              }
        }
    }
  }
  for (int e = 0; e < 12; e++) {
    edge_dist[e][e][0] = 0;
    for (int d = 0, changed = 1; changed; d++) {
      changed = 0;
      for (int p = 0; p < 12; p++)
        for (int o = 0; o < 2; o++) {
          if (edge_dist[e][p][o] != d)
            continue;
          for (int m = 0; m < MOVES; m++)
            for (int i = 0; i < 12; i++)
              if (moves[m].ep[i] == p) {
                uint8_t *t = &edge_dist[e][i][(o + moves[m].eo[i]) % 2];
                if (*t == 0xff) {
                  *t = (uint8_t)(d + 1);
                  changed = 1;
                }
              }
        }
    }
  }
}

static int score(const cube *s) {
  int h = 0;
  for (int i = 0; i < 8; i++)
    h += corner_dist[s->cp[i]][i][s->co[i]];
  for (int i = 0; i < 12; i++)
    h += edge_dist[s->ep[i]][i][s->eo[i]];
  return h;
}

/* ---- Positions, histories, the visited tree ----------------------------------- */

/* A move history: the last move first, sharing its tail with the parent's.
 * Immutable, so any number of positions can share one. */
typedef struct history {
  const struct history *prev;
  int move;
} history;

typedef struct {
  cube state;
  key k;
  int score;
  const history *moves;
} position;

typedef struct vnode {
  key k;
  _Atomic(struct vnode *) child[2];
} vnode;

/* Insert k; false if it was there already.  Lock-free: a new node is
 * published by one compare-and-swap into an empty child slot; a thread
 * that loses the race follows the winner's node and carries on. */
static bool visit(_Atomic(vnode *) *root, const key *k) {
  vnode *fresh = NULL;
  _Atomic(vnode *) *slot = root;
  for (;;) {
    vnode *n = atomic_load_explicit(slot, memory_order_acquire);
    if (!n) {
      if (!fresh) {
        fresh = GC_MALLOC(sizeof(vnode));
        fresh->k = *k;
      }
      if (atomic_compare_exchange_strong_explicit(slot, &n, fresh, memory_order_release,
                                                  memory_order_acquire))
        return true;
      /* Lost the race: n is now the winner's node; compare with it. */
    }
    int c = key_cmp(k, &n->k);
    if (c == 0)
      return false; /* an unpublished `fresh` is simply garbage */
    slot = &n->child[c > 0];
  }
}

/* Turns worth trying after `last`: never the same face twice in a row
 * (two turns of one face are one turn), and of two opposite faces (which
 * commute) only one order. */
static bool allowed(int last, int m) {
  if (last < 0)
    return true;
  int f = m / 3, lf = last / 3;
  return f != lf && !(lf == f + 3); /* D after U is fine, U after D is not */
}

/* ---- The search --------------------------------------------------------------- */

typedef struct {
  position **items;
  size_t n, cap;
} buffer;

static void push(buffer *b, position *p) {
  if (b->n == b->cap) {
    size_t cap = b->cap ? 2 * b->cap : 1024;
    position **bigger = GC_MALLOC(sizeof(position *) * cap);
    if (b->n)
      memcpy(bigger, b->items, sizeof(position *) * b->n);
    b->items = bigger;
    b->cap = cap;
  }
  b->items[b->n++] = p;
}

typedef struct {
  int threads;
  size_t beam;
  _Atomic(vnode *) visited;
  position **frontier;
  size_t frontier_n;
  atomic_size_t next;
  buffer *children; /* one per thread */
  _Atomic(position *) found;
  atomic_size_t expanded;
} search;

static search S; /* static: a root for both collectors */

enum { CHUNK = 64 };

static void expand(int tid, void *arg) {
  buffer *out = &S.children[tid];
  size_t start, expanded = 0;
  while ((start = atomic_fetch_add(&S.next, CHUNK)) < S.frontier_n) {
    size_t end = start + CHUNK < S.frontier_n ? start + CHUNK : S.frontier_n;
    for (size_t i = start; i < end; i++) {
      const position *p = S.frontier[i];
      int last = p->moves ? p->moves->move : -1;
      for (int m = 0; m < MOVES; m++) {
        if (!allowed(last, m))
          continue;
        cube c = apply(&p->state, &moves[m]);
        key k = key_of(&c);
        expanded++;
        if (!visit(&S.visited, &k))
          continue;
        position *child = GC_MALLOC(sizeof(position));
        history *h = GC_MALLOC(sizeof(history));
        h->prev = p->moves;
        h->move = m;
        child->state = c;
        child->k = k;
        child->score = score(&c);
        child->moves = h;
        if (child->score == 0) {
          position *none = NULL;
          atomic_compare_exchange_strong(&S.found, &none, child);
        }
        push(out, child);
      }
    }
  }
  atomic_fetch_add(&S.expanded, expanded);
}

/* Best first; the key breaks ties so that the beam kept at each depth
 * does not depend on the thread count or timing. */
static int by_score(const void *a, const void *b) {
  const position *p = *(position *const *)a, *q = *(position *const *)b;
  if (p->score != q->score)
    return p->score < q->score ? -1 : 1;
  return key_cmp(&p->k, &q->k);
}

/* Returns the depth of the solution, or -1. */
static int beam_search(const cube *start) {
  position *root = GC_MALLOC(sizeof(position));
  root->state = *start;
  root->k = key_of(start);
  root->score = score(start);
  visit(&S.visited, &root->k);
  if (root->score == 0) {
    S.found = root;
    return 0;
  }
  S.frontier = GC_MALLOC(sizeof(position *));
  S.frontier[0] = root;
  S.frontier_n = 1;
  S.children = GC_MALLOC(sizeof(buffer) * (size_t)S.threads);
  for (int depth = 1; depth <= MAX_DEPTH; depth++) {
    memset(S.children, 0, sizeof(buffer) * (size_t)S.threads);
    atomic_store(&S.next, 0);
    ex_parallel(S.threads, expand, NULL);
    if (atomic_load(&S.found))
      return depth;
    /* Gather, prune to the beam; the dropped positions become garbage. */
    size_t n = 0;
    for (int t = 0; t < S.threads; t++)
      n += S.children[t].n;
    if (n == 0)
      return -1;
    position **all = GC_MALLOC(sizeof(position *) * n);
    n = 0;
    for (int t = 0; t < S.threads; t++) {
      if (S.children[t].n == 0)
        continue; /* items may be NULL: memcpy's arguments must not be */
      memcpy(all + n, S.children[t].items, sizeof(position *) * S.children[t].n);
      n += S.children[t].n;
    }
    qsort(all, n, sizeof *all, by_score);
    S.frontier = all;
    S.frontier_n = n < S.beam ? n : S.beam;
  }
  return -1;
}

/* ---- Main --------------------------------------------------------------------- */

static bool self_test(void) {
  /* Each face turn has order 4, and (R U R' U') has order 6. */
  cube s = solved();
  for (int f = 0; f < 6; f++) {
    cube t = s;
    for (int i = 0; i < 4; i++)
      t = apply(&t, &moves[3 * f]);
    if (!is_solved(&t))
      return false;
  }
  const int sexy[4] = {3, 0, 5, 2}; /* R U R' U' */
  cube t = s;
  for (int r = 0; r < 6; r++) {
    for (int i = 0; i < 4; i++)
      t = apply(&t, &moves[sexy[i]]);
    if (r < 5 && is_solved(&t))
      return false;
  }
  return is_solved(&t);
}

static void print_moves(const char *label, const int *seq, int n) {
  printf("%s (%d):", label, n);
  for (int i = 0; i < n; i++)
    printf(" %c%s", face_names[seq[i] / 3], seq[i] % 3 == 0 ? "" : seq[i] % 3 == 1 ? "2" : "'");
  printf("\n");
}

int main(int argc, char **argv) {
  ex_opts o = {.name = "cube"};
  ex_parse(&o, argc, argv, usage, 10000, 8, 2000, 7);
  for (int f = 0; f < 6; f++) {
    moves[3 * f] = face_turns[f];
    moves[3 * f + 1] = apply(&moves[3 * f], &face_turns[f]);
    moves[3 * f + 2] = apply(&moves[3 * f + 1], &face_turns[f]);
  }
  if (!self_test()) {
    fprintf(stderr, "cube: the move tables are inconsistent\n");
    return 1;
  }
  cubie_distances();

  /* The scramble, from the seed (no face twice in a row). */
  int scramble_len = (int)o.count;
  int scramble[scramble_len > 0 ? scramble_len : 1];
  uint64_t rng = o.seed;
  cube start = solved();
  for (int i = 0, last = -1; i < scramble_len; i++) {
    int m;
    do
      m = (int)ex_rand_below(&rng, MOVES);
    while (last >= 0 && m / 3 == last / 3);
    scramble[i] = last = m;
    start = apply(&start, &moves[m]);
  }

  S.threads = o.threads;
  S.beam = (size_t)o.size;
  ex_start(&o);
  int depth = beam_search(&start);
  ex_stop();

  bool ok;
  if (depth < 0) {
    printf("cube: no solution found within %d moves with a beam of %zu positions"
           " (%zu positions expanded)\n", MAX_DEPTH, S.beam, atomic_load(&S.expanded));
    return ex_finish_as(&o, "none", 3);
  } else {
    /* Replay the history, oldest move first, on the scrambled cube. */
    int *solution = GC_MALLOC_ATOMIC(sizeof(int) * (size_t)(depth + 1));
    int n = 0;
    for (const history *h = atomic_load(&S.found)->moves; h; h = h->prev)
      n++;
    int i = n;
    for (const history *h = atomic_load(&S.found)->moves; h; h = h->prev)
      solution[--i] = h->move;
    cube c = start;
    for (i = 0; i < n; i++)
      c = apply(&c, &moves[solution[i]]);
    ok = n == depth && is_solved(&c);
    print_moves("scramble", scramble, scramble_len);
    print_moves("solution", solution, n);
    if (!ok)
      fprintf(stderr, "cube: the moves found do not solve the scrambled cube\n");
  }
  if (o.verbose)
    printf("  cube: positions expanded=%zu\n", atomic_load(&S.expanded));
  return ex_finish(&o, ok);
}
