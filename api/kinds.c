/* kinds: client object kinds and how the marker scans them -- gc_mark.h
 * (GC_new_kind, GC_new_proc, GC_generic_malloc, mark procedures, mark
 * bits), gc_typed.h (bitmap-typed objects), gc_gcj.h (descriptor in the
 * vtable) and gc_disclaim.h (disclaim procedures, GC_finalized_malloc).
 *
 * Every kind made here has a number >= PARGC_KIND_FIRST_CLIENT; the
 * tracer hands each newly marked object of such a kind to scan_special
 * (tracer.h), which reads the kind's descriptor:
 *   LENGTH  scan that many bytes (the whole object when "add size")
 *           conservatively -- pushed as an ordinary range;
 *   BITMAP  word i is a pointer iff bit (63 - i) is set;
 *   PROC    call the client's mark procedure, which reports pointers
 *           through GC_mark_and_push;
 *   typed   the descriptor is stored in the object's last word (simple
 *           bitmap, or a pointer to a long bitmap), arrays add a header;
 *   gcj     the descriptor is word 1 of the vtable in the object's first
 *           word.
 * Objects of the normal kind never come here (tracer.c keeps its fast
 * path).  Disclaim procedures run after marking, world stopped, on every
 * unmarked allocated object of their kind.
 */
#include "config.h"
#include "api/compat.h"
#include "api/init.h"
#include "gc/collect.h"
#include "gc/tracer.h"
#include "alloc/options.h"
#include "alloc/os.h"
#include "alloc/page.h"
#include "alloc/report.h"
#include "alloc/thread.h"

#include <gc/gc.h>
#include <gc/gc_disclaim.h>
#include <gc/gc_gcj.h>
#include <gc/gc_inline.h>
#include <gc/gc_mark.h>
#include <gc/gc_typed.h>
#include <stdlib.h>
#include <string.h>

/* Boehm GC's mark stack entry (gc_pmark.h): what a mark procedure may
 * push directly.  pargc hands procedures a small private buffer of these
 * and scans what they leave in it. */
struct GC_ms_entry {
  void *mse_start;
  GC_word mse_descr;
};

enum scan_mode { SCAN_DESCR, SCAN_TYPED, SCAN_TYPED_ARRAY, SCAN_GCJ };

struct kind_info {
  GC_word descr;
  bool add_size;
  bool clear;
  uint8_t mode;
  GC_disclaim_proc disclaim;
  bool mark_from_all;
};

static struct kind_info kinds[PARGC_MAX_KINDS];
static GC_mark_proc procs[GC_MAX_MARK_PROCS];
static _Atomic unsigned proc_count = GC_RESERVED_MARK_PROCS;
static _Atomic int any_disclaim;

int GC_gcj_kind, GC_gcj_debug_kind;
void *GC_least_plausible_heap_addr, *GC_greatest_plausible_heap_addr;
static int typed_kind = -1, typed_array_kind = -1, finalized_kind = -1;
static pargc_lock_t kinds_lock = PARGC_LOCK_INIT;
static pargc_lock_t finalized_init_lock = PARGC_LOCK_INIT; /* GC_init_finalized_malloc */

void *pargc_compat_alloc_exact(size_t size, unsigned kind)
{
  if (kind <= PARGC_KIND_ATOMIC)
    return pargc_alloc(size, kind);
  pargc_init();
  return pargc_alloc_slow(size, kind);
}

void *pargc_compat_alloc(size_t size, unsigned kind)
{
  return pargc_compat_alloc_exact(pargc_api_size(size), kind);
}

/* ---- kinds and procedures ---------------------------------------------- */

static void update_heap_bounds(void)
{
  GC_least_plausible_heap_addr = (void *)pargc_region.base;
  GC_greatest_plausible_heap_addr = (void *)(pargc_region.base + pargc_region.reserve);
}

void **GC_new_free_list_inner(void)
{
  /* pargc's free lists are per thread and per kind: this one is only a
   * token that GC_new_kind ignores.  Leaked on purpose (a few words). */
  void **fl = calloc(1, sizeof(void *) * 2);
  return fl ? fl : (void **)&kinds[0];
}

void **GC_new_free_list(void) { return GC_new_free_list_inner(); }

static unsigned new_kind(GC_word descr, int add_size, int clear, uint8_t mode)
{
  pargc_init();
  update_heap_bounds();
  int k = pargc_kind_new(true);
  if (k < 0)
    pargc_fatal("GC_new_kind: more than %d kinds", PARGC_MAX_KINDS);
  kinds[k].descr = descr;
  kinds[k].add_size = add_size != 0;
  kinds[k].clear = clear != 0;
  kinds[k].mode = mode;
  return (unsigned)k;
}

unsigned GC_new_kind_inner(void **free_list, GC_word descr, int add_size, int clear)
{
  (void)free_list;
  return new_kind(descr, add_size, clear, SCAN_DESCR);
}

unsigned GC_new_kind(void **free_list, GC_word descr, int add_size, int clear)
{
  return GC_new_kind_inner(free_list, descr, add_size, clear);
}

unsigned GC_new_proc_inner(GC_mark_proc proc)
{
  unsigned i = atomic_fetch_add(&proc_count, 1);
  if (i >= GC_MAX_MARK_PROCS)
    pargc_fatal("GC_new_proc: more than %d mark procedures", GC_MAX_MARK_PROCS);
  procs[i] = proc;
  return i;
}

unsigned GC_new_proc(GC_mark_proc proc) { return GC_new_proc_inner(proc); }

void *GC_generic_malloc(size_t lb, int k)
{
  unsigned kind = pargc_kind_from_api(k);
  if (kind >= PARGC_MAX_KINDS)
    return NULL;
  return pargc_compat_alloc(lb, kind);
}

void *GC_generic_malloc_ignore_off_page(size_t lb, int k) { return GC_generic_malloc(lb, k); }

void *GC_generic_malloc_uncollectable(size_t lb, int k)
{
  unsigned kind = pargc_kind_from_api(k);
  bool scanned = kind < PARGC_MAX_KINDS && pargc_kind_scanned[kind];
  return pargc_compat_alloc(lb, scanned ? PARGC_KIND_UNCOLLECTABLE
                                        : PARGC_KIND_ATOMIC_UNCOLLECTABLE);
}

void *GC_generic_or_special_malloc(size_t lb, int k) { return GC_generic_malloc(lb, k); }

void *GC_malloc_kind(size_t lb, int k) { return GC_generic_malloc(lb, k); }
void *GC_malloc_kind_global(size_t lb, int k) { return GC_generic_malloc(lb, k); }

int GC_get_kind_and_size(const void *p, size_t *psize)
{
  struct pargc_page *pg;
  if (pargc_pagemap_object((uintptr_t)p, &pg) < 0) {
    if (psize)
      *psize = 0;
    return 0;
  }
  if (psize)
    *psize = pg->size;
  return pargc_kind_to_api(pg->kind);
}

/* ---- mark bits ------------------------------------------------------------ */

int GC_is_marked(const void *p)
{
  struct pargc_page *pg;
  int32_t i = pargc_pagemap_object((uintptr_t)p, &pg);
  if (i < 0)
    return 0;
  return pargc_mark_test(pargc_page_marks(pg), (uint32_t)i);
}

void GC_set_mark_bit(const void *p)
{
  struct pargc_page *pg;
  int32_t i = pargc_pagemap_object((uintptr_t)p, &pg);
  if (i >= 0) {
    pargc_mark_section_enter(); /* alloc/pagemap.h */
    pargc_mark_set(pargc_page_marks(pg), (uint32_t)i);
    pargc_mark_section_leave();
  }
}

void GC_clear_mark_bit(const void *p)
{
  struct pargc_page *pg;
  int32_t i = pargc_pagemap_object((uintptr_t)p, &pg);
  if (i >= 0 && !pargc_kind_uncollectable[pg->kind]) {
    pargc_mark_section_enter(); /* alloc/pagemap.h */
    pargc_mark_clear(pargc_page_marks(pg), (uint32_t)i);
    pargc_mark_section_leave();
  }
}

/* ---- scanning --------------------------------------------------------------- */

struct GC_ms_entry *GC_mark_and_push(void *obj, struct GC_ms_entry *msp,
                                     struct GC_ms_entry *lim, void **src)
{
  (void)lim;
  (void)src;
  pargc_tracer_mark_word((uintptr_t)obj);
  return msp;
}

static void scan_descr(uintptr_t obj, size_t size, GC_word d, int depth);

#define PROC_STACK 64

/* Kinds some of whose objects had their mark procedure put off while the
 * program ran (call_proc); the final stop scans their marked objects. */
static _Atomic bool kind_deferred[PARGC_MAX_KINDS];

static void call_proc(uintptr_t obj, size_t size, GC_word d, int depth)
{
  /* Mark procedures run with the world stopped, as in Boehm GC, and
   * clients rely on it: Guile's thread objects mark the thread's
   * interpreter stack and overwrite the slots its frames' maps call
   * dead -- run beside the thread, that walks frames that are gone and
   * overwrites live values.  While the program runs, the object stays
   * marked and its procedure waits for the final stop (kinds_remark). */
  if (pargc_tracer_world_running()) {
    struct pargc_page *pg;
    if (pargc_pagemap_object(obj, &pg) >= 0)
      atomic_store_explicit(&kind_deferred[pg->kind], true, memory_order_relaxed);
    return;
  }
  unsigned idx = (unsigned)(d >> GC_DS_TAG_BITS) & (GC_MAX_MARK_PROCS - 1);
  GC_word env = d >> (GC_DS_TAG_BITS + GC_LOG_MAX_MARK_PROCS);
  GC_mark_proc proc = procs[idx];
  if (!proc) {
    pargc_tracer_push_object_range(obj, obj + size); /* unknown: be safe */
    return;
  }
  /* stack[0] is a sentinel: Boehm GC's procedures push at msp + 1. */
  struct GC_ms_entry stack[PROC_STACK + 1];
  struct GC_ms_entry *top = proc((GC_word *)obj, stack, stack + PROC_STACK, env);
  /* Entries the procedure pushed directly (Boehm GC's stack grows up
   * from msp + 1). */
  for (struct GC_ms_entry *e = stack + 1; e <= top && e <= stack + PROC_STACK; e++)
    scan_descr((uintptr_t)e->mse_start, size, e->mse_descr, depth + 1);
}

/* Scan obj (size bytes available) by descriptor d. */
static void scan_descr(uintptr_t obj, size_t size, GC_word d, int depth)
{
  switch (d & GC_DS_TAGS) {
  case GC_DS_LENGTH: {
    size_t len = d && (size_t)d < size ? (size_t)d : size; /* never past the object */
    pargc_tracer_push_object_range(obj, obj + len);
    break;
  }
  case GC_DS_BITMAP: {
    const uintptr_t *w = (const uintptr_t *)obj;
    GC_word bits = d & ~(GC_word)GC_DS_TAGS;
    size_t nw = size / sizeof(uintptr_t);
    for (size_t i = 0; bits && i < nw; i++, bits <<= 1)
      if (bits & ((GC_word)1 << 63))
        pargc_tracer_mark_word(w[i]);
    break;
  }
  case GC_DS_PROC:
    if (depth < 4)
      call_proc(obj, size, d, depth);
    else
      pargc_tracer_push_object_range(obj, obj + size);
    break;
  default: /* GC_DS_PER_OBJECT: read the descriptor from the object */
    if ((GC_signed_word)d < 0) {
      /* through the first word (vtable), at offset -(d >> 2) - bias */
      uintptr_t vt = *(const uintptr_t *)obj;
      if (!vt || (intptr_t)vt < 0) /* unset, or a free object's link */
        break;
      GC_signed_word off = -(GC_signed_word)(d & ~(GC_word)GC_DS_TAGS) - GC_INDIR_PER_OBJ_BIAS;
      GC_word nd = *(const GC_word *)(vt + (uintptr_t)off);
      if ((nd & GC_DS_TAGS) != GC_DS_PER_OBJECT)
        scan_descr(obj, size, nd, depth + 1);
    } else {
      size_t off = (size_t)(d & ~(GC_word)GC_DS_TAGS);
      if (size < sizeof(GC_word) || off > size - sizeof(GC_word)) {
        pargc_tracer_push_object_range(obj, obj + size); /* not in the object */
        break;
      }
      GC_word nd = *(const GC_word *)(obj + off);
      if ((nd & GC_DS_TAGS) != GC_DS_PER_OBJECT)
        scan_descr(obj, size, nd, depth + 1);
    }
    break;
  }
}

/* A long typed bitmap (more words than a simple descriptor holds).
 *
 * The descriptor word lives in the object, where a client's stray store
 * -- or memory some other object's owner writes -- can replace it with
 * anything, and the marker must survive that: a tag-2 word that is not
 * one of our long bitmaps was read as one and crashed the marker, and a
 * garbage length would send it far past the object.  So long bitmaps are
 * carved from one arena of their own (never freed, as Boehm GC keeps its
 * own), and a descriptor is trusted only if it points at the start of
 * one: inside the part handed out, and naming itself in `self`.  Anything
 * else scans the object conservatively. */
struct long_bitmap {
  uintptr_t self; /* this struct's address */
  size_t nwords;
  GC_word bits[]; /* LSB first, as built with GC_set_bit */
};
#define TYPED_LONG_TAG 2 /* the descriptor is a struct long_bitmap * | 2 */
#define LONG_BITMAP_ARENA ((size_t)64 << 20) /* reserved; touched as used */

static char *long_bitmap_arena;         /* set once, under kinds_lock */
static _Atomic size_t long_bitmap_used; /* bytes handed out (release) */

/* A copy of bitmap bm (nwords words described) in the arena, or NULL
 * when the arena cannot be had or is full. */
static struct long_bitmap *long_bitmap_new(const GC_word *bm, size_t nwords)
{
  size_t words = (nwords + 63) / 64;
  size_t need = (sizeof(struct long_bitmap) + words * sizeof(GC_word) + 15) & ~(size_t)15;
  struct long_bitmap *lb = NULL;
  pargc_lock(&kinds_lock);
  if (!long_bitmap_arena)
    long_bitmap_arena = pargc_os_alloc_meta(LONG_BITMAP_ARENA);
  size_t used = atomic_load_explicit(&long_bitmap_used, memory_order_relaxed);
  if (long_bitmap_arena && need <= LONG_BITMAP_ARENA - used) {
    lb = (struct long_bitmap *)(long_bitmap_arena + used);
    lb->self = (uintptr_t)lb;
    lb->nwords = nwords;
    memcpy(lb->bits, bm, words * sizeof(GC_word));
    /* Published whole: a marker that sees the new end sees the copy. */
    atomic_store_explicit(&long_bitmap_used, used + need, memory_order_release);
  }
  pargc_unlock(&kinds_lock);
  return lb;
}

/* The long bitmap descriptor d names, or NULL if it names none. */
static const struct long_bitmap *long_bitmap_of(GC_word d)
{
  uintptr_t p = (uintptr_t)(d & ~(GC_word)GC_DS_TAGS);
  size_t used = atomic_load_explicit(&long_bitmap_used, memory_order_acquire);
  if (p - (uintptr_t)long_bitmap_arena >= used || (p & 15))
    return NULL;
  const struct long_bitmap *lb = (const struct long_bitmap *)p;
  return lb->self == p ? lb : NULL;
}

static void scan_typed(uintptr_t obj, size_t avail, GC_word d)
{
  if ((d & GC_DS_TAGS) == GC_DS_PER_OBJECT) {
    /* No typed descriptor has this tag: the word was overwritten (a
     * client's stray store).  Scan the object conservatively rather
     * than trust it. */
    pargc_tracer_push_object_range(obj, obj + avail);
    return;
  }
  if ((d & GC_DS_TAGS) == TYPED_LONG_TAG) {
    const struct long_bitmap *lb = long_bitmap_of(d);
    if (!lb) { /* overwritten too */
      pargc_tracer_push_object_range(obj, obj + avail);
      return;
    }
    const uintptr_t *w = (const uintptr_t *)obj;
    size_t nw = lb->nwords < avail / sizeof(uintptr_t) ? lb->nwords : avail / sizeof(uintptr_t);
    for (size_t i = 0; i < nw; i++)
      if ((lb->bits[i / 64] >> (i % 64)) & 1)
        pargc_tracer_mark_word(w[i]);
    return;
  }
  scan_descr(obj, avail, d, 0);
}

static void scan_special(uintptr_t obj)
{
  struct pargc_page *pg;
  if (pargc_pagemap_object(obj, &pg) < 0)
    return;
  struct kind_info *ki = &kinds[pg->kind];
  size_t size = pg->size;
  const GC_word *w = (const GC_word *)obj;
  size_t nw = size / sizeof(GC_word);
  switch (ki->mode) {
  case SCAN_DESCR:
    scan_descr(obj, size, ki->add_size ? ki->descr + size : ki->descr, 0);
    break;
  case SCAN_TYPED:
    /* The descriptor is the last word; 0 while being set up: scan all. */
    if (w[nw - 1])
      scan_typed(obj, size - sizeof(GC_word), w[nw - 1]);
    else
      pargc_tracer_push_object_range(obj, obj + size);
    break;
  case SCAN_TYPED_ARRAY: {
    /* Last three words: descriptor, element size, element count. */
    /* A garbage header (see struct long_bitmap) must not take the scan
     * past the object, nor loop for ever: n * esz may overflow. */
    GC_word d = w[nw - 1], esz = w[nw - 2], n = w[nw - 3];
    size_t payload = size - 3 * sizeof(GC_word);
    if (!d || !esz || esz > payload || n > payload / esz) {
      pargc_tracer_push_object_range(obj, obj + size);
      break;
    }
    for (GC_word i = 0; i < n; i++)
      scan_typed(obj + i * esz, esz, d);
    break;
  }
  case SCAN_GCJ: {
    if (pargc_opt.ignore_gcj_info) { /* GC_IGNORE_GCJ_INFO */
      pargc_tracer_push_object_range(obj, obj + size);
      break;
    }
    /* 0: not yet initialised (all zero).  Top bit set: a free object
     * (a conservative pointer may mark one) whose first word is an
     * encoded free-list link, never a user-space vtable address. */
    uintptr_t vt = w[0];
    if (!vt || (intptr_t)vt < 0)
      break;
    GC_word d = ((const GC_word *)vt)[1];
    scan_descr(obj, size, d, 0);
    break;
  }
  }
}

/* ---- typed allocation (gc_typed.h) ------------------------------------------- */

GC_descr GC_make_descriptor(const GC_word *bm, size_t len)
{
  /* Highest pointer word + 1. */
  size_t last = 0;
  for (size_t i = 0; i < len; i++)
    if (GC_get_bit(bm, i))
      last = i + 1;
  if (last == 0)
    return GC_DS_BITMAP; /* no pointers: an empty bitmap */
  if (last <= 62) {
    GC_word d = GC_DS_BITMAP;
    for (size_t i = 0; i < last; i++)
      if (GC_get_bit(bm, i))
        d |= (GC_word)1 << (63 - i);
    return d;
  }
  /* Kept for the life of the program (as Boehm GC keeps its own). */
  struct long_bitmap *lb = long_bitmap_new(bm, last);
  if (!lb)
    return 0; /* GC_DS_LENGTH 0: scan conservatively */
  return (GC_word)lb | TYPED_LONG_TAG;
}

/* The typed kinds are made on first use.  typed_array_kind is published
 * last, with release: a thread that reads it made (acquire) also sees
 * typed_kind and both kinds' tables.  (Plain reads of the two let a
 * thread see typed_array_kind set and typed_kind not yet, in the
 * compiler's order of the stores: ThreadSanitizer, first_use_race_test.) */
static bool typed_kinds_made(void)
{
  return __atomic_load_n(&typed_array_kind, __ATOMIC_ACQUIRE) >= 0;
}

static void ensure_typed_kinds(void)
{
  if (typed_kinds_made())
    return;
  pargc_lock(&kinds_lock);
  if (typed_kind < 0)
    typed_kind = (int)new_kind(0, 0, 1, SCAN_TYPED);
  if (typed_array_kind < 0)
    __atomic_store_n(&typed_array_kind, (int)new_kind(0, 0, 1, SCAN_TYPED_ARRAY),
                     __ATOMIC_RELEASE);
  pargc_unlock(&kinds_lock);
}

void *GC_malloc_explicitly_typed(size_t lb, GC_descr d)
{
  ensure_typed_kinds();
  if (lb > SIZE_MAX - sizeof(GC_word))
    return NULL;
  GC_word *p = pargc_compat_alloc(lb + sizeof(GC_word), (unsigned)typed_kind);
  if (!p)
    return NULL;
  size_t nw = GC_size(p) / sizeof(GC_word);
  __atomic_store_n(&p[nw - 1], d, __ATOMIC_RELEASE);
  return p;
}

bool pargc_kinds_realloc_typed(void *old, size_t size, void **out)
{
  struct pargc_page *pg;
  if (!typed_kinds_made() || pargc_pagemap_object((uintptr_t)old, &pg) < 0 ||
      ((int)pg->kind != typed_kind && (int)pg->kind != typed_array_kind))
    return false;
  const GC_word *w = old;
  size_t nw = pg->size / sizeof(GC_word);
  bool array = (int)pg->kind == typed_array_kind;
  size_t payload = pg->size - (array ? 3 : 1) * sizeof(GC_word);
  void *p;
  if (array) {
    /* Element size and count no longer describe the object: a zero
     * descriptor has it scanned whole (scan_special). */
    p = pargc_compat_alloc(size + 3 * sizeof(GC_word), (unsigned)typed_array_kind);
  } else {
    p = GC_malloc_explicitly_typed(size, w[nw - 1]);
  }
  if (p) {
    memcpy(p, old, size < payload ? size : payload);
    GC_free(old);
  }
  *out = p;
  return true;
}

void *GC_malloc_explicitly_typed_ignore_off_page(size_t lb, GC_descr d)
{
  return GC_malloc_explicitly_typed(lb, d);
}

void *GC_calloc_explicitly_typed(size_t n, size_t esz, GC_descr d)
{
  ensure_typed_kinds();
  if (esz && n > (SIZE_MAX - 3 * sizeof(GC_word)) / esz)
    return NULL;
  size_t lb = n * esz;
  GC_word *p = pargc_compat_alloc(lb + 3 * sizeof(GC_word), (unsigned)typed_array_kind);
  if (!p)
    return NULL;
  size_t nw = GC_size(p) / sizeof(GC_word);
  p[nw - 3] = n;
  p[nw - 2] = esz;
  __atomic_store_n(&p[nw - 1], d ? d : (GC_word)GC_DS_LENGTH, __ATOMIC_RELEASE);
  return p;
}

/* ---- gcj (gc_gcj.h) ------------------------------------------------------------ */

void GC_init_gcj_malloc(int mp_index, void *mp)
{
  pargc_lock(&kinds_lock);
  if (GC_gcj_kind == 0) {
    if (mp && mp_index >= 0 && mp_index < GC_MAX_MARK_PROCS)
      procs[mp_index] = (GC_mark_proc)mp;
    GC_gcj_kind = pargc_kind_to_api(new_kind(0, 0, 1, SCAN_GCJ));
    /* Debug gcj objects carry a header before the vtable word: scanned
     * conservatively. */
    GC_gcj_debug_kind = pargc_kind_to_api(new_kind(0, 1, 1, SCAN_DESCR));
  }
  pargc_unlock(&kinds_lock);
}

void *GC_gcj_malloc(size_t lb, void *vtable)
{
  if (!GC_gcj_kind)
    GC_init_gcj_malloc(-1, NULL);
  void **p = pargc_compat_alloc(lb < sizeof(void *) ? sizeof(void *) : lb,
                                pargc_kind_from_api(GC_gcj_kind));
  if (p)
    __atomic_store_n(&p[0], vtable, __ATOMIC_RELEASE);
  return p;
}

void *GC_gcj_malloc_ignore_off_page(size_t lb, void *vtable) { return GC_gcj_malloc(lb, vtable); }

/* ---- disclaim (gc_disclaim.h) ----------------------------------------------- */

void GC_register_disclaim_proc(int k, GC_disclaim_proc proc, int mark_from_all)
{
  unsigned kind = pargc_kind_from_api(k);
  if (kind < PARGC_KIND_FIRST_CLIENT || kind >= pargc_kind_count()) {
    pargc_warn("GC_register_disclaim_proc: kind %d is not a GC_new_kind kind; ignored", k);
    return;
  }
  pargc_lock(&pargc_collect_lock);
  kinds[kind].disclaim = proc;
  kinds[kind].mark_from_all = mark_from_all != 0;
  atomic_store(&any_disclaim, 1);
  pargc_unlock(&pargc_collect_lock);
}

/* GC_finalized_malloc: the first word holds the closure pointer | 1; the
 * client gets the object from the second word on. */
static int finalized_disclaim(void *obj)
{
  GC_word w = *(GC_word *)obj;
  if (w & 1) {
    const struct GC_finalizer_closure *fc = (const struct GC_finalizer_closure *)(w & ~(GC_word)1);
    fc->proc((GC_word *)obj + 1, fc->cd);
  }
  return 0;
}

void GC_init_finalized_malloc(void)
{
  /* With interior pointers off (GC_set_all_interior_pointers(0)) only
   * registered offsets keep an object, and two pointers here are not to
   * a start: the one the client holds, one word in, and the closure
   * pointer | 1 in the first word, which alone may keep the closure --
   * also a closure from GC_DEBUG's allocation, which starts after the
   * debug header (Boehm GC registers the same three). */
  pargc_tracer_register_displacement(sizeof(GC_word));
  pargc_tracer_register_displacement(1);
  pargc_tracer_register_displacement(GC_debug_header_size + 1);
  /* The kind is published (release) only once its disclaim procedure
   * is registered: an object allocated in between would have been
   * reclaimed without its finalizer.  The procedure's registration takes
   * the collector's lock, so the kind is made under a lock of its own,
   * not kinds_lock. */
  pargc_lock(&finalized_init_lock);
  if (finalized_kind < 0) {
    unsigned k = new_kind(0, 1, 1, SCAN_DESCR);
    GC_register_disclaim_proc(pargc_kind_to_api(k), finalized_disclaim, 1);
    __atomic_store_n(&finalized_kind, (int)k, __ATOMIC_RELEASE);
  }
  pargc_unlock(&finalized_init_lock);
}

void *GC_finalized_malloc(size_t size, const struct GC_finalizer_closure *fc)
{
  int k = __atomic_load_n(&finalized_kind, __ATOMIC_ACQUIRE);
  if (k < 0) {
    GC_init_finalized_malloc();
    k = __atomic_load_n(&finalized_kind, __ATOMIC_ACQUIRE);
  }
  GC_word *p = pargc_compat_alloc(size + sizeof(GC_word), (unsigned)k);
  if (!p)
    return NULL;
  __atomic_store_n(&p[0], (GC_word)fc | 1, __ATOMIC_RELEASE);
  return p + 1;
}

/* Call fn(pg, i, obj) for every allocated, unmarked object of the kinds
 * that have a disclaim procedure. */
static void each_unmarked_disclaimable(void (*fn)(struct pargc_page *, uint32_t, uintptr_t))
{
  for (struct pargc_page *pg = NULL; (pg = pargc_pagemap_next_in_use(pg));) {
    uint8_t st = atomic_load(&pg->state);
    if (pg->kind < PARGC_KIND_FIRST_CLIENT || !kinds[pg->kind].disclaim)
      continue;
    const uint64_t *marks = pargc_page_marks(pg);
    for (uint32_t i = 0; i < pg->nobjs; i++) {
      if (pargc_mark_test(marks, i))
        continue;
      if (st == PARGC_PAGE_SMALL && pargc_slot_is_free(pg, i))
        continue;
      fn(pg, i, pargc_page_object_addr(pg, i));
    }
  }
}

static void push_unmarked(struct pargc_page *pg, uint32_t i, uintptr_t obj)
{
  (void)i;
  if (kinds[pg->kind].mark_from_all)
    pargc_tracer_push_range((void *)obj, (void *)(obj + pg->size));
}

static void kinds_push_roots(void)
{
  update_heap_bounds();
  if (atomic_load(&any_disclaim))
    each_unmarked_disclaimable(push_unmarked);
}

/* Does scanning an object of this kind call a client's mark procedure
 * (directly, or through a per-object descriptor that may name one)? */
static bool kind_calls_proc(unsigned k)
{
  const struct kind_info *ki = &kinds[k];
  if (ki->mode != SCAN_DESCR)
    return false;
  GC_word tag = ki->descr & GC_DS_TAGS;
  return tag == GC_DS_PROC || tag == GC_DS_PER_OBJECT;
}

/* At a concurrent collection's final stop, every marked object of a kind
 * with a mark procedure is scanned (again): its procedure was put off
 * while the program ran (call_proc), and even one that ran before may
 * report pointers that live outside the heap -- Guile's thread objects
 * mark the interpreter's stack, mmap'd memory the barrier never sees
 * written -- so a card that stayed clean does not prove its result
 * unchanged.  Usually a handful of objects: the threads, a few tables. */
static void kinds_remark(void)
{
  for (struct pargc_page *pg = NULL; (pg = pargc_pagemap_next_in_use(pg));) {
    unsigned k = pg->kind;
    if (k < PARGC_KIND_FIRST_CLIENT ||
        !(kind_calls_proc(k) || atomic_load_explicit(&kind_deferred[k], memory_order_relaxed)))
      continue;
    const uint64_t *marks = pargc_page_marks(pg);
    for (uint32_t i = 0; i < pg->nobjs; i++)
      if (pargc_mark_test(marks, i))
        pargc_tracer_push_special(pargc_page_object_addr(pg, i));
  }
}

static void disclaim_one(struct pargc_page *pg, uint32_t i, uintptr_t obj)
{
  if (kinds[pg->kind].disclaim((void *)obj)) {
    pargc_mark_section_enter(); /* alloc/pagemap.h */
    pargc_mark_set(pargc_page_marks(pg), i); /* kept for one more cycle */
    pargc_mark_section_leave();
  } else if (atomic_load(&pg->state) == PARGC_PAGE_SMALL) {
    pargc_slot_retire(pg, (void *)obj); /* never offered twice */
  }
}

static void kinds_after_mark(void)
{
  if (atomic_load(&any_disclaim))
    each_unmarked_disclaimable(disclaim_one);
}

void pargc_kinds_install(void)
{
  pargc_tracer_scan_special = scan_special;
  pargc_collect_add_root_hook(kinds_push_roots);
  pargc_collect_add_remark_hook(kinds_remark);
  pargc_collect_add_after_mark_hook(kinds_after_mark);
}
