/*
 * examples/cky.c -- CKY chart parsing of many sentences with an ambiguous
 * context-free grammar in Chomsky normal form; threads take sentences one
 * at a time.  Every chart cell is a heap object holding a list of edges
 * (one per nonterminal that spans the cell), and every edge a list of its
 * backpointers (the ways to build it: split point, left and right edge).
 * The chart is a packed parse forest; all of it is garbage once the
 * sentence is counted.
 *
 * No treebank can be downloaded here, so the input is generated from the
 * seed: a grammar of NT nonterminals, BINARY_RULES rules A -> B C (every
 * nonterminal has at least one) and a vocabulary of WORDS words, each with
 * one to three parts of speech; then sentences sampled from the grammar
 * itself (random rule, random split), so every sentence has a parse.
 *
 * Counted per sentence: root edges (nonterminals spanning the whole
 * sentence), parse-forest size (hyperedges: one per lexical edge plus one
 * per backpointer) and the number of parse trees rooted in S (mod 2^64).
 *
 * Check (not timed): every 8th sentence (every sentence in small mode) is
 * parsed again by the main thread alone and must give the same three
 * counts, and every sentence has a parse; then the grammar S -> S S | a on
 * a^20, whose counts are known in closed form: one root edge, a forest of
 * 20 + C(21,3) hyperedges and Catalan(19) trees.
 */
#include "common.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: cky [-t threads] [-n sentences] [-r seed] [-s] [-v]\n"
    "  CKY parsing with a generated ambiguous CNF grammar; threads take\n"
    "  sentences; each chart is garbage once its sentence is counted.\n"
    "  -t threads    worker threads (default: CPUs)\n"
    "  -n sentences  sentences to parse, 36 to 100 words each (default 200)\n"
    "  -r seed       seed of the grammar and the sentences (default 1)\n"
    "  -s            small mode for make check: 24 sentences of 30 to 60 words\n"
    "  -v            print the full GC statistics and the count totals\n";

enum {
  NT = 56,           /* nonterminals; 0 is S.  At most 64 (cell masks) */
  BINARY_RULES = 350, /* rules A -> B C */
  WORDS = 400,        /* vocabulary */
  CHECK_EVERY = 8,    /* re-parse every 8th sentence sequentially */
};

/* ---- The grammar ---------------------------------------------------------- */

typedef struct {
  int a, c;           /* A -> B C, indexed by B */
} rule_by_left;

typedef struct grammar {
  int nt;
  /* by_left[B] = the rules whose right side starts with B. */
  rule_by_left **by_left;
  int *n_by_left;
  /* by_lhs[A] = the rules A -> B C, as (B, C) pairs, for generating. */
  int **by_lhs;
  int *n_by_lhs;
  /* tags[w] = bit mask of the nonterminals A with A -> w. */
  uint64_t *tags;
  int words;
  /* words_of[A] = the words w with A -> w, for generating. */
  int **words_of;
  int *n_words_of;
} grammar;

static grammar *new_grammar(int nt, int words) {
  grammar *g = GC_MALLOC(sizeof(grammar));
  g->nt = nt;
  g->words = words;
  g->by_left = GC_MALLOC(sizeof(rule_by_left *) * nt);
  g->n_by_left = GC_MALLOC(sizeof(int) * nt);
  g->by_lhs = GC_MALLOC(sizeof(int *) * nt);
  g->n_by_lhs = GC_MALLOC(sizeof(int) * nt);
  g->tags = GC_MALLOC(sizeof(uint64_t) * (size_t)words);
  g->words_of = GC_MALLOC(sizeof(int *) * nt);
  g->n_words_of = GC_MALLOC(sizeof(int) * nt);
  return g;
}

/* Append to a GC-allocated int array, growing it by doubling. */
static int *push_int(int *array, int *n, int value) {
  if ((*n & (*n - 1)) == 0) { /* n is 0 or a power of two: full */
    int *bigger = GC_MALLOC(sizeof(int) * (size_t)(*n ? 2 * *n : 1));
    if (*n)
      memcpy(bigger, array, sizeof(int) * (size_t)*n);
    array = bigger;
  }
  array[(*n)++] = value;
  return array;
}

static void add_rule(grammar *g, int a, int b, int c) {
  int n = g->n_by_left[b];
  if ((n & (n - 1)) == 0) {
    rule_by_left *bigger = GC_MALLOC(sizeof(rule_by_left) * (size_t)(n ? 2 * n : 1));
    if (n)
      memcpy(bigger, g->by_left[b], sizeof(rule_by_left) * (size_t)n);
    g->by_left[b] = bigger;
  }
  g->by_left[b][n] = (rule_by_left){a, c};
  g->n_by_left[b] = n + 1;
  int m = g->n_by_lhs[a];
  g->by_lhs[a] = push_int(g->by_lhs[a], &m, b);
  g->by_lhs[a] = push_int(g->by_lhs[a], &m, c);
  g->n_by_lhs[a] = m;
}

static void add_word(grammar *g, int a, int w) {
  g->tags[w] |= 1ULL << a;
  g->words_of[a] = push_int(g->words_of[a], &g->n_words_of[a], w);
}

/* The random grammar: each nonterminal first gets one rule and one word of
 * its own (so any nonterminal derives sentences of every length), the rest
 * of the rules and tags are spread at random, without duplicates. */
static grammar *random_grammar(uint64_t seed) {
  uint64_t rng = seed * 0x2545f4914f6cdd1dULL + 7;
  grammar *g = new_grammar(NT, WORDS);
  static bool seen[NT][NT][NT];
  memset(seen, 0, sizeof seen);
  for (int r = 0; r < BINARY_RULES;) {
    int a = r < NT ? r : (int)ex_rand_below(&rng, NT);
    int b = (int)ex_rand_below(&rng, NT), c = (int)ex_rand_below(&rng, NT);
    if (seen[a][b][c])
      continue;
    seen[a][b][c] = true;
    add_rule(g, a, b, c);
    r++;
  }
  for (int w = 0; w < WORDS; w++) {
    int tags = 1 + (int)ex_rand_below(&rng, 3);
    if (w < NT)
      add_word(g, w, w);
    while (__builtin_popcountll(g->tags[w]) < tags) {
      int a = (int)ex_rand_below(&rng, NT);
      if (!(g->tags[w] >> a & 1))
        add_word(g, a, w);
    }
  }
  return g;
}

/* S -> S S | a: the grammar whose counts are known in closed form. */
static grammar *catalan_grammar(void) {
  grammar *g = new_grammar(1, 1);
  add_rule(g, 0, 0, 0);
  add_word(g, 0, 0);
  return g;
}

/* Fill words[0..len) with a sentence derived from nonterminal a. */
static void derive(const grammar *g, uint64_t *rng, int a, int *words, int len) {
  while (len > 1) {
    int r = (int)ex_rand_below(rng, (uint64_t)g->n_by_lhs[a] / 2);
    int b = g->by_lhs[a][2 * r], c = g->by_lhs[a][2 * r + 1];
    int left = 1 + (int)ex_rand_below(rng, (uint64_t)len - 1);
    derive(g, rng, b, words, left);
    words += left;
    len -= left;
    a = c; /* the right part, iteratively */
  }
  *words = g->words_of[a][ex_rand_below(rng, (uint64_t)g->n_words_of[a])];
}

/* ---- The chart ------------------------------------------------------------ */

typedef struct backptr {
  struct backptr *next;
  struct edge *left, *right;
} backptr;

typedef struct edge {
  struct edge *next;  /* the cell's edge list */
  backptr *bps;       /* how it was built; NULL for a lexical edge */
  uint64_t trees;     /* parse trees below it, mod 2^64 */
  int nt;
} edge;

/* A chart cell: its edges as a list, and for the inner loop a bit mask of
 * the nonterminals present with an index from nonterminal to edge. */
typedef struct cell {
  edge *edges;
  uint64_t mask;
  edge *by_nt[];
} cell;

typedef struct {
  uint64_t root_edges, forest, trees;
} counts;

static cell *new_cell(const grammar *g) {
  return GC_MALLOC(sizeof(cell) + sizeof(edge *) * (size_t)g->nt);
}

static edge *get_edge(cell *c, int nt) {
  edge *e = c->by_nt[nt];
  if (!e) {
    e = GC_MALLOC(sizeof(edge));
    e->nt = nt;
    e->next = c->edges;
    c->edges = e;
    c->by_nt[nt] = e;
    c->mask |= 1ULL << nt;
  }
  return e;
}

/* Parse words[0..n): fill the chart span by span, shortest first. */
static counts parse(const grammar *g, const int *words, int n) {
  const int w = n + 1;
  cell **chart = GC_MALLOC(sizeof(cell *) * (size_t)w * (size_t)w);
#define CELL(i, j) chart[(size_t)(i) * (size_t)w + (size_t)(j)]
  uint64_t forest = 0;
  for (int i = 0; i < n; i++) {
    cell *c = CELL(i, i + 1) = new_cell(g);
    for (uint64_t m = g->tags[words[i]]; m; m &= m - 1) {
      get_edge(c, __builtin_ctzll(m))->trees = 1;
      forest++;
    }
  }
  for (int len = 2; len <= n; len++) {
    for (int i = 0; i + len <= n; i++) {
      int j = i + len;
      cell *c = CELL(i, j) = new_cell(g);
      for (int k = i + 1; k < j; k++) {
        const cell *l = CELL(i, k), *r = CELL(k, j);
        if (!l->mask || !r->mask)
          continue;
        for (uint64_t m = l->mask; m; m &= m - 1) {
          int b = __builtin_ctzll(m);
          edge *eb = l->by_nt[b];
          for (int x = 0; x < g->n_by_left[b]; x++) {
            int a = g->by_left[b][x].a, cc = g->by_left[b][x].c;
            if (!(r->mask >> cc & 1))
              continue;
            edge *ec = r->by_nt[cc], *ea = get_edge(c, a);
            backptr *bp = GC_MALLOC(sizeof(backptr));
            bp->left = eb;
            bp->right = ec;
            bp->next = ea->bps;
            ea->bps = bp;
            ea->trees += eb->trees * ec->trees;
            forest++;
          }
        }
      }
    }
  }
  const cell *root = CELL(0, n);
  counts out = {(uint64_t)__builtin_popcountll(root->mask), forest,
                root->by_nt[0] ? root->by_nt[0]->trees : 0};
#undef CELL
  return out;
}

/* ---- The run ---------------------------------------------------------------- */

typedef struct {
  const grammar *g;
  int nsentences;
  int **sentences;
  int *lengths;
  counts *results;
  atomic_int next;
} job;

static job J; /* static: a root for both collectors */

static void worker(int tid, void *arg) {
  int s;
  while ((s = atomic_fetch_add(&J.next, 1)) < J.nsentences)
    J.results[s] = parse(J.g, J.sentences[s], J.lengths[s]);
}

static bool check_catalan(void) {
  enum { N = 20 };
  int words[N] = {0};
  counts got = parse(catalan_grammar(), words, N);
  /* C(21,3) = 1330 binary hyperedges + 20 lexical; Catalan(19). */
  const counts want = {1, N + 1330, 1767263190};
  if (got.root_edges == want.root_edges && got.forest == want.forest && got.trees == want.trees)
    return true;
  fprintf(stderr, "cky: S -> S S | a on a^%d: counts %llu/%llu/%llu, expected %llu/%llu/%llu\n",
          N, (unsigned long long)got.root_edges, (unsigned long long)got.forest,
          (unsigned long long)got.trees, (unsigned long long)want.root_edges,
          (unsigned long long)want.forest, (unsigned long long)want.trees);
  return false;
}

int main(int argc, char **argv) {
  ex_opts o = {.name = "cky"};
  ex_parse(&o, argc, argv, usage, 200, 0, 24, 0);
  const int min_len = o.small ? 30 : 36, max_len = o.small ? 60 : 100;
  ex_start(&o);

  /* Input, from the seed only: the same for every thread count. */
  uint64_t rng = o.seed;
  J.g = random_grammar(o.seed);
  J.nsentences = (int)o.size;
  J.sentences = GC_MALLOC(sizeof(int *) * (size_t)J.nsentences);
  J.lengths = GC_MALLOC_ATOMIC(sizeof(int) * (size_t)J.nsentences);
  J.results = GC_MALLOC_ATOMIC(sizeof(counts) * (size_t)J.nsentences);
  for (int s = 0; s < J.nsentences; s++) {
    int len = min_len + (int)ex_rand_below(&rng, (uint64_t)(max_len - min_len + 1));
    J.lengths[s] = len;
    J.sentences[s] = GC_MALLOC_ATOMIC(sizeof(int) * (size_t)len);
    derive(J.g, &rng, 0, J.sentences[s], len);
  }

  ex_parallel(o.threads, worker, NULL);
  ex_stop();

  bool ok = check_catalan();
  uint64_t forest = 0, trees = 0;
  for (int s = 0; s < J.nsentences; s++) {
    const counts *c = &J.results[s];
    forest += c->forest;
    trees ^= c->trees;
    if (c->root_edges == 0 || c->trees == 0) {
      fprintf(stderr, "cky: sentence %d has no parse, but was derived from S\n", s);
      ok = false;
    }
    if (!o.small && s % CHECK_EVERY != 0)
      continue;
    counts seq = parse(J.g, J.sentences[s], J.lengths[s]);
    if (seq.root_edges != c->root_edges || seq.forest != c->forest || seq.trees != c->trees) {
      fprintf(stderr, "cky: sentence %d: parallel run counted %llu/%llu/%llu, sequential"
              " %llu/%llu/%llu (root edges/forest/trees)\n", s,
              (unsigned long long)c->root_edges, (unsigned long long)c->forest,
              (unsigned long long)c->trees, (unsigned long long)seq.root_edges,
              (unsigned long long)seq.forest, (unsigned long long)seq.trees);
      ok = false;
    }
  }
  int rc = ex_finish(&o, ok);
  if (o.verbose)
    printf("  cky: sentences=%d forest_total=%llu trees_xor=%016llx\n", J.nsentences,
           (unsigned long long)forest, (unsigned long long)trees);
  return rc;
}
