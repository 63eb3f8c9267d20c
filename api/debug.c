/* debug: GC_DEBUG allocation (the GC_debug_* calls) and leak detection
 * (GC_set_find_leak, GC_FIND_LEAK).
 *
 * A debug object is an ordinary object with a header in front of what the
 * client sees, a canary word behind it and, in the slot's last two words,
 * a copy of what identifies it:
 *
 *   base: [file][line][size][base ^ DBG_MAGIC] user bytes [DBG_TRAILER] ... [size][base ^ DBG_TAIL_MAGIC]
 *                                             ^ returned pointer
 *
 * (GC_debug_header_size = 4 words, as Boehm GC's on 64-bit Linux.)  The
 * object is checked by GC_debug_free (double free, smashed object) and,
 * at every collection once debug objects exist, every live debug object
 * is: an overwritten trailer is reported with the allocation site.  The
 * tail keeps an object recognisable when an underrun has overwritten its
 * header, which is then reported too (without a site: it was in the
 * header).
 *
 * Leak detection: with GC_find_leak set, each collection lists the
 * unreachable objects that were never freed (file:line for debug objects)
 * and lets them be reclaimed; each is reported once.  The scan runs with
 * the world stopped after all marking (it is the last after-mark hook);
 * reports are kept in a fixed buffer and printed once the world runs.
 */
#include "config.h"
#include "api/compat.h"
#include "gc/tracer.h"
#include "gc/collect.h"
#include "alloc/options.h"
#include "alloc/page.h"
#include "alloc/report.h"
#include "alloc/thread.h"

#include <gc/gc.h>
#include <gc/gc_gcj.h>
#include <gc/gc_mark.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DBG_WORDS 4
#define DBG_HDR (DBG_WORDS * sizeof(GC_word))
#define DBG_MAGIC ((GC_word)0x5eed0bad0c0ffee1ull)
#define DBG_TRAILER ((GC_word)0xdeadbeefcafef00dull)
#define DBG_TAIL_MAGIC ((GC_word)0x7a11ed0bca5eb0b5ull)

const size_t GC_debug_header_size = DBG_HDR;
int GC_find_leak;
static _Atomic int debug_objects_seen;

size_t GC_get_debug_header_size(void) { return DBG_HDR; }
PARGC_API_SETTING(int, find_leak, GC_find_leak)

struct dbg_hdr {
  const char *file;
  GC_signed_word line;
  GC_word size;
  GC_word check;
};

/* GC_FINDLEAK_DELAY_FREE: in leak mode, GC_debug_free keeps the object,
 * fills what follows its header with FREED_MARKER (Boehm GC's value) and
 * changes its check word to say so; the collection that finds it
 * unreachable reports it if the program wrote into it since, and lets
 * the sweep reclaim it either way. */
#define DBG_FREED_MAGIC ((GC_word)0xf4eedf4eedf4eed5ull)
#define FREED_MARKER ((GC_word)0xEFBEADDEdeadbeefull)

static bool is_freed_debug(uintptr_t base, size_t slot_size)
{
  const struct dbg_hdr *h = (const struct dbg_hdr *)base;
  return slot_size >= DBG_HDR + sizeof(GC_word) && h->check == (base ^ DBG_FREED_MAGIC) &&
         h->size <= slot_size - DBG_HDR - sizeof(GC_word);
}

/* The first word of a delayed-free object that no longer holds the
 * marker, or 0. */
static uintptr_t altered_after_free(uintptr_t base, size_t slot_size)
{
  for (uintptr_t a = base + DBG_HDR; a + sizeof(GC_word) <= base + slot_size; a += sizeof(GC_word))
    if (*(const GC_word *)a != FREED_MARKER)
      return a;
  return 0;
}

struct dbg_tail {
  GC_word size;
  GC_word check;
};

/* Fixed overhead: header, trailer, the tail and up to a word of padding
 * between the trailer (right after the user bytes) and the tail (on a
 * word boundary at the slot's end). */
#define DBG_EXTRA (DBG_HDR + sizeof(GC_word) + sizeof(struct dbg_tail) + sizeof(GC_word))

static struct dbg_tail *tail_of(uintptr_t base, size_t slot_size)
{
  return (struct dbg_tail *)((base + slot_size - sizeof(struct dbg_tail)) &
                             ~(uintptr_t)(sizeof(GC_word) - 1));
}

static bool header_intact(uintptr_t base, size_t slot_size)
{
  const struct dbg_hdr *h = (const struct dbg_hdr *)base;
  return h->check == (base ^ DBG_MAGIC) && h->size <= slot_size - DBG_EXTRA;
}

static bool tail_intact(uintptr_t base, size_t slot_size)
{
  const struct dbg_tail *t = tail_of(base, slot_size);
  return t->check == (base ^ DBG_TAIL_MAGIC) && t->size <= slot_size - DBG_EXTRA;
}

/* Is the object at base (slot_size bytes) a debug object?  Either copy of
 * its identity will do: an underrun smashes the header, an overrun past
 * the trailer may reach the tail. */
static bool is_debug_base(uintptr_t base, size_t slot_size)
{
  return slot_size >= DBG_EXTRA && (header_intact(base, slot_size) || tail_intact(base, slot_size));
}

/* The user size of debug object base, from whichever copy is intact. */
static size_t debug_user_size(uintptr_t base, size_t slot_size)
{
  if (header_intact(base, slot_size) || is_freed_debug(base, slot_size))
    return ((const struct dbg_hdr *)base)->size;
  return tail_of(base, slot_size)->size;
}

/* Address of the first byte of smashed debug information (the header's
 * identity, then the trailer), or 0. */
static uintptr_t smashed_at(uintptr_t base, size_t slot_size)
{
  const struct dbg_hdr *h = (const struct dbg_hdr *)base;
  if (!header_intact(base, slot_size)) {
    size_t lb = tail_of(base, slot_size)->size;
    return h->size != lb ? (uintptr_t)&h->size : (uintptr_t)&h->check;
  }
  GC_word t;
  memcpy(&t, (const char *)base + DBG_HDR + h->size, sizeof t);
  if (t == DBG_TRAILER)
    return 0;
  GC_word want = DBG_TRAILER;
  const unsigned char *a = (const unsigned char *)&t, *b = (const unsigned char *)&want;
  size_t i = 0;
  while (i < sizeof t && a[i] == b[i])
    i++;
  return base + DBG_HDR + h->size + i;
}

static void *store_debug(void *base, size_t lb, const char *s, int i)
{
  if (!base)
    return NULL;
  struct dbg_hdr *h = base;
  h->file = s ? s : "(unknown)";
  h->line = i;
  h->size = lb;
  h->check = (GC_word)base ^ DBG_MAGIC;
  GC_word t = DBG_TRAILER;
  memcpy((char *)base + DBG_HDR + lb, &t, sizeof t);
  struct dbg_tail *tail = tail_of((uintptr_t)base, GC_size(base));
  tail->size = lb;
  tail->check = (GC_word)base ^ DBG_TAIL_MAGIC;
  if (!atomic_exchange_explicit(&debug_objects_seen, 1, memory_order_relaxed))
    pargc_tracer_register_displacement(DBG_HDR); /* the client's pointer, as Boehm GC */
  return (char *)base + DBG_HDR;
}

static size_t debug_size(size_t lb)
{
  return lb > SIZE_MAX - DBG_EXTRA ? SIZE_MAX : lb + DBG_EXTRA;
}

static void *debug_alloc(size_t lb, unsigned kind, const char *s, int i)
{
  size_t n = debug_size(lb);
  if (n == SIZE_MAX)
    return NULL;
  return store_debug(pargc_compat_alloc(n, kind), lb, s, i);
}

void *GC_debug_malloc(size_t lb, GC_EXTRA_PARAMS) { return debug_alloc(lb, PARGC_KIND_NORMAL, s, i); }
void *GC_debug_malloc_atomic(size_t lb, GC_EXTRA_PARAMS) { return debug_alloc(lb, PARGC_KIND_ATOMIC, s, i); }
void *GC_debug_malloc_uncollectable(size_t lb, GC_EXTRA_PARAMS)
{
  return debug_alloc(lb, PARGC_KIND_UNCOLLECTABLE, s, i);
}
void *GC_debug_malloc_atomic_uncollectable(size_t lb, GC_EXTRA_PARAMS)
{
  return debug_alloc(lb, PARGC_KIND_ATOMIC_UNCOLLECTABLE, s, i);
}
void *GC_debug_malloc_ignore_off_page(size_t lb, GC_EXTRA_PARAMS) { return GC_debug_malloc(lb, s, i); }
void *GC_debug_malloc_atomic_ignore_off_page(size_t lb, GC_EXTRA_PARAMS)
{
  return GC_debug_malloc_atomic(lb, s, i);
}
void *GC_debug_malloc_stubborn(size_t lb, GC_EXTRA_PARAMS) { return GC_debug_malloc(lb, s, i); }
void *GC_debug_generic_or_special_malloc(size_t lb, int k, GC_EXTRA_PARAMS)
{
  unsigned kind = pargc_kind_from_api(k);
  if (kind >= PARGC_MAX_KINDS)
    return NULL;
  return debug_alloc(lb, kind, s, i);
}

void *GC_debug_gcj_malloc(size_t lb, void *vtable, GC_EXTRA_PARAMS)
{
  if (!GC_gcj_kind)
    GC_init_gcj_malloc(-1, NULL);
  void **p = debug_alloc(lb < sizeof(void *) ? sizeof(void *) : lb,
                         pargc_kind_from_api(GC_gcj_debug_kind), s, i);
  if (p)
    p[0] = vtable;
  return p;
}

void *GC_debug_malloc_replacement(size_t lb) { return GC_debug_malloc(lb, "(replacement)", 0); }

static void report(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void report(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fflush(stderr);
}

/* The base of debug object p (its user pointer); 0 with a report when p
 * is not one.  *freed: p's slot is already free. */
static uintptr_t debug_base_of(void *p, const char *who, bool *plain)
{
  struct pargc_page *pg;
  *plain = false;
  int32_t idx = pargc_pagemap_object((uintptr_t)p, &pg);
  if (idx < 0) {
    report("%s: %p is not a heap object (freed twice, or never allocated here?)\n", who, p);
    return 0;
  }
  uintptr_t base = pargc_page_object_addr(pg, (uint32_t)idx);
  if ((atomic_load(&pg->state) == PARGC_PAGE_SMALL && pargc_slot_is_free(pg, (uint32_t)idx)) ||
      ((uintptr_t)p == base + DBG_HDR && is_freed_debug(base, pg->size))) {
    report("%s: object at %p was already freed (double free); ignored\n", who, p);
    return 0;
  }
  if ((uintptr_t)p != base + DBG_HDR || !is_debug_base(base, pg->size)) {
    *plain = true; /* allocated without debugging information */
    return 0;
  }
  return base;
}

static void check_smashed(uintptr_t base, const char *who)
{
  size_t slot = GC_size((void *)base);
  uintptr_t at = smashed_at(base, slot);
  if (!at)
    return;
  const struct dbg_hdr *h = (const struct dbg_hdr *)base;
  if (header_intact(base, slot))
    report("%s: found smashed location at %p in object %p (%s:%ld, sz=%lu)\n", who, (void *)at,
           (void *)(base + DBG_HDR), h->file, (long)h->line, (unsigned long)h->size);
  else
    report("%s: found smashed location at %p in object %p (debug header smashed, sz=%lu)\n", who,
           (void *)at, (void *)(base + DBG_HDR), (unsigned long)debug_user_size(base, slot));
}

void GC_debug_free(void *p)
{
  if (!p)
    return;
  bool plain;
  uintptr_t base = debug_base_of(p, "GC_debug_free", &plain);
  if (plain) {
    GC_free(p);
    return;
  }
  if (!base)
    return;
  check_smashed(base, "GC_debug_free");
  struct pargc_page *pg;
  if (GC_find_leak && pargc_opt.findleak_delay_free &&
      pargc_pagemap_object(base, &pg) >= 0 && !pargc_kind_uncollectable[pg->kind]) {
    for (uintptr_t a = base + DBG_HDR; a + sizeof(GC_word) <= base + pg->size; a += sizeof(GC_word))
      *(GC_word *)a = FREED_MARKER;
    ((struct dbg_hdr *)base)->check = base ^ DBG_FREED_MAGIC;
    return;
  }
  GC_free((void *)base);
}

void *GC_debug_realloc(void *p, size_t lb, GC_EXTRA_PARAMS)
{
  if (!p)
    return GC_debug_malloc(lb, s, i);
  if (lb == 0) {
    GC_debug_free(p);
    return NULL;
  }
  bool plain;
  uintptr_t base = debug_base_of(p, "GC_debug_realloc", &plain);
  if (plain)
    return GC_realloc(p, lb);
  if (!base)
    return NULL;
  check_smashed(base, "GC_debug_realloc");
  struct pargc_page *pg = NULL;
  if (pargc_pagemap_object(base, &pg) < 0)
    return NULL;
  void *q = debug_alloc(lb, pg->kind, s, i);
  if (!q)
    return NULL;
  size_t old = debug_user_size(base, pg->size);
  memcpy(q, p, old < lb ? old : lb);
  GC_free((void *)base);
  return q;
}

void *GC_debug_realloc_replacement(void *p, size_t lb)
{
  return GC_debug_realloc(p, lb, "(replacement)", 0);
}

char *GC_debug_strdup(const char *str, GC_EXTRA_PARAMS)
{
  size_t n = strlen(str) + 1;
  char *c = GC_debug_malloc_atomic(n, s, i);
  if (c)
    memcpy(c, str, n);
  return c;
}

char *GC_debug_strndup(const char *str, size_t size, GC_EXTRA_PARAMS)
{
  size_t n = strnlen(str, size);
  char *c = GC_debug_malloc_atomic(n + 1, s, i);
  if (c) {
    memcpy(c, str, n);
    c[n] = 0;
  }
  return c;
}

void GC_debug_change_stubborn(const void *p) { (void)p; }
void GC_debug_end_stubborn_change(const void *p) { GC_end_stubborn_change(p); }
void GC_debug_ptr_store_and_dirty(void *p, const void *q) { GC_ptr_store_and_dirty(p, q); }
/* As Boehm GC: the offset from the client's pointer, and from the base. */
void GC_debug_register_displacement(size_t offset)
{
  GC_register_displacement(offset);
  GC_register_displacement(offset + DBG_HDR);
}

/* Finalizers of debug objects: registered on the base; the wrapper hands
 * the client the user pointer.  The closure is a heap object kept alive
 * as the finalizer's client data. */
struct dbg_closure {
  GC_finalization_proc fn;
  void *cd;
};

static void GC_CALLBACK debug_fin(void *base, void *closure)
{
  struct dbg_closure *c = closure;
  c->fn((char *)base + DBG_HDR, c->cd);
}

typedef void (*register_fn)(void *, GC_finalization_proc, void *, GC_finalization_proc *, void **);

static void debug_register(void *obj, GC_finalization_proc fn, void *cd, GC_finalization_proc *ofn,
                           void **ocd, register_fn reg)
{
  void *base = GC_base(obj);
  if (ofn)
    *ofn = 0;
  if (ocd)
    *ocd = 0;
  if (!base)
    return;
  struct dbg_closure *c = NULL;
  if (fn) {
    c = GC_malloc(sizeof *c);
    if (!c)
      return;
    c->fn = fn;
    c->cd = cd;
  }
  GC_finalization_proc old_fn = 0;
  void *old_cd = 0;
  if ((char *)base + DBG_HDR == (char *)obj)
    reg(base, fn ? debug_fin : 0, c, &old_fn, &old_cd);
  else
    reg(base, fn, cd, &old_fn, &old_cd); /* not a debug object */
  if (old_fn == debug_fin && old_cd) {
    old_fn = ((struct dbg_closure *)old_cd)->fn;
    old_cd = ((struct dbg_closure *)old_cd)->cd;
  }
  if (ofn)
    *ofn = old_fn;
  if (ocd)
    *ocd = old_cd;
}

/* GC_debug_register_finalizer<suffix> wraps GC_register_finalizer<suffix>. */
#define DEBUG_REGISTER_FINALIZER(suffix)                                                  \
  void GC_debug_register_finalizer##suffix(void *obj, GC_finalization_proc fn, void *cd,  \
                                           GC_finalization_proc *ofn, void **ocd)         \
  {                                                                                       \
    debug_register(obj, fn, cd, ofn, ocd, GC_register_finalizer##suffix);                \
  }
DEBUG_REGISTER_FINALIZER()
DEBUG_REGISTER_FINALIZER(_ignore_self)
DEBUG_REGISTER_FINALIZER(_no_order)
DEBUG_REGISTER_FINALIZER(_unreachable)

/* ---- collection-time checks and leak reports ---------------------------- */

#define MAX_REPORTS 256
struct dbg_report {
  bool leak; /* else smashed */
  const char *file;
  long line;
  size_t size;
  uintptr_t user, at;
  int kind;                        /* Boehm's kind number */
  char type[GC_TYPE_DESCR_LEN + 1]; /* GC_register_describe_type_fn's text */
};

/* GC_register_describe_type_fn, by Boehm kind number. */
static GC_describe_type_fn describe_fns[PARGC_MAX_KINDS];

void GC_register_describe_type_fn(int kind, GC_describe_type_fn fn)
{
  if (kind >= 0 && kind < PARGC_MAX_KINDS)
    describe_fns[kind] = fn;
}

/* The type of a leaked debug object, as Boehm GC prints it: the kind's
 * describe function's text, else the kind's name, else its number.  The
 * describe function is called here, with the world stopped, while the
 * object is intact (it is reclaimed afterwards): it must not take locks
 * the program may hold, as the other callbacks of a stopped world. */
static void describe(struct dbg_report *r, unsigned kind, uintptr_t user)
{
  int k = pargc_kind_to_api(kind);
  r->kind = k;
  r->type[0] = 0;
  GC_describe_type_fn fn = k >= 0 && k < PARGC_MAX_KINDS ? describe_fns[k] : NULL;
  if (fn) {
    r->type[GC_TYPE_DESCR_LEN] = 0;
    fn((void *)user, r->type);
    r->type[GC_TYPE_DESCR_LEN] = 0;
    return;
  }
  const char *name = k == 0 ? "PTRFREE" : k == 1 ? "NORMAL"
                     : k == 2 ? "UNCOLLECTABLE" : k == 3 ? "ATOMIC_UNCOLLECTABLE" : NULL;
  if (name)
    snprintf(r->type, sizeof r->type, "%s", name);
}
static struct dbg_report reports[MAX_REPORTS];
static size_t nreports, lost_reports;

static void add_report(bool leak, uintptr_t base, size_t slot, uintptr_t at, unsigned kind)
{
  if (nreports == MAX_REPORTS) {
    lost_reports++;
    return;
  }
  struct dbg_report *r = &reports[nreports++];
  r->leak = leak;
  r->at = at;
  if (is_debug_base(base, slot) || is_freed_debug(base, slot)) {
    const struct dbg_hdr *h = (const struct dbg_hdr *)base;
    bool site = header_intact(base, slot) || is_freed_debug(base, slot);
    r->file = site ? h->file : NULL;
    r->line = site ? (long)h->line : 0;
    r->size = debug_user_size(base, slot);
    r->user = base + DBG_HDR;
  } else {
    r->file = NULL;
    r->line = 0;
    r->size = slot;
    r->user = base;
  }
  describe(r, kind, r->user);
}

static void debug_after_mark(void)
{
  bool leaks = GC_find_leak != 0;
  bool smash = atomic_load_explicit(&debug_objects_seen, memory_order_relaxed) != 0;
  if (!leaks && !smash)
    return;
  for (struct pargc_page *pg = NULL; (pg = pargc_pagemap_next_in_use(pg));) {
    uint8_t st = atomic_load(&pg->state);
    bool uncollectable = pargc_kind_uncollectable[pg->kind];
    const uint64_t *marks = pargc_page_marks(pg);
    for (uint32_t i = 0; i < pg->nobjs; i++) {
      bool marked = pargc_mark_test(marks, i);
      uintptr_t base = pargc_page_object_addr(pg, i);
      if (marked) {
        if (smash && is_debug_base(base, pg->size)) {
          uintptr_t at = smashed_at(base, pg->size);
          if (at)
            add_report(false, base, pg->size, at, pg->kind);
        }
        continue;
      }
      if (!leaks || uncollectable)
        continue;
      if (st == PARGC_PAGE_SMALL && pargc_slot_is_free(pg, i))
        continue;
      if (is_freed_debug(base, pg->size)) { /* GC_FINDLEAK_DELAY_FREE */
        uintptr_t at = altered_after_free(base, pg->size);
        if (at)
          add_report(false, base, pg->size, at, pg->kind);
        continue; /* freed, not leaked: the sweep reclaims it */
      }
      add_report(true, base, pg->size, 0, pg->kind);
      if (st == PARGC_PAGE_SMALL)
        pargc_slot_retire(pg, (void *)base); /* reported once */
    }
  }
}

void pargc_debug_after_collection(void)
{
  if (!nreports && !lost_reports)
    return;
  pargc_lock(&pargc_collect_lock);
  size_t n = nreports, lost = lost_reports;
  static struct dbg_report copy[MAX_REPORTS];
  memcpy(copy, reports, n * sizeof *copy);
  nreports = lost_reports = 0;
  pargc_unlock(&pargc_collect_lock);
  size_t leaks = 0;
  for (size_t k = 0; k < n; k++)
    leaks += copy[k].leak;
  if (leaks)
    report("Found %zu leaked objects:\n", leaks + lost);
  for (size_t k = 0; k < n; k++) {
    struct dbg_report *r = &copy[k];
    /* Boehm GC's lines (GC_print_heap_obj). */
    if (r->leak && r->file && r->type[0])
      report("%p (%s:%ld, sz= %zu, %s)\n", (void *)r->user, r->file, r->line, r->size, r->type);
    else if (r->leak && r->file)
      report("%p (%s:%ld, sz= %zu, kind= %d)\n", (void *)r->user, r->file, r->line, r->size,
             r->kind);
    else if (r->leak)
      report("object at %p of appr. %zu bytes (%s)\n", (void *)r->user, r->size,
             r->kind == 0 ? "atomic"
             : r->kind == 2 || r->kind == 3 ? "uncollectable" : "composite");
    else if (r->file)
      report("GC_check_heap: found smashed location at %p in object %p (%s:%ld, sz=%zu)\n",
             (void *)r->at, (void *)r->user, r->file, r->line, r->size);
    else
      report("GC_check_heap: found smashed location at %p in object %p (debug header smashed, "
             "sz=%zu)\n", (void *)r->at, (void *)r->user, r->size);
  }
  if (lost)
    report("(%zu more reports dropped)\n", lost);
  if (leaks && pargc_opt.abort_on_leak)
    abort();
}

void pargc_debug_install(void)
{
  if (pargc_opt.find_leak)
    GC_find_leak = 1;
  pargc_collect_add_after_mark_hook(debug_after_mark);
}
