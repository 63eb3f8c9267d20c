/* page: span formatting, free-list building and sweeping; see page.h. */
#include "config.h"
#include "alloc/os.h"
#include "alloc/page.h"
#include "alloc/report.h"
#include "alloc/thread.h"

#include <string.h>

bool pargc_kind_scanned[PARGC_MAX_KINDS] = {true, false, true, false};
bool pargc_kind_uncollectable[PARGC_MAX_KINDS] = {false, false, true, true};
static _Atomic unsigned kind_count = PARGC_KIND_FIRST_CLIENT;

int pargc_kind_new(bool scanned)
{
  unsigned k = atomic_load(&kind_count);
  do {
    if (k >= PARGC_MAX_KINDS)
      return -1;
  } while (!atomic_compare_exchange_weak(&kind_count, &k, k + 1));
  pargc_kind_scanned[k] = scanned;
  pargc_kind_uncollectable[k] = false;
  pargc_assert(k < PARGC_MAX_KINDS);
  return (int)k;
}

unsigned pargc_kind_count(void)
{
  return atomic_load(&kind_count);
}

static inline void **link_decode(void *w)
{
  return (void **)((uintptr_t)w ^ pargc_link_key);
}

static inline void *link_encode(void **p)
{
  return (void *)((uintptr_t)p ^ pargc_link_key);
}

/* Link objects [from, to) of the span at base into a free list in
 * address order (so consecutive allocations are adjacent).  The key is
 * read once: the stores could alias the global, which made the compiler
 * reload it for every object. */
static void **span_link(char *base, size_t size, size_t from, size_t to)
{
  pargc_assert(from < to);
  uintptr_t key = pargc_link_key;
  char *first = base + from * size, *last = base + (to - 1) * size;
  for (char *p = first; p < last; p += size)
    *(uintptr_t *)p = (uintptr_t)(p + size) ^ key;
  *(uintptr_t *)last = key; /* an encoded NULL */
  return (void **)first;
}

/* Write each 4 KiB card that objects [from, to) of a fresh span reach
 * into but no linked object starts in, before the marker can read it
 * (alloc/os.h, pargc_os_prefault).  Cards where an object starts hold
 * its link; so for objects of a card or less, only the last one linked
 * can reach into a card not written yet.  Boehm GC clears new objects
 * whole. */
static void span_touch(char *base, size_t size, size_t from, size_t to)
{
  if (size <= PARGC_CARD_SIZE)
    from = to - 1;
  for (size_t i = from; i < to; i++) {
    uintptr_t p = (uintptr_t)base + i * size;
    pargc_os_prefault(p + 1, p + size);
  }
}

/* The most 4 KiB cards `built` can count; a span of up to 16 pages has
 * 256, so the last card of the largest spans is linked with the rest
 * once built would pass this. */
#define BUILT_MAX 255u

/* Link the objects of span pg from object `from` on that start in its
 * first `cards` cards (at least one object), and set `built`: 0 once the
 * last object is linked.  The links are written before `built` says so:
 * a collector that stops the owner in between sees the new objects as
 * unbuilt, which they still are to it (free either way). */
static void **span_build_to(struct pargc_page *pg, size_t from, size_t cards, bool touch,
                            size_t *count)
{
  size_t size = pg->size, n = pg->nobjs;
  /* The first card holding an unlinked object's start, at least. */
  size_t min_cards = ((from * size) >> PARGC_CARD_SHIFT) + 1;
  if (cards < min_cards)
    cards = min_cards;
  size_t to = n;
  if (cards <= BUILT_MAX) {
    size_t end = cards << PARGC_CARD_SHIFT; /* objects starting below end */
    size_t upto = (end + size - 1) / size;
    if (upto < n)
      to = upto;
  }
  char *base = (char *)pargc_page_addr(pg);
  if (touch)
    span_touch(base, size, from, to);
  void **list = span_link(base, size, from, to);
  *count = to - from;
  __atomic_store_n(&pg->built, (uint8_t)(to == n ? 0 : cards), __ATOMIC_RELAXED);
  return list;
}

void **pargc_page_extend(struct pargc_page *pg, size_t *count)
{
  size_t built = pg->built;
  /* A partly built SMALL span: its remaining objects are untouched. */
  pargc_assert(built != 0 && built <= BUILT_MAX);
  pargc_assert(atomic_load_explicit(&pg->state, memory_order_relaxed) == PARGC_PAGE_SMALL);
  /* The first object not linked: the first to start in card `built`. */
  size_t from = ((built << PARGC_CARD_SHIFT) + pg->size - 1) / pg->size;
  pargc_assert(from > 0 && from < pg->nobjs);
  void **list = span_build_to(pg, from, 2 * built, pargc_kind_marked_through(pg->kind), count);
  if (PARGC_ASSERT_FULL)
    pargc_page_validate(pg, list, *count, NULL);
  return list;
}

/* Zero the span's memory when needed and link its first objects, or all
 * of them (see pargc_page_format_small). */
static void **span_build_free(struct pargc_page *head, unsigned kind, size_t size, size_t n,
                              size_t *count)
{
  /* A span holds at least one object, all inside its pages. */
  pargc_assert(n >= 1 && n * size <= (size_t)head->pages * PARGC_PAGE_SIZE);
  char *base = (char *)pargc_page_addr(head);
  bool lazy = head->zeroed;
  if (!lazy && pargc_kind_scanned[kind])
    memset(base, 0, n * size);
  head->zeroed = 0;
  return span_build_to(head, 0, lazy ? 1 : SIZE_MAX >> PARGC_CARD_SHIFT,
                       lazy && pargc_kind_marked_through(kind), count);
}

void **pargc_page_format_small(struct pargc_page *head, unsigned kind, unsigned c,
                               uint32_t owner, int node, size_t *count)
{
  /* A valid class and kind, and a run of exactly the class's span. */
  pargc_assert(c < PARGC_NCLASSES);
  pargc_assert(kind < pargc_kind_count());
  const struct pargc_sizeclass *sc = &pargc_sizeclasses[c];
  pargc_assert(head->pages == sc->pages);
  pargc_assert(sc->nobjs <= PARGC_MARK_WORDS * 64); /* one bit per object */
  pargc_assert(pargc_page_index(head) + head->pages <= pargc_region.max_pages);
  /* A run is formatted once per taking (pargc_heap_take_run hands it out
   * free, or never used): anything else means two owners. */
  pargc_assert(atomic_load_explicit(&head->state, memory_order_relaxed) <= PARGC_PAGE_FREE);
  head->kind = (uint8_t)kind;
  head->sclass = (uint8_t)c;
  head->owner = (uint16_t)owner;
  head->node = (uint8_t)node;
  head->size = sc->size;
  head->nobjs = (uint16_t)sc->nobjs;
  head->recip = sc->recip;
  head->free = NULL;
  atomic_store_explicit(&head->remote, NULL, memory_order_relaxed);
  /* The memory is made a span of free objects before the state says
   * SMALL: until then the collector ignores the run (FREE).  Published
   * first, a span whose memset a collection interrupted showed it the
   * run's old bytes as allocated objects of the new kind: the disclaim
   * walk ran a "closure" read from another object's payload, and the
   * marker read a typed slot zeroed up to a stale descriptor word
   * (tests/stress/span_reuse_test). */
  void **list = span_build_free(head, kind, sc->size, sc->nobjs, count);
  /* Both bitmaps: the one not current may have been cleared ahead for
   * the next collection already (gc/collect.h, phase_preclear). */
  size_t idx = pargc_page_index(head);
  memset(pargc_region.mark_arrays[0][idx], 0, PARGC_MARK_WORDS * sizeof(uint64_t));
  memset(pargc_region.mark_arrays[1][idx], 0, PARGC_MARK_WORDS * sizeof(uint64_t));
  atomic_store_explicit(&head->state, PARGC_PAGE_SMALL, memory_order_release);
  if (PARGC_ASSERT_FULL)
    pargc_page_validate(head, list, *count, NULL);
  return list;
}

void pargc_page_validate(const struct pargc_page *pg, void **list, size_t n,
                         const uint64_t *marks)
{
  if (!PARGC_ASSERT_FULL)
    return;
  uint64_t seen[PARGC_MARK_WORDS] = {0};
  uintptr_t base = pargc_page_addr(pg);
  size_t count = 0;
  for (void **p = list; p; p = link_decode(*p)) {
    uintptr_t off = (uintptr_t)p - base;
    pargc_assert_full(off < (uintptr_t)pg->nobjs * pg->size); /* in the span */
    uint32_t i = pargc_sizeclass_index(off, pg->recip);
    pargc_assert_full(off == (uintptr_t)i * pg->size);        /* an object start */
    pargc_assert_full(!(seen[i / 64] >> (i % 64) & 1));       /* once: no cycle */
    seen[i / 64] |= (uint64_t)1 << (i % 64);
    count++;
  }
  pargc_assert_full(count == n);
  if (marks)
    for (uint32_t i = 0; i < pg->nobjs; i++)
      pargc_assert_full(pargc_mark_test(marks, i) || (seen[i / 64] >> (i % 64) & 1));
}

size_t pargc_page_list_length(void **list)
{
  size_t n = 0;
  for (void **p = list; p; p = link_decode(*p))
    n++;
  return n;
}

/* Append to `out` the entries of `list` whose mark bit is set: objects
 * freed after the collection marked them. */
static void keep_marked(struct pargc_page *pg, const uint64_t *marks, void **list,
                        void ***tail_slot, size_t *n)
{
  uintptr_t base = pargc_page_addr(pg);
  while (list) {
    void **next = link_decode(*list);
    uint32_t i = pargc_sizeclass_index((uintptr_t)list - base, pg->recip);
    /* Explicit frees push object starts of this span only. */
    pargc_assert(i < pg->nobjs && (uintptr_t)list == base + (uintptr_t)i * pg->size);
    if (pargc_mark_test(marks, i)) {
      **tail_slot = link_encode(list); /* *tail_slot is the previous link */
      *tail_slot = list;
      (*n)++;
    }
    list = next;
  }
}

bool pargc_page_is_empty(const struct pargc_page *pg)
{
  pargc_assert(atomic_load_explicit(&pg->state, memory_order_relaxed) == PARGC_PAGE_SMALL);
  uint64_t epoch = atomic_load_explicit(&pargc_epoch, memory_order_acquire);
  const uint64_t *marks = pargc_page_sweep_marks(pg);
  size_t words = (pg->nobjs + 63u) / 64;
  for (size_t w = 0; w < words; w++)
    if (atomic_load_explicit((const _Atomic uint64_t *)&marks[w], memory_order_relaxed))
      return false;
  atomic_thread_fence(memory_order_acquire);
  return atomic_load_explicit(&pargc_epoch, memory_order_relaxed) == epoch;
}

void pargc_page_sweep(struct pargc_page *pg, struct pargc_sweep_result *r)
{
  /* Work on a copy of the mark bits: the sweeping thread may be stopped
   * half-way for a new collection, which clears and recomputes them.
   * Reading them twice (kept explicit frees, then the bitmap pass) across
   * that collection could link an object twice, a cycle in the free
   * list.  Sweeping by one collection's marks is correct
   * even if a later collection ran meanwhile: garbage then stays garbage,
   * and the page is swept again by the later marks in a later epoch.
   * But the copy itself must come from one collection: a copy begun
   * before a collection and finished after it reads a bitmap that the
   * next collection clears while the world runs (phase_preclear), so it
   * may read zeros and free live objects (kinds_stress_test catches
   * it).  A copy
   * during which the epoch moved is taken again. */
  uint64_t marks[PARGC_MARK_WORDS];
  size_t n = pg->nobjs, size = pg->size;
  /* Only the owner sweeps, and only the owner releases a span: it stays
   * SMALL meanwhile. */
  pargc_assert(atomic_load_explicit(&pg->state, memory_order_relaxed) == PARGC_PAGE_SMALL);
  pargc_assert(n >= 1 && n <= PARGC_MARK_WORDS * 64);
  for (;;) {
    uint64_t epoch = atomic_load_explicit(&pargc_epoch, memory_order_acquire);
    const uint64_t *live_marks = pargc_page_sweep_marks(pg);
    for (size_t w = 0; w < (n + 63) / 64; w++)
      marks[w] = atomic_load_explicit((_Atomic uint64_t *)&live_marks[w], memory_order_relaxed);
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&pargc_epoch, memory_order_relaxed) == epoch)
      break;
  }
  size_t nlive = 0;
  for (size_t w = 0; w < (n + 63) / 64; w++)
    nlive += (size_t)__builtin_popcountll(marks[w]);
  pargc_assert(nlive <= n); /* no bit set past the span's last object */
  void **old_free = pg->free;
  void **old_remote = pargc_page_take_remote(pg);
  pg->free = NULL;
  r->nlive = nlive;
  r->free = NULL;
  r->nfree = 0;
  if (nlive == 0)
    return; /* caller releases the whole span */

  /* Build the list back to front so it ends up in address order; the
   * kept explicit frees go at the end (a sentinel slot collects them). */
  void *head_slot = link_encode(NULL);
  void **tail = (void **)&head_slot;
  size_t kept = 0;
  keep_marked(pg, marks, old_free, &tail, &kept);
  keep_marked(pg, marks, old_remote, &tail, &kept);
  *tail = link_encode(NULL);
  void **list = link_decode(head_slot);
  pargc_assert(kept <= nlive); /* kept entries are distinct marked slots */

  bool zero = pargc_kind_scanned[pg->kind];
  char *base = (char *)pargc_page_addr(pg);
  size_t nfree = kept;
  for (size_t w = (n + 63) / 64; w-- > 0;) {
    uint64_t free_bits = ~marks[w];
    if (w == (n - 1) / 64 && (n & 63))
      free_bits &= ((uint64_t)1 << (n & 63)) - 1;
    while (free_bits) {
      unsigned b = 63u - (unsigned)__builtin_clzll(free_bits);
      free_bits &= ~((uint64_t)1 << b);
      void **obj = (void **)(base + (w * 64 + b) * size);
      if (zero)
        memset(obj, 0, size);
      *obj = link_encode(list);
      list = obj;
      nfree++;
    }
  }
  /* The unmarked slots, and the kept frees among the marked ones. */
  pargc_assert(nfree == n - nlive + kept);
  r->free = list;
  r->nfree = nfree;
  /* Every unmarked slot is linked now, the never built ones too (only a
   * span a fork child took from a vanished thread is swept partly built:
   * its slots past `built` are zero and unmarked). */
  __atomic_store_n(&pg->built, 0, __ATOMIC_RELAXED);
  if (PARGC_ASSERT_FULL)
    pargc_page_validate(pg, list, nfree, marks);
}
