/* pagemap: the heap's address range, its page descriptors and mark bits.
 *
 * The heap is one reserved range [base, base + reserve) cut into 64 KiB
 * pages.  Pages are handed out bottom-up (`top` grows); every page has a
 * descriptor in a side array indexed by (addr - base) >> 16, so "does
 * this word point into the heap, and into which object?" -- asked for
 * every word the marker scans -- is a range check, an index, and for a
 * page inside a multi-page span one more step back to the span's head.
 *
 * A span (the pages of one small size class) or a large run has a HEAD
 * descriptor; its other pages are TAIL and record the distance to the
 * head.  Mark bits live in side arrays, 64 words per page, used only for
 * head pages: bit i marks object i of the span (a span never holds more
 * than 4096 objects).  Side arrays are touched first by the thread that
 * starts the span, so on NUMA they sit on that thread's node.
 *
 * Two mark bitmaps.  `marks` is the bitmap of the collection started
 * last: the one the marker sets, and what every "is it marked?" question
 * reads.  `sweep_marks` is the bitmap of the collection completed last:
 * what the lazy sweep reads.  They are the same array except while a
 * mostly-concurrent collection marks (gc/concurrent.h): mutators then
 * keep sweeping by the previous collection's marks while the new ones
 * are being built in the other array.  Both pointers change only with
 * the world stopped (pargc_pagemap_flip_marks at a collection's start,
 * pargc_pagemap_marks_complete at its end).
 *
 * Mutators that write mark bits (black allocation, uncollectable
 * objects, GC_free, GC_set_mark_bit) do so inside a mark section
 * (pargc_mark_section_enter/leave): the collector's stop signal is put
 * off until the section ends, so the bitmap a section read is still
 * current when it writes.  Without it, a thread stopped between reading
 * `marks` and writing, and kept still over two collections (descheduled
 * or held by GC_suspend_thread), wrote into the array after the second
 * one had cleared it for reuse (gc/collect.h, phase_preclear) and made
 * it current again: a mark bit with no scan behind it, so the objects
 * only it pointed to were never marked and were freed while reachable.
 *
 * Dirty cards.  One bit per 4 KiB card of the reservation records that
 * the card may have been written since the mostly-concurrent marker last
 * looked at it (gc/dirty.h fills it from page protection, the kernel's
 * soft-dirty bits or explicit calls; the allocator sets it for spans it
 * formats while a concurrent mark runs).
 *
 * Invariants:
 *  - state is written last when a span is set up and first when it is
 *    torn down (release/acquire), so a marker that reads SMALL or LARGE
 *    sees consistent size, nobjs and recip, and memory that holds only
 *    free objects or objects handed out since (page.h).
 *  - only pages below `top` are ever non-UNUSED.
 */
#ifndef PARGC_PAGEMAP_H
#define PARGC_PAGEMAP_H
#ifndef PARGC_BUILDING
#error "alloc/pagemap.h is internal to pargc"
#endif

#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc/report.h"
#include "alloc/sizeclass.h"

#define PARGC_PAGE_SHIFT 16
#define PARGC_PAGE_SIZE ((size_t)1 << PARGC_PAGE_SHIFT)
#define PARGC_MARK_WORDS 64 /* 4096 mark bits per span head */

enum pargc_page_state {
  PARGC_PAGE_UNUSED = 0, /* above top, or never handed out */
  PARGC_PAGE_FREE,       /* head of a free run of `pages` pages in a pool */
  PARGC_PAGE_SMALL,      /* head of a span of one size class */
  PARGC_PAGE_LARGE,      /* head of a run holding one large object */
  PARGC_PAGE_TAIL,       /* not a head: see head_delta */
};

/* Object kinds.  Boehm's numbering: normal objects are scanned, atomic
 * ones never; uncollectable ones are scanned and only freed by GC_free.
 * Kinds above are created with GC_new_kind. */
enum {
  PARGC_KIND_NORMAL = 0,
  PARGC_KIND_ATOMIC = 1,
  PARGC_KIND_UNCOLLECTABLE = 2,
  PARGC_KIND_ATOMIC_UNCOLLECTABLE = 3,
  /* Kinds from here on are made at run time (GC_new_kind, typed, gcj,
   * finalized allocation) and scanned by descriptor, not conservatively. */
  PARGC_KIND_FIRST_CLIENT = 4,
  PARGC_MAX_KINDS = 24, /* Boehm GC's MAXOBJKINDS */
};

/* One cache line: the marker and the free path read a descriptor for
 * nearly every candidate pointer, so everything they need sits in the
 * first 40 bytes and the whole struct is exactly 64 bytes (the array is
 * page-aligned, so no descriptor straddles two lines). */
struct pargc_page {
  _Atomic uint8_t state; /* enum pargc_page_state */
  uint8_t kind;
  uint8_t sclass;        /* size class (SMALL) */
  uint8_t zeroed;        /* contents known to be all zero */
  uint8_t decommitted;   /* FREE run given back to the OS */
  uint8_t list;          /* which list the page is on (heap.c/thread.c) */
  uint8_t node;          /* NUMA node of the thread that first used it */
  /* SMALL: 0 when every object of the span was linked into a free list
   * once (the usual case); else the objects that start in the span's
   * first `built` 4 KiB cards were, and those after have never been
   * touched: zero memory the kernel has not committed yet.  Only a
   * fresh span that is some context's current page is partly built
   * (page.h, pargc_page_extend). */
  uint8_t built;
  uint16_t owner;        /* id of the owning thread context (SMALL) */
  uint16_t nobjs;        /* objects in the span (SMALL, <= 4096); 1 for LARGE */
  uint32_t pages;        /* pages in the span / run (heads) */
  uint32_t head_delta;   /* TAIL: pages back to the head */
  uint32_t size;         /* object size (SMALL) or object bytes (LARGE) */
  union {
    uint64_t recip;         /* SMALL: see sizeclass.h */
    uint64_t free_since_ns; /* FREE: when it became free (decommit delay) */
  };
  _Atomic(void *) remote; /* objects freed by threads other than the owner */
  void **free;           /* free objects found by sweep, owner only */
  struct pargc_page *next, *prev; /* the list the page is on */
};
_Static_assert(sizeof(struct pargc_page) == 64, "a page descriptor is one cache line");

struct pargc_region {
  uintptr_t base;       /* first page */
  size_t reserve;       /* bytes reserved */
  size_t max_pages;     /* reserve / PARGC_PAGE_SIZE */
  _Atomic size_t top;   /* pages handed out so far (bump pointer) */
  struct pargc_page *pages;
  uint64_t (*marks)[PARGC_MARK_WORDS];       /* the last collection started */
  uint64_t (*sweep_marks)[PARGC_MARK_WORDS]; /* the last collection completed */
  uint64_t (*mark_arrays[2])[PARGC_MARK_WORDS];
  _Atomic uint64_t *dirty; /* one bit per PARGC_CARD_SIZE card */
  /* Black list: one bit per page of the reservation, set by the marker
   * for pages that a word which is not a pointer to an object hit (a
   * free page, or one not handed out yet).  Multi-page runs avoid them,
   * so that an integer that looks like an address cannot retain a large
   * object.  Rebuilt at every collection (Boehm GC keeps the same idea). */
  _Atomic uint64_t *blacklist;
  _Atomic size_t blacklist_hi; /* one past the highest page index set */
};

extern struct pargc_region pargc_region;

/* Reserve the heap range and the side arrays.  false if impossible. */
bool pargc_pagemap_init(size_t reserve);

static inline size_t pargc_page_index(const struct pargc_page *pg)
{
  return (size_t)(pg - pargc_region.pages);
}

static inline uintptr_t pargc_page_addr(const struct pargc_page *pg)
{
  return pargc_region.base + (pargc_page_index(pg) << PARGC_PAGE_SHIFT);
}

static inline uint64_t *pargc_page_marks(const struct pargc_page *pg)
{
  /* Only pages of the reservation have mark bits. */
  pargc_assert(pargc_page_index(pg) < pargc_region.max_pages);
  return pargc_region.marks[pargc_page_index(pg)];
}

/* A mark section (see "Two mark bitmaps" above): between enter and
 * leave the calling thread is not stopped for a collection nor parked by
 * GC_suspend_thread; a stop signal that arrives meanwhile is taken at
 * leave (pargc_mark_section_take_stop).  Sections nest, must be short
 * and must not block, allocate, or write to the heap (a write fault on a
 * protected page is fine, but nothing in a section needs one).  The
 * depth and the put-off flag are read by the stop signal's handler on
 * the same thread, hence volatile sig_atomic_t and signal fences. */
extern __thread volatile sig_atomic_t pargc_mark_section_depth
    __attribute__((tls_model("initial-exec")));
extern __thread volatile sig_atomic_t pargc_mark_section_stop
    __attribute__((tls_model("initial-exec")));
void pargc_mark_section_take_stop(void);

static inline void pargc_mark_section_enter(void)
{
  pargc_mark_section_depth = pargc_mark_section_depth + 1;
  atomic_signal_fence(memory_order_seq_cst);
}

static inline void pargc_mark_section_leave(void)
{
  atomic_signal_fence(memory_order_seq_cst);
  pargc_assert(pargc_mark_section_depth > 0);
  pargc_mark_section_depth = pargc_mark_section_depth - 1;
  atomic_signal_fence(memory_order_seq_cst);
  if (PARGC_UNLIKELY(pargc_mark_section_stop) && pargc_mark_section_depth == 0)
    pargc_mark_section_take_stop();
}

/* The marks the lazy sweep goes by (see "Two mark bitmaps" above). */
static inline const uint64_t *pargc_page_sweep_marks(const struct pargc_page *pg)
{
  pargc_assert(pargc_page_index(pg) < pargc_region.max_pages);
  return pargc_region.sweep_marks[pargc_page_index(pg)];
}

/* World stopped, at the start of a collection: the other array becomes
 * the current bitmap (the caller clears or copies it per span); the
 * sweep keeps reading the previous one. */
void pargc_pagemap_flip_marks(void);
/* World stopped, a collection given up before its marks were final:
 * the bitmap it started is dropped, the last complete one is current
 * again (the next collection clears the dropped one before using it). */
void pargc_pagemap_marks_abandon(void);
/* World stopped, when a collection's marks are final: sweep by them. */
void pargc_pagemap_marks_complete(void);

/* ---- Dirty cards ------------------------------------------------------ */

#define PARGC_CARD_SHIFT 12
#define PARGC_CARD_SIZE ((size_t)1 << PARGC_CARD_SHIFT)
#define PARGC_CARDS_PER_PAGE (PARGC_PAGE_SIZE / PARGC_CARD_SIZE) /* 16 */

/* Set the dirty bits of every card [lo, hi) touches (heap addresses). */
static inline void pargc_dirty_set_range(uintptr_t lo, uintptr_t hi)
{
  if (hi <= lo)
    return;
  size_t c = (lo - pargc_region.base) >> PARGC_CARD_SHIFT;
  size_t e = ((hi - 1 - pargc_region.base) >> PARGC_CARD_SHIFT) + 1;
  for (; c < e; c++) {
    _Atomic uint64_t *w = &pargc_region.dirty[c >> 6];
    uint64_t bit = (uint64_t)1 << (c & 63);
    if (!(atomic_load_explicit(w, memory_order_relaxed) & bit))
      atomic_fetch_or_explicit(w, bit, memory_order_relaxed);
  }
}

/* The dirty bits of page `idx`'s 16 cards, cleared at once. */
static inline unsigned pargc_dirty_take_page(size_t idx)
{
  pargc_assert(idx < pargc_region.max_pages);
  _Atomic uint64_t *w = &pargc_region.dirty[idx / 4];
  unsigned shift = (unsigned)(idx % 4) * PARGC_CARDS_PER_PAGE;
  uint64_t mask = (uint64_t)0xffff << shift;
  if (!(atomic_load_explicit(w, memory_order_relaxed) & mask))
    return 0;
  return (unsigned)((atomic_fetch_and_explicit(w, ~mask, memory_order_acq_rel) & mask) >> shift);
}

/* The head descriptor of the span or run containing p, or NULL when p is
 * outside the pages handed out.  May return a FREE or UNUSED page. */
static inline struct pargc_page *pargc_pagemap_lookup(uintptr_t p)
{
  uintptr_t off = p - pargc_region.base;
  if (off >= (atomic_load_explicit(&pargc_region.top, memory_order_relaxed)
              << PARGC_PAGE_SHIFT))
    return NULL;
  struct pargc_page *pg = &pargc_region.pages[off >> PARGC_PAGE_SHIFT];
  if (atomic_load_explicit(&pg->state, memory_order_acquire) == PARGC_PAGE_TAIL)
    pg -= pg->head_delta;
  return pg;
}

/* The head of the span or large run in use that page `idx` belongs to,
 * or NULL (a free page, or one not handed out). */
static inline struct pargc_page *pargc_pagemap_span_of(size_t idx)
{
  struct pargc_page *pg = pargc_pagemap_lookup(pargc_region.base + (idx << PARGC_PAGE_SHIFT));
  if (!pg)
    return NULL;
  uint8_t st = atomic_load_explicit(&pg->state, memory_order_acquire);
  return st == PARGC_PAGE_SMALL || st == PARGC_PAGE_LARGE ? pg : NULL;
}

/* The next head of a span or large run in use (SMALL or LARGE) after
 * `pg` -- NULL starts at the first page -- or NULL past the pages handed
 * out.  Every walk over the page table (clearing marks, sweeping large
 * objects, verification, leak and disclaim scans) goes through this:
 *   for (struct pargc_page *pg = NULL; (pg = pargc_pagemap_next_in_use(pg));)
 * A head may be released by the loop's body: its tails read as TAIL or
 * FREE and are skipped. */
static inline struct pargc_page *pargc_pagemap_next_in_use(struct pargc_page *pg)
{
  size_t idx = pg ? (size_t)(pg - pargc_region.pages) + 1 : 0;
  size_t top = atomic_load_explicit(&pargc_region.top, memory_order_acquire);
  for (; idx < top; idx++) {
    struct pargc_page *p = &pargc_region.pages[idx];
    uint8_t st = atomic_load_explicit(&p->state, memory_order_acquire);
    if (st == PARGC_PAGE_SMALL || st == PARGC_PAGE_LARGE)
      return p;
  }
  return NULL;
}

/* Resolve a candidate pointer to an allocated-object slot: returns the
 * object's index within its span (and the head in *out), or -1 when p
 * is not inside an object slot of a SMALL or LARGE head.  O(1). */
static inline int32_t pargc_pagemap_object(uintptr_t p, struct pargc_page **out)
{
  struct pargc_page *pg = pargc_pagemap_lookup(p);
  if (!pg)
    return -1;
  uint8_t st = atomic_load_explicit(&pg->state, memory_order_acquire);
  uint64_t off = p - pargc_page_addr(pg);
  *out = pg;
  if (st == PARGC_PAGE_SMALL) {
    uint32_t i = pargc_sizeclass_index(off, pg->recip);
    return i < pg->nobjs ? (int32_t)i : -1;
  }
  if (st == PARGC_PAGE_LARGE)
    return off < pg->size ? 0 : -1;
  return -1;
}

static inline bool pargc_blacklisted(size_t idx)
{
  return (atomic_load_explicit(&pargc_region.blacklist[idx >> 6], memory_order_relaxed) >>
          (idx & 63)) & 1;
}

static inline void pargc_blacklist_page(size_t idx)
{
  /* The black list covers the reservation, no more (the marker bounds
   * the words it black-lists by trace_blacklist_limit <= reserve). */
  pargc_assert(idx < pargc_region.max_pages);
  _Atomic uint64_t *w = &pargc_region.blacklist[idx >> 6];
  uint64_t bit = (uint64_t)1 << (idx & 63);
  if (atomic_load_explicit(w, memory_order_relaxed) & bit)
    return;
  atomic_fetch_or_explicit(w, bit, memory_order_relaxed);
  size_t hi = atomic_load_explicit(&pargc_region.blacklist_hi, memory_order_relaxed);
  while (idx + 1 > hi && !atomic_compare_exchange_weak(&pargc_region.blacklist_hi, &hi, idx + 1))
    ;
}

/* Forget the black list (start of a collection, world stopped). */
void pargc_blacklist_clear(void);

static inline uintptr_t pargc_page_object_addr(const struct pargc_page *pg, uint32_t i)
{
  return pargc_page_addr(pg) + (uintptr_t)i * pg->size;
}

/* A span holds at most PARGC_MARK_WORDS x 64 objects: bit i exists. */
static inline bool pargc_mark_test(const uint64_t *marks, uint32_t i)
{
  pargc_assert(i < PARGC_MARK_WORDS * 64);
  return (atomic_load_explicit((_Atomic uint64_t *)&marks[i >> 6],
                               memory_order_relaxed) >> (i & 63)) & 1;
}

/* Set mark bit i; true if this call set it (it was clear).  The plain load
 * first avoids a locked instruction for objects already marked. */
static inline bool pargc_mark_set(uint64_t *marks, uint32_t i)
{
  pargc_assert(i < PARGC_MARK_WORDS * 64);
  _Atomic uint64_t *w = (_Atomic uint64_t *)&marks[i >> 6];
  uint64_t bit = (uint64_t)1 << (i & 63);
  if (atomic_load_explicit(w, memory_order_relaxed) & bit)
    return false;
  return !(atomic_fetch_or_explicit(w, bit, memory_order_relaxed) & bit);
}

static inline void pargc_mark_clear(uint64_t *marks, uint32_t i)
{
  pargc_assert(i < PARGC_MARK_WORDS * 64);
  atomic_fetch_and_explicit((_Atomic uint64_t *)&marks[i >> 6],
                            ~((uint64_t)1 << (i & 63)), memory_order_relaxed);
}

#endif
