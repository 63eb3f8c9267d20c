/* snapshot: load a heap snapshot, and build or save one in memory
 * (tests, the calibration's synthetic heaps); see snapshot.h and
 * docs/snapshot.md.  Runs outside collections: plain malloc and stdio. */
#include "config.h"
#include "gc/snapshot.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>



struct in {
  const uint8_t *p, *end;
  bool bad;
};

static uint64_t in_uv(struct in *in)
{
  uint64_t v = 0;
  for (unsigned shift = 0; shift < 64; shift += 7) {
    if (in->p >= in->end) {
      in->bad = true;
      return 0;
    }
    uint8_t b = *in->p++;
    v |= (uint64_t)(b & 0x7f) << shift;
    if (!(b & 0x80))
      return v;
  }
  in->bad = true;
  return 0;
}

static int64_t in_sv(struct in *in)
{
  uint64_t u = in_uv(in);
  return (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
}

static uint8_t in_byte(struct in *in)
{
  if (in->p >= in->end) {
    in->bad = true;
    return 0;
  }
  return *in->p++;
}

static void set_err(char *err, size_t len, const char *fmt, ...)
{
  if (!err || !len)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, len, fmt, ap);
  va_end(ap);
}

void pargc_snapshot_free(struct pargc_snapshot *s)
{
  if (!s)
    return;
  free(s->addr);
  free(s->size);
  free(s->kind);
  free(s->flags);
  free(s->node);
  free(s->edge_start);
  free(s->edge);
  free(s->root);
  free(s);
}

static bool snapshot_alloc(struct pargc_snapshot *s, size_t n, size_t nedges, size_t nroots)
{
  s->n = n;
  s->nedges = nedges;
  s->nroots = nroots;
  s->addr = calloc(n + 1, sizeof *s->addr);
  s->size = calloc(n + 1, sizeof *s->size);
  s->kind = calloc(n + 1, 1);
  s->flags = calloc(n + 1, 1);
  s->node = calloc(n + 1, sizeof *s->node);
  s->edge_start = calloc(n + 1, sizeof *s->edge_start);
  s->edge = calloc(nedges + 1, sizeof *s->edge);
  s->root = calloc(nroots + 1, sizeof *s->root);
  s->edge_cap = nedges + 1;
  s->root_cap = nroots + 1;
  return s->addr && s->size && s->kind && s->flags && s->node && s->edge_start && s->edge &&
         s->root;
}

struct pargc_snapshot *pargc_snapshot_load(const char *path, char *err, size_t errlen)
{
  FILE *f = fopen(path, "rb");
  if (!f) {
    set_err(err, errlen, "%s: %s", path, strerror(errno));
    return NULL;
  }
  struct pargc_snapshot_header h;
  if (fread(&h, sizeof h, 1, f) != 1 || memcmp(h.magic, PARGC_SNAPSHOT_MAGIC, 8) != 0) {
    set_err(err, errlen, "%s: not a pargc heap snapshot", path);
    fclose(f);
    return NULL;
  }
  if (h.version != PARGC_SNAPSHOT_VERSION || h.header_bytes != sizeof h) {
    set_err(err, errlen, "%s: snapshot format version %u, this program reads version %u", path,
            h.version, PARGC_SNAPSHOT_VERSION);
    fclose(f);
    return NULL;
  }
  if (h.objects >= UINT32_MAX || h.body_bytes > ((uint64_t)1 << 40)) {
    set_err(err, errlen, "%s: corrupt header", path);
    fclose(f);
    return NULL;
  }
  uint8_t *body = malloc(h.body_bytes + 1);
  if (!body || fread(body, 1, h.body_bytes, f) != h.body_bytes) {
    set_err(err, errlen, "%s: truncated (%llu body bytes expected)", path,
            (unsigned long long)h.body_bytes);
    free(body);
    fclose(f);
    return NULL;
  }
  fclose(f);
  uint64_t sum = PARGC_SNAPSHOT_SUM0;
  for (uint64_t i = 0; i < h.body_bytes; i++)
    sum = pargc_snapshot_sum_byte(sum, body[i]);
  if (sum != h.checksum) {
    set_err(err, errlen, "%s: checksum mismatch (corrupt file)", path);
    free(body);
    return NULL;
  }
  struct pargc_snapshot *s = calloc(1, sizeof *s);
  if (!s || !snapshot_alloc(s, h.objects, h.edges, h.roots)) {
    set_err(err, errlen, "%s: out of memory", path);
    pargc_snapshot_free(s);
    free(body);
    return NULL;
  }
  s->version = h.version;
  s->gc_no = h.gc_no;
  s->live_bytes = h.live_bytes;
  s->root_words = h.root_words;
  s->page_size = h.page_size;
  s->nodes = h.nodes ? h.nodes : 1;
  s->spans = h.spans;
  struct in in = {body, body + h.body_bytes, false};
  /* Spans and their objects. */
  size_t id = 0;
  uint64_t span_addr = 0, live = 0;
  for (uint32_t sp = 0; sp < h.spans && !in.bad; sp++) {
    span_addr += in_uv(&in);
    uint64_t size = in_uv(&in);
    (void)in_uv(&in); /* pages */
    uint8_t kind = in_byte(&in), flags = in_byte(&in);
    uint64_t node = in_uv(&in), count = in_uv(&in);
    int64_t i = -1;
    for (uint64_t k = 0; k < count && !in.bad; k++) {
      i += (int64_t)in_uv(&in) + 1;
      if (id >= s->n || size > UINT32_MAX) {
        in.bad = true;
        break;
      }
      s->addr[id] = span_addr + (uint64_t)i * size;
      s->size[id] = (uint32_t)size;
      s->kind[id] = kind;
      s->flags[id] = flags;
      s->node[id] = (uint16_t)node;
      live += size;
      id++;
    }
  }
  if (id != s->n || live != h.live_bytes)
    in.bad = true;
  /* Edges. */
  size_t e = 0;
  for (size_t o = 0; o < s->n && !in.bad; o++) {
    s->edge_start[o] = e;
    uint64_t count = in_uv(&in);
    for (uint64_t k = 0; k < count && !in.bad; k++) {
      int64_t t = (int64_t)o + in_sv(&in);
      if (e >= s->nedges || t < 0 || (uint64_t)t >= s->n) {
        in.bad = true;
        break;
      }
      s->edge[e++] = (uint32_t)t;
    }
  }
  s->edge_start[s->n] = e;
  if (e != s->nedges)
    in.bad = true;
  /* Roots. */
  int64_t prev = 0;
  for (size_t r = 0; r < s->nroots && !in.bad; r++) {
    prev += in_sv(&in);
    if (prev < 0 || (uint64_t)prev >= s->n) {
      in.bad = true;
      break;
    }
    s->root[r] = (uint32_t)prev;
  }
  free(body);
  if (in.bad) {
    set_err(err, errlen, "%s: corrupt body (counts do not match the header)", path);
    pargc_snapshot_free(s);
    return NULL;
  }
  return s;
}

/* ---- In memory ---------------------------------------------------------- */

struct pargc_snapshot *pargc_snapshot_new(size_t n, const uint32_t *size, const uint8_t *flags)
{
  struct pargc_snapshot *s = calloc(1, sizeof *s);
  if (!s || !snapshot_alloc(s, n, 0, 0)) {
    pargc_snapshot_free(s);
    return NULL;
  }
  s->version = PARGC_SNAPSHOT_VERSION;
  s->page_size = 65536;
  s->nodes = 1;
  uint64_t a = (uint64_t)1 << 30;
  for (size_t i = 0; i < n; i++) {
    uint32_t sz = size[i] < 16 ? 16 : (size[i] + 15) & ~15u;
    s->addr[i] = a;
    s->size[i] = sz;
    s->flags[i] = flags ? flags[i] : PARGC_SNAP_SCANNED;
    s->live_bytes += sz;
    a += sz;
  }
  /* edge_start[i] counts edges added so far for objects <= i: see
   * add_edge. */
  return s;
}

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
  if (need <= *cap)
    return true;
  size_t c = *cap ? *cap * 2 : 1024;
  while (c < need)
    c *= 2;
  void *np = realloc(*p, c * elem);
  if (!np)
    return false;
  *p = np;
  *cap = c;
  return true;
}

/* Until seal, edge_start[i] counts object i's edges (edges arrive in
 * nondecreasing `from` order); seal turns the counts into offsets. */
void pargc_snapshot_add_edge(struct pargc_snapshot *s, uint32_t from, uint32_t to)
{
  void *p = s->edge;
  if (!grow(&p, &s->edge_cap, s->nedges + 1, sizeof *s->edge))
    abort();
  s->edge = p;
  s->edge[s->nedges++] = to;
  s->edge_start[from] += 1;
}

void pargc_snapshot_add_root(struct pargc_snapshot *s, uint32_t to)
{
  void *p = s->root;
  if (!grow(&p, &s->root_cap, s->nroots + 1, sizeof *s->root))
    abort();
  s->root = p;
  s->root[s->nroots++] = to;
}

void pargc_snapshot_seal(struct pargc_snapshot *s)
{
  /* Counts to prefix sums: edge_start[i] becomes the first edge of i. */
  uint64_t acc = 0;
  for (size_t i = 0; i < s->n; i++) {
    uint64_t c = s->edge_start[i];
    s->edge_start[i] = acc;
    acc += c;
  }
  s->edge_start[s->n] = acc;
  uint64_t spans = 0;
  for (size_t i = 0; i < s->n; i++)
    spans += i == 0 || s->node[i] != s->node[i - 1] || s->size[i] != s->size[i - 1] ||
             s->flags[i] != s->flags[i - 1];
  s->spans = (uint32_t)spans;
}

/* ---- Saving ----------------------------------------------------------- */

struct sbuf {
  uint8_t *b;
  size_t len, cap;
  bool oom;
};

static void sb_byte(struct sbuf *sb, uint8_t v)
{
  if (sb->len == sb->cap) {
    size_t c = sb->cap ? sb->cap * 2 : 4096;
    uint8_t *nb = realloc(sb->b, c);
    if (!nb) {
      sb->oom = true;
      return;
    }
    sb->b = nb;
    sb->cap = c;
  }
  sb->b[sb->len++] = v;
}

static void sb_uv(struct sbuf *sb, uint64_t v)
{
  while (v >= 0x80) {
    sb_byte(sb, (uint8_t)(v | 0x80));
    v >>= 7;
  }
  sb_byte(sb, (uint8_t)v);
}

static void sb_sv(struct sbuf *sb, int64_t v)
{
  sb_uv(sb, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

bool pargc_snapshot_save(const struct pargc_snapshot *s, const char *path)
{
  struct sbuf sb = {0};
  /* Spans: maximal runs of objects of one size, kind, flags and node
   * whose addresses are whole multiples of the size from the run's
   * first (at most 65536 per run). */
  uint32_t spans = 0;
  uint64_t prev_addr = 0;
  for (size_t i = 0; i < s->n;) {
    size_t j = i + 1;
    while (j < s->n && j - i < 65536 && s->size[j] == s->size[i] && s->kind[j] == s->kind[i] &&
           s->flags[j] == s->flags[i] && s->node[j] == s->node[i] &&
           s->addr[j] > s->addr[j - 1] && (s->addr[j] - s->addr[i]) % s->size[i] == 0 &&
           (s->addr[j] - s->addr[i]) / s->size[i] < 65536)
      j++;
    sb_uv(&sb, s->addr[i] - prev_addr);
    prev_addr = s->addr[i];
    sb_uv(&sb, s->size[i]);
    sb_uv(&sb, 1);
    sb_byte(&sb, s->kind[i]);
    sb_byte(&sb, s->flags[i]);
    sb_uv(&sb, s->node[i]);
    sb_uv(&sb, j - i);
    int64_t prev_k = -1;
    for (size_t k = i; k < j; k++) {
      int64_t idx = (int64_t)((s->addr[k] - s->addr[i]) / s->size[i]);
      sb_uv(&sb, (uint64_t)(idx - prev_k - 1));
      prev_k = idx;
    }
    spans++;
    i = j;
  }
  for (size_t o = 0; o < s->n; o++) {
    sb_uv(&sb, s->edge_start[o + 1] - s->edge_start[o]);
    for (uint64_t e = s->edge_start[o]; e < s->edge_start[o + 1]; e++)
      sb_sv(&sb, (int64_t)s->edge[e] - (int64_t)o);
  }
  int64_t prev = 0;
  for (size_t r = 0; r < s->nroots; r++) {
    sb_sv(&sb, (int64_t)s->root[r] - prev);
    prev = s->root[r];
  }
  if (sb.oom) {
    free(sb.b);
    return false;
  }
  struct pargc_snapshot_header h;
  memset(&h, 0, sizeof h);
  memcpy(h.magic, PARGC_SNAPSHOT_MAGIC, 8);
  h.version = PARGC_SNAPSHOT_VERSION;
  h.header_bytes = sizeof h;
  h.gc_no = s->gc_no;
  h.live_bytes = s->live_bytes;
  h.objects = s->n;
  h.edges = s->nedges;
  h.roots = s->nroots;
  h.root_words = s->root_words;
  h.page_size = s->page_size;
  h.spans = spans;
  h.nodes = s->nodes;
  h.body_bytes = sb.len;
  uint64_t sum = PARGC_SNAPSHOT_SUM0;
  for (size_t i = 0; i < sb.len; i++)
    sum = pargc_snapshot_sum_byte(sum, sb.b[i]);
  h.checksum = sum;
  FILE *f = fopen(path, "wb");
  bool ok = f && fwrite(&h, sizeof h, 1, f) == 1 && fwrite(sb.b, 1, sb.len, f) == sb.len;
  if (f && fclose(f) != 0)
    ok = false;
  free(sb.b);
  return ok;
}
