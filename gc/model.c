/* model: the performance model of a parallel mark; see model.h. */
#include "config.h"
#include "gc/model.h"
#include "alloc/topology.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- The machine ------------------------------------------------------- */

void pargc_machine_defaults(struct pargc_machine *m)
{
  memset(m, 0, sizeof *m);
  /* Typical of a current x86 server core; hwloc's figures replace them. */
  m->l1 = (struct pargc_cache_level){48 << 10, 12, 64};
  m->l2 = (struct pargc_cache_level){2 << 20, 16, 64};
  m->llc = (struct pargc_cache_level){32 << 20, 16, 64};
  m->tlb = (struct pargc_cache_level){(uint64_t)1536 << 12, 12, 4096};
  m->llc_shared = true;
  m->cpus = 1;
  m->nodes = 1;
  m->avail_cpus = 1;
  uint64_t bytes[3];
  unsigned ways[3], line[3];
  bool shared;
  int nodes;
  int pus = pargc_topology_caches("", bytes, ways, line, &shared, &nodes);
  if (pus > 0) {
    struct pargc_cache_level *lv[3] = {&m->l1, &m->l2, &m->llc};
    for (int i = 0; i < 3; i++)
      if (bytes[i]) {
        lv[i]->bytes = bytes[i];
        lv[i]->ways = ways[i] ? ways[i] : lv[i]->ways;
        lv[i]->line = line[i] ? line[i] : 64;
      }
    m->llc_shared = bytes[2] ? shared : true;
    m->cpus = (unsigned)pus;
    m->nodes = (unsigned)nodes;
  }
  m->avail_cpus = m->cpus;
  /* Costs before calibration: measured on the development machine
   * (docs/performance.md, "The performance model"). */
  m->obj_ns = 6.0;
  m->word_ns = 0.6;
  m->ptr_ns = 3.0;
  m->llc_hit_ns = 5.0;
  m->tlb_ns = 5.0;
  m->sl_ns = 40.0;
  m->sl_remote_ns = 70.0;
  m->so_ns = 5.0;
  m->mlp = 8.0;
  m->steal_ns = 300.0;
  m->probe_ns = 100.0;
  m->wake_ns = 30000.0;
  m->piece_bytes = 32 << 10;
}

/* The keys of the file form, each a double or integer field. */
#define MACHINE_DOUBLES(X)                                                   \
  X(obj_ns) X(word_ns) X(ptr_ns) X(llc_hit_ns) X(tlb_ns) X(sl_ns) X(sl_remote_ns) X(so_ns) X(mlp) \
  X(steal_ns) X(probe_ns) X(wake_ns) X(avail_cpus) X(fixed_ns)

void pargc_machine_write(const struct pargc_machine *m, FILE *out)
{
  fprintf(out, "# pargc machine description (pargc-predict --calibrate)\n");
  const struct {
    const char *name;
    const struct pargc_cache_level *lv;
  } levels[] = {{"l1", &m->l1}, {"l2", &m->l2}, {"llc", &m->llc}, {"tlb", &m->tlb}};
  for (size_t i = 0; i < 4; i++)
    fprintf(out, "%s_bytes %llu\n%s_ways %u\n%s_line %u\n", levels[i].name,
            (unsigned long long)levels[i].lv->bytes, levels[i].name, levels[i].lv->ways,
            levels[i].name, levels[i].lv->line);
  fprintf(out, "llc_shared %d\ncpus %u\nnodes %u\npiece_bytes %llu\n", m->llc_shared ? 1 : 0,
          m->cpus, m->nodes, (unsigned long long)m->piece_bytes);
#define MACHINE_WRITE(f) fprintf(out, #f " %.3f\n", m->f);
  MACHINE_DOUBLES(MACHINE_WRITE)
#undef MACHINE_WRITE
}

bool pargc_machine_read(struct pargc_machine *m, const char *path, char *err, size_t errlen)
{
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, errlen, "%s: cannot open", path);
    return false;
  }
  char line[256];
  int lineno = 0;
  while (fgets(line, sizeof line, f)) {
    lineno++;
    char key[64];
    double v;
    if (line[0] == '#' || line[0] == '\n')
      continue;
    if (sscanf(line, "%63s %lf", key, &v) != 2 || v < 0) {
      snprintf(err, errlen, "%s:%d: expected \"key value\"", path, lineno);
      fclose(f);
      return false;
    }
    bool known = true;
    if (0) {
    }
#define MACHINE_READ(fld) else if (strcmp(key, #fld) == 0) m->fld = v;
    MACHINE_DOUBLES(MACHINE_READ)
#undef MACHINE_READ
#define LEVEL_READ(n, lv)                                                    \
    else if (strcmp(key, n "_bytes") == 0) lv.bytes = (uint64_t)v;           \
    else if (strcmp(key, n "_ways") == 0) lv.ways = (unsigned)v;             \
    else if (strcmp(key, n "_line") == 0) lv.line = (unsigned)v;
    LEVEL_READ("l1", m->l1)
    LEVEL_READ("l2", m->l2)
    LEVEL_READ("llc", m->llc)
    LEVEL_READ("tlb", m->tlb)
#undef LEVEL_READ
    else if (strcmp(key, "llc_shared") == 0) m->llc_shared = v != 0;
    else if (strcmp(key, "cpus") == 0) m->cpus = v >= 1 ? (unsigned)v : 1;
    else if (strcmp(key, "nodes") == 0) m->nodes = v >= 1 ? (unsigned)v : 1;
    else if (strcmp(key, "piece_bytes") == 0) m->piece_bytes = v >= 256 ? (uint64_t)v : 256;
    else known = false;
    if (!known) {
      snprintf(err, errlen, "%s:%d: unknown key %s", path, lineno, key);
      fclose(f);
      return false;
    }
  }
  fclose(f);
  return true;
}

/* ---- Cache simulation ---------------------------------------------------
 *
 * Each level is set-associative with true LRU: a set's tags are kept in
 * recency order, most recent first.  A tag is the line number plus one
 * (0: empty).  Levels are looked up in turn and every level inserts the
 * line (inclusive hierarchy). */

struct csim {
  uint64_t *tags;
  uint64_t sets;
  unsigned ways, shift;
};

static unsigned log2u(uint64_t v)
{
  unsigned s = 0;
  while (((uint64_t)1 << (s + 1)) <= v)
    s++;
  return s;
}

static bool csim_init(struct csim *c, const struct pargc_cache_level *lv)
{
  memset(c, 0, sizeof *c);
  if (!lv->bytes)
    return true;
  unsigned line = lv->line ? lv->line : 64;
  c->ways = lv->ways ? lv->ways : 8;
  if (c->ways > 64)
    c->ways = 64;
  c->shift = log2u(line);
  c->sets = lv->bytes / line / c->ways;
  if (!c->sets)
    c->sets = 1;
  c->tags = calloc(c->sets * c->ways, sizeof *c->tags);
  return c->tags != NULL;
}

/* true on a hit; the line becomes the most recent of its set. */
static bool csim_access(struct csim *c, uint64_t addr)
{
  if (!c->tags)
    return false;
  uint64_t tag = (addr >> c->shift) + 1;
  uint64_t *set = c->tags + ((tag - 1) % c->sets) * c->ways;
  unsigned k = 0;
  while (k < c->ways && set[k] != tag && set[k])
    k++;
  bool hit = k < c->ways && set[k] == tag;
  if (k == c->ways)
    k = c->ways - 1; /* evict the least recent */
  memmove(set + 1, set, k * sizeof *set);
  set[0] = tag;
  return hit;
}

struct hier {
  struct csim l1, l2, llc, tlb;
};

enum { HIT_L1, HIT_L2, HIT_LLC, MISS_MEM };

static int hier_access(struct hier *h, uint64_t addr, bool *tlb_miss)
{
  *tlb_miss = h->tlb.tags && !csim_access(&h->tlb, addr);
  if (csim_access(&h->l1, addr))
    return HIT_L1;
  if (csim_access(&h->l2, addr))
    return HIT_L2;
  if (csim_access(&h->llc, addr))
    return HIT_LLC;
  return MISS_MEM;
}

static void hier_free(struct hier *h)
{
  free(h->l1.tags);
  free(h->l2.tags);
  free(h->llc.tags);
  free(h->tlb.tags);
}

/* Side data the marker reads for a pointer to `addr` (pagemap.h): the
 * page's descriptor (64 bytes per 64 KiB page) and the mark word. */
#define META_DESC_BASE ((uint64_t)1 << 44)
#define META_MARK_BASE ((uint64_t)2 << 44)

static uint64_t desc_addr(uint64_t addr)
{
  return META_DESC_BASE + (addr >> 16) * 64;
}

static uint64_t mark_addr(uint64_t addr, uint32_t size)
{
  uint64_t idx = (addr & 0xffff) / (size ? size : 16);
  return META_MARK_BASE + (addr >> 16) * 512 + (idx / 64) * 8;
}

/* ---- The pseudo-mark ----------------------------------------------------- */

/* The hardware prefetcher, roughly: a miss within STREAM_REACH lines of
 * one of the last STREAM_TRACKS misses, in the same 4 KiB page, belongs
 * to a stream the prefetcher detected and fetched ahead -- a chain or
 * tree marked in the order it was allocated walks memory that way. */
#define STREAM_TRACKS 16
#define STREAM_REACH 4

struct streams {
  uint64_t line[STREAM_TRACKS]; /* line number + 1; 0: empty */
  unsigned next;
};

static bool stream_hit(struct streams *st, uint64_t addr)
{
  uint64_t l = (addr >> 6) + 1;
  for (unsigned k = 0; k < STREAM_TRACKS; k++) {
    uint64_t e = st->line[k];
    if (e && (e - 1) >> 6 == (l - 1) >> 6 && (l > e ? l - e : e - l) <= STREAM_REACH) {
      st->line[k] = l;
      return true;
    }
  }
  st->line[st->next] = l;
  st->next = (st->next + 1) % STREAM_TRACKS;
  return false;
}

/* The share of the latency a miss waits out with `width` independent
 * loads available to overlap it (model.h, "overlap"). */
static double miss_share(const struct pargc_machine *m, double width)
{
  double mlp = m->mlp >= 1 ? m->mlp : 1;
  double w = width < 1 ? 1 : width;
  return 1.0 / (w < mlp ? w : mlp);
}

/* A miss to memory of the pseudo-mark at `addr`: streamed (occupancy
 * only) when the prefetcher would have caught it, else a wait, of which
 * `width` independent loads beside it hide a share. */
static void count_miss(struct pargc_model_base *b, const struct pargc_machine *m,
                       struct streams *st, uint64_t addr, bool streamed, double width,
                       uint32_t node)
{
  if (streamed || stream_hit(st, addr)) {
    b->s1++;
  } else {
    b->q1++;
    b->q1w += miss_share(m, width);
  }
  b->node_misses[node % PARGC_MODEL_MAX_NODES]++;
}

static uint64_t obj_pieces(const struct pargc_snapshot *s, const struct pargc_machine *m,
                           uint32_t o)
{
  uint64_t piece = m->piece_bytes ? m->piece_bytes : (32 << 10);
  return s->size[o] > piece ? (s->size[o] + piece - 1) / piece : 1;
}

struct task {
  uint32_t obj, piece;
};

/* Push t on a growable stack; false when out of memory. */
static bool task_push(struct task **stack, size_t *sp, size_t *cap, struct task t)
{
  if (*sp == *cap) {
    struct task *ns = realloc(*stack, 2 * *cap * sizeof **stack);
    if (!ns)
      return false;
    *stack = ns;
    *cap *= 2;
  }
  (*stack)[(*sp)++] = t;
  return true;
}

/* One access of the pseudo-mark through the cache hierarchy: counted in
 * b, its TLB and last-level-hit costs added to *cost; the level that
 * served it (misses to memory are the caller's to attribute). */
static int count_access(struct hier *h, struct pargc_model_base *b,
                        const struct pargc_machine *m, uint64_t addr, double *cost)
{
  bool tlbm;
  int lv = hier_access(h, addr, &tlbm);
  b->accesses++;
  b->tlb_misses += tlbm;
  *cost += tlbm ? m->tlb_ns : 0;
  if (lv >= HIT_L2)
    b->l1_misses++;
  if (lv >= HIT_LLC) {
    b->l2_misses++;
    *cost += lv == HIT_LLC ? m->llc_hit_ns : 0;
  }
  return lv;
}

bool pargc_model_prepare(struct pargc_model_base *b, const struct pargc_snapshot *s,
                         const struct pargc_machine *m)
{
  memset(b, 0, sizeof *b);
  b->s = s;
  size_t n = s->n;
  b->roots = malloc((s->nroots + n + 1) * sizeof *b->roots);
  b->order = malloc((n + 1) * sizeof *b->order);
  b->parent = malloc((n + 1) * sizeof *b->parent);
  b->cost_ns = calloc(n + 1, sizeof *b->cost_ns);
  b->hit_lines = calloc(n + 1, sizeof *b->hit_lines);
  uint32_t *piece_of = calloc(n + 1, sizeof *piece_of);
  uint8_t *marked = calloc(n + 1, 1);
  size_t stack_cap = n + 1024;
  struct task *stack = malloc(stack_cap * sizeof *stack);
  struct hier h;
  memset(&h, 0, sizeof h);
  bool ok = b->roots && b->order && b->parent && b->cost_ns && b->hit_lines && piece_of &&
            marked && stack && csim_init(&h.l1, &m->l1) && csim_init(&h.l2, &m->l2) &&
            csim_init(&h.llc, &m->llc) && csim_init(&h.tlb, &m->tlb);
  if (!ok)
    goto out;

  /* Warm the caches as the allocating program leaves them: the live
   * data in address order, the latest last (only the part that can
   * still be cached is walked). */
  {
    uint64_t keep = 2 * (m->llc.bytes > m->l2.bytes ? m->llc.bytes : m->l2.bytes), acc = 0;
    size_t first = n;
    while (first > 0 && acc < keep)
      acc += s->size[--first];
    bool tlbm;
    for (size_t o = first; o < n; o++)
      for (uint64_t a = s->addr[o] & ~(uint64_t)63; a < s->addr[o] + s->size[o]; a += 64)
        hier_access(&h, a, &tlbm);
  }

  unsigned line = m->l1.line ? m->l1.line : 64;
  struct streams streams;
  memset(&streams, 0, sizeof streams);
  size_t norder = 0, sp = 0, nroots = 0;
  for (size_t r = 0; r < s->nroots; r++)
    b->roots[nroots++] = s->root[r];
  double nodes_seen = 0;
  (void)nodes_seen;
  size_t next_unreached = 0;
  size_t ri = 0;
  for (;;) {
    if (!sp) {
      /* Next root (in order), then live objects nothing reached. */
      uint32_t r = UINT32_MAX;
      while (ri < nroots && r == UINT32_MAX) {
        uint32_t c = b->roots[ri++];
        if (!marked[c])
          r = c;
      }
      if (r == UINT32_MAX) {
        while (next_unreached < n && marked[next_unreached])
          next_unreached++;
        if (next_unreached == n)
          break;
        r = (uint32_t)next_unreached;
        b->roots[nroots++] = r;
        ri = nroots;
      }
      marked[r] = 1;
      b->parent[r] = UINT32_MAX;
      b->order[norder++] = r;
      stack[sp++] = (struct task){r, 0};
      continue;
    }
    struct task t = stack[--sp];
    uint32_t o = t.obj;
    uint64_t pieces = obj_pieces(s, m, o);
    uint64_t lo = s->addr[o] + (uint64_t)t.piece * (m->piece_bytes ? m->piece_bytes : 32768);
    uint64_t hi = t.piece + 1 < pieces ? lo + m->piece_bytes : s->addr[o] + s->size[o];
    if (t.piece + 1 < pieces) {
      if (!task_push(&stack, &sp, &stack_cap, (struct task){o, t.piece + 1})) {
        ok = false;
        goto out;
      }
    }
    /* A pointer-free object costs its pointer only (the mark bit, the
     * byte count): the marker never takes it from a stack. */
    bool scanned = s->flags[o] & PARGC_SNAP_SCANNED;
    double cost = t.piece == 0 && scanned ? m->obj_ns : 0;
    b->scanned_objects += t.piece == 0 && scanned;
    uint64_t hits = 0;
    if (scanned) {
      uint64_t words = (hi - lo) / 8;
      b->scanned_words += words;
      cost += m->word_ns * (double)words;
      for (uint64_t a = lo & ~(uint64_t)(line - 1); a < hi; a += line) {
        int lv = count_access(&h, b, m, a, &cost);
        if (lv == HIT_L1 || lv == HIT_L2)
          hits++;
        if (lv == MISS_MEM) {
          /* The first line of a range waits for memory, prefetched when
           * it entered the tracer's FIFO beside as many others as the
           * stack held; the lines after it are streamed (the hardware
           * prefetcher fetches ahead). */
          size_t beside = sp < PARGC_MODEL_PREFETCH_DEPTH - 1 ? sp : PARGC_MODEL_PREFETCH_DEPTH - 1;
          count_miss(b, m, &streams, a, a > (lo & ~(uint64_t)(line - 1)), 1.0 + (double)beside,
                     s->node[o]);
        }
      }
    }
    b->hit_lines[o] = (uint16_t)(b->hit_lines[o] + hits > 65535 ? 65535 : b->hit_lines[o] + hits);
    /* The pointers of this piece: edges in scan order, shared among the
     * pieces in proportion. */
    uint64_t e0 = s->edge_start[o], e1 = s->edge_start[o + 1], ne = e1 - e0;
    uint64_t from = e0 + ne * t.piece / pieces, to = e0 + ne * (t.piece + 1) / pieces;
    for (uint64_t e = from; e < to; e++) {
      uint32_t c = s->edge[e];
      b->pointer_words++;
      cost += m->ptr_ns;
      uint64_t meta[2] = {desc_addr(s->addr[c]), mark_addr(s->addr[c], s->size[c])};
      for (int k = 0; k < 2; k++) {
        int lv = count_access(&h, b, m, meta[k], &cost);
        if (lv == MISS_MEM) /* the piece's pointers' loads overlap */
          count_miss(b, m, &streams, meta[k], false, (double)(to - from), s->node[c]);
      }
      if (marked[c])
        continue;
      marked[c] = 1;
      b->parent[c] = o;
      piece_of[c] = t.piece;
      b->order[norder++] = c;
      if (!task_push(&stack, &sp, &stack_cap, (struct task){c, 0})) {
        ok = false;
        goto out;
      }
    }
    b->cost_ns[o] += cost;
  }
  b->nroots = nroots;
  b->objects = norder;
  b->root_ns = m->word_ns * (double)s->root_words + m->fixed_ns;
  b->t1_ns = b->root_ns;
  for (size_t o = 0; o < n; o++)
    b->t1_ns += b->cost_ns[o];

  /* Critical path over the discovery tree: an object's chain is the
   * cost of one of its pieces (the rest of a large object can be taken
   * by other threads as soon as a piece starts), plus the chain of a
   * child that piece found; children first: reverse order. */
  {
    double *best = malloc((n + 1) * sizeof *best);
    if (!best) {
      ok = false;
      goto out;
    }
    for (size_t o = 0; o < n; o++)
      best[o] = b->cost_ns[o] / (double)obj_pieces(s, m, (uint32_t)o);
    double cp = 0;
    for (size_t k = norder; k-- > 0;) {
      uint32_t c = b->order[k];
      uint32_t p = b->parent[c];
      if (p == UINT32_MAX) {
        cp = best[c] > cp ? best[c] : cp;
        continue;
      }
      double via = b->cost_ns[p] / (double)obj_pieces(s, m, p) + best[c];
      if (via > best[p])
        best[p] = via;
    }
    b->critical_ns = b->root_ns + cp;
    free(best);
  }
out:
  free(piece_of);
  free(marked);
  free(stack);
  hier_free(&h);
  if (!ok)
    pargc_model_release(b);
  return ok;
}

void pargc_model_release(struct pargc_model_base *b)
{
  free(b->roots);
  free(b->order);
  free(b->parent);
  free(b->cost_ns);
  free(b->hit_lines);
  memset(b, 0, sizeof *b);
}

/* ---- The stealing simulation ---------------------------------------------
 *
 * P workers, each with a deque of tasks (object, piece) stamped with the
 * time they were pushed.  The worker whose clock is least acts next (the
 * one holding work first on a tie): it pops its newest task, marks the
 * children the task's pointers reach for the first time, and pushes
 * them (and the object's next piece) when the task's cost has elapsed;
 * or, with nothing of its own, it looks at a random other worker and
 * takes the oldest task pushed by then (steal_ns), or pays probe_ns for
 * looking.  When no task is queued anywhere the mark is over: every task
 * that will ever exist has been started.  Mirrors the tracer (tracer.h):
 * LIFO own work, the oldest stolen, pieces of large objects pushed back. */

struct wdeque {
  struct task *t;
  double *when;
  size_t head, tail, cap;
};

static bool wd_push(struct wdeque *d, struct task t, double when)
{
  if (d->tail == d->cap) {
    if (d->head > d->cap / 2) {
      memmove(d->t, d->t + d->head, (d->tail - d->head) * sizeof *d->t);
      memmove(d->when, d->when + d->head, (d->tail - d->head) * sizeof *d->when);
      d->tail -= d->head;
      d->head = 0;
    } else {
      size_t cap = d->cap ? d->cap * 2 : 256;
      struct task *nt = realloc(d->t, cap * sizeof *nt);
      if (!nt)
        return false;
      d->t = nt;
      double *nw = realloc(d->when, cap * sizeof *nw);
      if (!nw)
        return false;
      d->when = nw;
      d->cap = cap;
    }
  }
  d->t[d->tail] = t;
  d->when[d->tail++] = when;
  return true;
}

static uint64_t rng_step(uint64_t *x)
{
  *x ^= *x << 13;
  *x ^= *x >> 7;
  *x ^= *x << 17;
  return *x;
}

/* Mean-value analysis of the memory nodes (see model.h): the average
 * wait a miss spends queued at its node, P threads each computing
 * `think` between misses. */
static double mva_wait(const struct pargc_machine *m, const double *f, unsigned nodes, unsigned p,
                       double think, double latency)
{
  double q[PARGC_MODEL_MAX_NODES] = {0}, r[PARGC_MODEL_MAX_NODES] = {0};
  for (unsigned n = 1; n <= p; n++) {
    double cycle = think + latency;
    for (unsigned k = 0; k < nodes; k++) {
      r[k] = m->so_ns * (1 + q[k]);
      cycle += f[k] * r[k];
    }
    double x = (double)n / cycle;
    for (unsigned k = 0; k < nodes; k++)
      q[k] = x * f[k] * r[k];
  }
  double wait = 0;
  for (unsigned k = 0; k < nodes; k++)
    wait += f[k] * (r[k] - m->so_ns);
  return wait;
}

/* The prediction with every cost of the mark `slow` times higher (the
 * GC threads time-share fewer CPUs). */
static void predict_at(const struct pargc_model_base *b, const struct pargc_machine *m,
                       unsigned p, uint64_t seed, double slow, struct pargc_model_result *out)
{
  const struct pargc_snapshot *s = b->s;
  memset(out, 0, sizeof *out);
  if (p < 1)
    p = 1;
  out->threads = p;
  out->critical_ns = b->critical_ns;
  size_t n = s->n;
  struct wdeque *dq = calloc(p, sizeof *dq);
  double *clock = calloc(p, sizeof *clock);
  uint8_t *marked = calloc(n + 1, 1);
  double stolen_hits = 0, makespan = 0;
  uint64_t steals = 0, queued = 0;
  uint64_t rng = seed * 0x9e3779b97f4a7c15ull + 0x2545f4914f6cdd1dull;
  if (!dq || !clock || !marked)
    goto done;
  double steal_ns = m->steal_ns * slow, probe_ns = m->probe_ns * slow;
  /* The collecting thread scans the roots and holds the first tasks;
   * helpers join once woken. */
  clock[0] = b->root_ns * slow;
  for (unsigned w = 1; w < p; w++)
    clock[w] = m->wake_ns;
  for (size_t r = b->nroots; r-- > 0;) {
    uint32_t o = b->roots[r];
    if (marked[o])
      continue;
    marked[o] = 1;
    /* Visible to thieves once the collecting thread has pushed them:
     * after the roots' scan and the collection's fixed work. */
    if (!wd_push(&dq[0], (struct task){o, 0}, clock[0]))
      goto done;
    queued++;
  }
  uint64_t piece = m->piece_bytes ? m->piece_bytes : 32768;
  while (queued) {
    unsigned w = 0;
    for (unsigned k = 1; k < p; k++) {
      bool kw = dq[k].tail > dq[k].head, ww = dq[w].tail > dq[w].head;
      if (clock[k] < clock[w] || (clock[k] == clock[w] && kw && !ww))
        w = k;
    }
    struct wdeque *d = &dq[w];
    if (d->tail == d->head || d->when[d->tail - 1] > clock[w]) {
      /* Nothing of its own yet: look at a victim. */
      if (p == 1)
        break; /* cannot happen: one worker holds every task */
      unsigned v = (unsigned)(rng_step(&rng) % (p - 1));
      v += v >= w;
      struct wdeque *vd = &dq[v];
      if (vd->tail > vd->head && vd->when[vd->head] <= clock[w]) {
        struct task t = vd->t[vd->head++];
        queued--;
        clock[w] += steal_ns;
        steals++;
        stolen_hits += (double)b->hit_lines[t.obj] / (double)obj_pieces(s, m, t.obj);
        if (!wd_push(d, t, clock[w]))
          goto done;
        queued++;
      } else {
        clock[w] += probe_ns;
      }
      continue;
    }
    struct task t = d->t[--d->tail];
    queued--;
    uint32_t o = t.obj;
    uint64_t pieces = obj_pieces(s, m, o);
    double cost = b->cost_ns[o] / (double)pieces * slow;
    double end = clock[w] + cost;
    /* The rest of a large object goes back before the piece is scanned
     * (tracer.c), so a thief may take it at once. */
    if (t.piece + 1 < pieces) {
      if (!wd_push(d, (struct task){o, t.piece + 1}, clock[w]))
        goto done;
      queued++;
    }
    uint64_t e0 = s->edge_start[o], ne = s->edge_start[o + 1] - e0;
    uint64_t from = e0 + ne * t.piece / pieces, to = e0 + ne * (t.piece + 1) / pieces;
    for (uint64_t e = from; e < to; e++) {
      uint32_t c = s->edge[e];
      if (marked[c])
        continue;
      marked[c] = 1;
      if (!wd_push(d, (struct task){c, 0}, end))
        goto done;
      queued++;
    }
    (void)piece;
    clock[w] = end;
    if (end > makespan)
      makespan = end;
  }
  if (makespan < b->root_ns)
    makespan = b->root_ns;
  {
    /* The misses: the pseudo-mark's, plus the lines a thief finds cold. */
    double cpu = makespan;
    uint64_t extra = (uint64_t)(stolen_hits + 0.5);
    double q1 = (double)(b->q1 + b->s1);
    double f[PARGC_MODEL_MAX_NODES] = {0};
    unsigned nodes = m->nodes ? m->nodes : 1;
    if (nodes > PARGC_MODEL_MAX_NODES)
      nodes = PARGC_MODEL_MAX_NODES;
    if (b->q1 + b->s1) {
      for (unsigned k = 0; k < PARGC_MODEL_MAX_NODES; k++)
        f[k % nodes] += (double)b->node_misses[k] / q1;
    } else {
      for (unsigned k = 0; k < nodes; k++)
        f[k] = 1.0 / nodes;
    }
    /* Latency: a thread's access is local with the chance that the node
     * is its own (GC threads spread round-robin over the nodes). */
    double lat = 0;
    for (unsigned k = 0; k < nodes; k++) {
      double own = (double)(p / nodes + (k < p % nodes)) / p;
      lat += f[k] * (own * m->sl_ns + (1 - own) * m->sl_remote_ns);
    }
    lat *= 2; /* there and back */
    /* Misses that wait for memory (QP) and streamed ones (S1): both
     * occupy their node and queue there; only the first wait out the
     * latency. */
    double cold = m->llc_shared ? 0 : (double)extra; /* a thief's, from memory */
    double lat_misses = b->q1w + cold;
    double mem_misses = (double)b->q1 + cold + (double)b->s1;
    double par0 = cpu > 0 ? b->t1_ns / cpu : 1;
    unsigned busy = par0 >= p ? p : par0 <= 1 ? 1 : (unsigned)(par0 + 0.5);
    double think = mem_misses > 0 ? cpu * busy / mem_misses : 0;
    double wait = mem_misses > 0
                      ? mva_wait(m, f, nodes, busy, think, lat * lat_misses / mem_misses)
                      : 0;
    out->mp_ns = lat + m->so_ns + wait;
    out->cpu_ns = cpu;
    /* The thesis divides the misses by P: they are spread over the
     * threads as the work is.  Where the work was not spread (a narrow
     * graph), neither are they: divide by the parallelism the simulated
     * mark reached, T1 / TP, at most P. */
    double par = cpu > 0 ? (b->t1_ns) / cpu : 1;
    if (par > p)
      par = p;
    if (par < 1)
      par = 1;
    out->miss_ns = (lat_misses * lat + mem_misses * m->so_ns) / par;
    if (m->llc_shared)
      out->miss_ns += (double)extra * m->llc_hit_ns / par;
    out->contention_ns = mem_misses * wait / par;
    out->predicted_ns = out->cpu_ns + out->miss_ns + out->contention_ns;
    out->steals = steals;
    out->extra_misses = extra;
    out->qp = b->q1 + extra;
  }
done:
  for (unsigned w = 0; dq && w < p; w++) {
    free(dq[w].t);
    free(dq[w].when);
  }
  free(dq);
  free(clock);
  free(marked);
}

void pargc_model_predict(const struct pargc_model_base *b, const struct pargc_machine *m,
                         unsigned p, uint64_t seed, struct pargc_model_result *out)
{
  predict_at(b, m, p, seed, 1, out);
  /* More busy threads than the CPUs they get share them, each running
   * that much slower.  Busy: the parallelism the mark reached with
   * every thread on a CPU of its own (a chain keeps one thread busy,
   * whatever P; idle ones yield). */
  if (m->avail_cpus > 0 && p > m->avail_cpus && out->cpu_ns > 0) {
    double par = b->t1_ns / out->cpu_ns;
    par = par > p ? p : par < 1 ? 1 : par;
    if (par > m->avail_cpus)
      predict_at(b, m, p, seed, par / m->avail_cpus, out);
  }
}

/* ---- The online form ------------------------------------------------------ */

void pargc_model_online_observe(struct pargc_model_online *o, uint64_t mark_ns, unsigned threads,
                                double parallelism, double wake_ns)
{
  if (!mark_ns)
    return;
  if (threads <= 1) {
    o->t1_ns = (double)mark_ns;
    /* What several threads showed goes stale: a narrow heap may have
     * widened.  Each collection on one thread lets the bound grow a
     * little, so after a few the choice tries more threads again (and
     * drops back if the graph is still narrow). */
    if (o->shown > 0)
      o->shown += 0.25;
    return;
  }
  if (parallelism <= 0 || parallelism > threads)
    parallelism = threads; /* unknown: as if every thread marked throughout */
  if (parallelism < 1)
    parallelism = 1;
  double spent = (double)mark_ns - wake_ns;
  if (spent < (double)mark_ns / 2)
    spent = (double)mark_ns / 2;
  o->t1_ns = spent * parallelism;
  o->shown = parallelism < 0.75 * threads ? parallelism : 2.0 * threads;
}

unsigned pargc_model_online_threads(const struct pargc_model_online *o, unsigned max,
                                    double wake_ns)
{
  if (max <= 1 || o->t1_ns <= 0)
    return 1;
  unsigned cap = max;
  if (o->shown > 0) {
    unsigned c = (unsigned)(o->shown + 0.25); /* positive: truncation is floor */
    cap = c < 1 ? 1 : c < max ? c : max;
  }
  unsigned best = 1;
  double best_t = o->t1_ns;
  for (unsigned q = 2; q <= cap; q++) {
    double t = o->t1_ns / q + wake_ns * (q - 1);
    if (t < best_t * 0.97) {
      best_t = t;
      best = q;
    }
  }
  return best;
}
