/* snapshot_write: write the live heap as a snapshot; see
 * snapshot_write.h, and docs/snapshot.md for the format. */
#include "config.h"
#include "gc/snapshot_write.h"
#include "gc/snapshot.h"
#include "gc/collect.h"
#include "gc/threads.h"
#include "gc/tracer.h"
#include "alloc/options.h"
#include "alloc/os.h"
#include "alloc/page.h"
#include "alloc/pagemap.h"
#include "alloc/report.h"
#include "alloc/topology.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- The encoding ------------------------------------------------------
 *
 * Unsigned numbers are LEB128 varints (7 bits a byte, low first); signed
 * ones are zigzag-mapped first, so a small delta either way is one byte.
 * The body is checksummed with 64-bit FNV-1a and the header, written
 * last, carries the counts and the checksum. */

#define OUT_BUF_BYTES ((size_t)1 << 20)

struct out {
  int fd;
  uint8_t *buf;
  size_t len;
  uint64_t sum;
  bool failed;
};

static void out_flush(struct out *o)
{
  size_t done = 0;
  while (done < o->len && !o->failed) {
    ssize_t w = write(o->fd, o->buf + done, o->len - done);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      o->failed = true;
    else
      done += (size_t)w;
  }
  o->len = 0;
}

static inline void out_byte(struct out *o, uint8_t b)
{
  if (o->len == OUT_BUF_BYTES)
    out_flush(o);
  o->buf[o->len++] = b;
  o->sum = pargc_snapshot_sum_byte(o->sum, b);
}

static inline void out_uv(struct out *o, uint64_t v)
{
  while (v >= 0x80) {
    out_byte(o, (uint8_t)(v | 0x80));
    v >>= 7;
  }
  out_byte(o, (uint8_t)v);
}

static inline void out_sv(struct out *o, int64_t v)
{
  out_uv(o, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}


static bool out_open(struct out *o, const char *path)
{
  memset(o, 0, sizeof *o);
  o->sum = PARGC_SNAPSHOT_SUM0;
  o->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (o->fd < 0)
    return false;
  o->buf = pargc_os_alloc_meta(OUT_BUF_BYTES);
  if (!o->buf) {
    close(o->fd);
    errno = ENOMEM;
    return false;
  }
  /* Room for the header, written last. */
  struct pargc_snapshot_header zero;
  memset(&zero, 0, sizeof zero);
  if (write(o->fd, &zero, sizeof zero) != (ssize_t)sizeof zero)
    o->failed = true;
  return true;
}

static bool out_close(struct out *o, struct pargc_snapshot_header *h)
{
  out_flush(o);
  memcpy(h->magic, PARGC_SNAPSHOT_MAGIC, 8);
  h->version = PARGC_SNAPSHOT_VERSION;
  h->header_bytes = PARGC_SNAPSHOT_HEADER_BYTES;
  h->checksum = o->sum;
  off_t end = lseek(o->fd, 0, SEEK_CUR);
  h->body_bytes = end > 0 ? (uint64_t)end - sizeof *h : 0;
  if (pwrite(o->fd, h, sizeof *h, 0) != (ssize_t)sizeof *h)
    o->failed = true;
  int saved = errno;
  if (close(o->fd) != 0)
    o->failed = true;
  pargc_os_free_meta(o->buf, OUT_BUF_BYTES);
  errno = saved;
  return !o->failed;
}

/* ---- Writing the live heap -------------------------------------------
 *
 * Two passes over the page table with the world stopped.  The first
 * numbers the marked objects: `rank` holds, for every mark word of every
 * head page, the id of the first object that word marks, so an object's
 * id is rank[page][word] + popcount of the bits below it -- O(1) per
 * edge.  The second writes the spans, then each marked object's edges
 * (its words scanned as the marker scans them, kept when they resolve to
 * a marked collectable object), then the roots. */

struct writer {
  uint32_t (*rank)[PARGC_MARK_WORDS];
  size_t rank_pages;
  bool base_only;
  uint64_t edges, roots, root_words, objects, live_bytes;
  int64_t prev_root;
  struct out out;
};

static bool snap_collectable(const struct pargc_page *pg)
{
  return !pargc_kind_uncollectable[pg->kind];
}

/* The id of the marked collectable object v points into, or -1.
 * `stack`: v is a word of a stack or registers, which the marker follows
 * into an object's middle whatever the interior pointer setting. */
static int64_t writer_resolve(const struct writer *w, uintptr_t v, bool stack)
{
  struct pargc_page *pg;
  int32_t i = pargc_pagemap_object(v, &pg);
  if (i < 0 || !snap_collectable(pg))
    return -1;
  if (w->base_only && !stack &&
      !pargc_tracer_valid_displacement(v - pargc_page_object_addr(pg, (uint32_t)i)))
    return -1;
  const uint64_t *marks = pargc_page_marks(pg);
  if (!pargc_mark_test(marks, (uint32_t)i))
    return -1;
  size_t idx = pargc_page_index(pg);
  unsigned wd = (unsigned)i >> 6;
  uint64_t below = marks[wd] & (((uint64_t)1 << (i & 63)) - 1);
  return (int64_t)w->rank[idx][wd] + __builtin_popcountll(below);
}

static void writer_roots(struct writer *w, void *lo, void *hi, bool stack)
{
  uintptr_t a = ((uintptr_t)lo + 7) & ~(uintptr_t)7;
  for (const uintptr_t *p = (const uintptr_t *)a; (uintptr_t)(p + 1) <= (uintptr_t)hi; p++) {
    w->root_words++;
    int64_t id = writer_resolve(w, *p, stack);
    if (id < 0)
      continue;
    out_sv(&w->out, id - w->prev_root);
    w->prev_root = id;
    w->roots++;
  }
}

static void writer_root_range(void *lo, void *hi, void *arg) { writer_roots(arg, lo, hi, false); }
static void writer_stack_range(void *lo, void *hi, void *arg) { writer_roots(arg, lo, hi, true); }

bool pargc_snapshot_write(const char *path, uint64_t gc_no)
{
  struct writer w;
  memset(&w, 0, sizeof w);
  w.base_only = pargc_tracer_base_only();
  w.rank_pages = atomic_load(&pargc_region.top);
  size_t rank_bytes = (w.rank_pages ? w.rank_pages : 1) * sizeof *w.rank;
  w.rank = pargc_os_alloc_meta(rank_bytes);
  if (!w.rank) {
    errno = ENOMEM;
    return false;
  }
  /* Pass 1: number the marked objects. */
  uint64_t next = 0;
  uint32_t spans = 0;
  for (struct pargc_page *pg = NULL; (pg = pargc_pagemap_next_in_use(pg));) {
    if (!snap_collectable(pg))
      continue;
    const uint64_t *marks = pargc_page_marks(pg);
    size_t idx = pargc_page_index(pg);
    uint64_t before = next;
    for (unsigned wd = 0; wd < (pg->nobjs + 63u) / 64; wd++) {
      w.rank[idx][wd] = (uint32_t)next;
      next += (uint64_t)__builtin_popcountll(marks[wd]);
    }
    if (next != before)
      spans++;
  }
  if (next >= UINT32_MAX) {
    pargc_os_free_meta(w.rank, rank_bytes);
    errno = EFBIG;
    return false;
  }
  if (!out_open(&w.out, path)) {
    int saved = errno;
    pargc_os_free_meta(w.rank, rank_bytes);
    errno = saved;
    return false;
  }
  /* Pass 2a: spans and their live objects. */
  uintptr_t prev_addr = pargc_region.base;
  for (struct pargc_page *pg = NULL; (pg = pargc_pagemap_next_in_use(pg));) {
    if (!snap_collectable(pg))
      continue;
    const uint64_t *marks = pargc_page_marks(pg);
    uint32_t live = 0;
    for (unsigned wd = 0; wd < (pg->nobjs + 63u) / 64; wd++)
      live += (uint32_t)__builtin_popcountll(marks[wd]);
    if (!live)
      continue;
    uintptr_t addr = pargc_page_addr(pg);
    bool large = atomic_load(&pg->state) == PARGC_PAGE_LARGE;
    out_uv(&w.out, addr - prev_addr);
    prev_addr = addr;
    out_uv(&w.out, pg->size);
    out_uv(&w.out, pg->pages);
    out_byte(&w.out, pg->kind);
    out_byte(&w.out, (uint8_t)((pargc_kind_scanned[pg->kind] ? PARGC_SNAP_SCANNED : 0) |
                               (large ? PARGC_SNAP_LARGE : 0)));
    out_uv(&w.out, pg->node);
    out_uv(&w.out, live);
    int64_t prev_i = -1;
    for (uint32_t i = 0; i < pg->nobjs; i++)
      if (pargc_mark_test(marks, i)) {
        out_uv(&w.out, (uint64_t)((int64_t)i - prev_i - 1));
        prev_i = i;
        w.objects++;
        w.live_bytes += pg->size;
      }
  }
  /* Pass 2b: each object's edges, in id order.  Descriptor-scanned kinds
   * are scanned conservatively here: an approximation that can only add
   * edges to objects that are live anyway. */
  uint64_t id = 0;
  for (struct pargc_page *pg = NULL; (pg = pargc_pagemap_next_in_use(pg));) {
    if (!snap_collectable(pg))
      continue;
    const uint64_t *marks = pargc_page_marks(pg);
    bool scanned = pargc_kind_scanned[pg->kind];
    for (uint32_t i = 0; i < pg->nobjs; i++) {
      if (!pargc_mark_test(marks, i))
        continue;
      const uintptr_t *p = (const uintptr_t *)pargc_page_object_addr(pg, i);
      size_t words = scanned ? pg->size / sizeof(uintptr_t) : 0;
      uint64_t count = 0;
      for (size_t k = 0; k < words; k++)
        count += writer_resolve(&w, p[k], false) >= 0;
      out_uv(&w.out, count);
      for (size_t k = 0; k < words && count; k++) {
        int64_t t = writer_resolve(&w, p[k], false);
        if (t >= 0)
          out_sv(&w.out, t - (int64_t)id);
      }
      w.edges += count;
      id++;
    }
  }
  /* Pass 2c: roots -- every root range the collector scans, and the
   * contents of allocated uncollectable objects.  Objects a root hook
   * marked (finalizer data, GC_push_other_roots) have no root edge here;
   * the reader's pseudo-mark treats live objects it did not reach as
   * roots of their own. */
  pargc_collect_each_root(writer_root_range, writer_stack_range, &w);
  for (struct pargc_page *pg = NULL; (pg = pargc_pagemap_next_in_use(pg));) {
    if (snap_collectable(pg) || !pargc_kind_scanned[pg->kind])
      continue;
    const uint64_t *marks = pargc_page_marks(pg);
    for (uint32_t i = 0; i < pg->nobjs; i++)
      if (pargc_mark_test(marks, i)) {
        uintptr_t o = pargc_page_object_addr(pg, i);
        writer_root_range((void *)o, (void *)(o + pg->size), &w);
      }
  }
  pargc_os_free_meta(w.rank, rank_bytes);
  struct pargc_snapshot_header h;
  memset(&h, 0, sizeof h);
  h.gc_no = gc_no;
  h.live_bytes = w.live_bytes;
  h.objects = w.objects;
  h.edges = w.edges;
  h.roots = w.roots;
  h.root_words = w.root_words;
  h.page_size = PARGC_PAGE_SIZE;
  h.spans = spans;
  h.nodes = (uint32_t)pargc_topology_nodes();
  return out_close(&w.out, &h);
}

/* ---- When to write ---------------------------------------------------- */

#define SNAPSHOT_PATH_MAX 4096
static char request_path[SNAPSHOT_PATH_MAX];
static bool requested;
static bool once_done; /* PARGC_SNAPSHOT without %n: written already */

void pargc_snapshot_request(const char *path)
{
  requested = path != NULL;
  if (path) {
    strncpy(request_path, path, sizeof request_path - 1);
    request_path[sizeof request_path - 1] = 0;
  }
}

/* Append the decimal digits of v (no stdio: the world is stopped). */
static size_t put_decimal(char *dst, size_t room, uint64_t v)
{
  char tmp[24];
  size_t n = 0;
  do {
    tmp[n++] = (char)('0' + v % 10);
    v /= 10;
  } while (v);
  size_t k = 0;
  for (; k < n && k < room; k++)
    dst[k] = tmp[n - 1 - k];
  return k;
}

/* Expand %n (collection number), %p (process id) and %%; false when the
 * result does not fit. */
static bool expand_path(const char *pattern, uint64_t gc_no, char *out, size_t cap)
{
  size_t len = 0;
  for (const char *c = pattern; *c; c++) {
    if (len + 24 >= cap)
      return false;
    if (c[0] == '%' && c[1] == 'n') {
      len += put_decimal(out + len, cap - len, gc_no);
      c++;
    } else if (c[0] == '%' && c[1] == 'p') {
      len += put_decimal(out + len, cap - len, (uint64_t)getpid());
      c++;
    } else if (c[0] == '%' && c[1] == '%') {
      out[len++] = '%';
      c++;
    } else {
      out[len++] = *c;
    }
  }
  out[len] = 0;
  return true;
}

bool pargc_snapshot_collection(uint64_t gc_no)
{
  const char *pattern = NULL;
  if (requested) {
    pattern = request_path;
    requested = false;
  } else if (pargc_opt.snapshot && pargc_opt.snapshot[0]) {
    uint64_t every = pargc_opt.snapshot_every > 0 ? (uint64_t)pargc_opt.snapshot_every : 1;
    bool periodic = strstr(pargc_opt.snapshot, "%n") != NULL;
    if (periodic ? gc_no % every != 0 : (once_done || gc_no < every))
      return false;
    once_done = !periodic;
    pattern = pargc_opt.snapshot;
  } else {
    return false;
  }
  char path[SNAPSHOT_PATH_MAX];
  if (!expand_path(pattern, gc_no, path, sizeof path)) {
    pargc_warn("PARGC_SNAPSHOT: the file name is too long; no snapshot written");
    return false;
  }
  if (!pargc_snapshot_write(path, gc_no)) {
    pargc_warn("PARGC_SNAPSHOT: cannot write %s (errno %d)", path, errno);
    return false;
  }
  return true;
}
