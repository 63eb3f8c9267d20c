/* page: the life of one small-object span -- formatting a run of pages
 * as a span of one size class, building the free list of a new span, and
 * sweeping a span after a collection (the per-page sweep entry point the
 * collector's lazy sweep relies on).
 */
#ifndef PARGC_PAGE_H
#define PARGC_PAGE_H
#ifndef PARGC_BUILDING
#error "alloc/page.h is internal to pargc"
#endif

#include <stdbool.h>
#include <stddef.h>

#include "alloc/hooks.h"
#include "alloc/pagemap.h"

/* Kinds whose objects are scanned (and so zeroed when freed). */
extern bool pargc_kind_scanned[PARGC_MAX_KINDS];
/* Does a collector's marker read objects of `kind`?  (A collector is
 * linked in -- not so in libpargc-malloc's free mode -- and the kind is
 * scanned.)  New objects it reads are prefaulted (alloc/os.h,
 * pargc_os_prefault). */
static inline bool pargc_kind_marked_through(unsigned kind)
{
  return pargc_kind_scanned[kind] && pargc_heap_collect_hook != NULL;
}
/* Kinds never freed by the collector: mark bits mean "allocated". */
extern bool pargc_kind_uncollectable[PARGC_MAX_KINDS];

/* A new kind (GC_new_kind): its number, or -1 when all PARGC_MAX_KINDS
 * are taken.  Kinds are never deleted. */
int pargc_kind_new(bool scanned);
/* Kinds in use (numbers below this are valid). */
unsigned pargc_kind_count(void);

/* Turn the FREE run at `head` into a span of class c whose objects are
 * all free: zeroes it first when it is not known zero and the kind is
 * scanned, links objects into a free list, clears both mark bitmaps, and
 * only then sets the state to SMALL (release), so the collector never
 * sees the span before it is a span of free objects.  Returns the free
 * list (the first object, encoded links in address order); *count gets
 * its length.
 *
 * A run known zero (fresh from the OS, or decommitted) is built lazily:
 * only the objects of its first 4 KiB card are linked, the rest of the
 * span stays untouched -- not committed by the kernel -- and `built`
 * says how far the links go; pargc_page_extend links more when the list
 * runs out.  A span of which a program uses a few objects (one per size
 * class and kind it allocates, often) then costs what it uses, not 64
 * KiB or more.  Where the marker reads the objects, the cards the
 * linked objects reach into are written as well (pargc_os_prefault).  A
 * run with old contents is zeroed and linked whole, as the zeroing
 * touches it anyway. */
void **pargc_page_format_small(struct pargc_page *head, unsigned kind, unsigned c,
                               uint32_t owner, int node, size_t *count);

/* A partly built span (pg->built != 0), its free list empty: link the
 * next objects -- as many cards again as are built, so a span used whole
 * is extended a few times (five for a one-page span) -- and return them
 * as a free list (*count entries, address order, at least one).  When
 * the last object is linked, built becomes 0.  Owner only, the span
 * being its current page of the class. */
void **pargc_page_extend(struct pargc_page *pg, size_t *count);

/* Has slot i of span pg never been linked (beyond `built`)?  Such a slot
 * is free: zero memory, on no list. */
static inline bool pargc_slot_unbuilt(const struct pargc_page *pg, uint32_t i)
{
  size_t built = __atomic_load_n(&pg->built, __ATOMIC_RELAXED);
  return built && (size_t)i * pg->size >= built << PARGC_CARD_SHIFT;
}

struct pargc_sweep_result {
  void **free;   /* free objects, encoded links, address order */
  size_t nfree;
  size_t nlive;  /* marked objects (0: the whole span is free) */
};

/* Sweep a span whose marks are those of the last collection and from
 * which nothing was allocated since.  Free objects of scanned kinds are
 * zeroed.  Objects freed explicitly since the collection (on pg->free and
 * pg->remote, recognisable because they are marked) are kept; other list
 * entries are dropped because the bitmap finds them again. */
void pargc_page_sweep(struct pargc_page *pg, struct pargc_sweep_result *r);

/* Does the span hold no marked object by the last complete collection's
 * marks?  Read as pargc_page_sweep reads them (a collection that ends
 * during the check makes it answer false: the lazy sweep decides then).
 * A span from which nothing was allocated since that collection and that
 * this answers true for may be released whole without sweeping it. */
bool pargc_page_is_empty(const struct pargc_page *pg);

/* Count the entries of an encoded list (statistics, tests). */
size_t pargc_page_list_length(void **list);

/* Validator (level 2, does nothing below it): `list`, an encoded free
 * list of span pg owned by the caller, has exactly n entries, each an
 * object start inside the span, none twice (so no cycle); with `marks`,
 * every object whose bit is clear is on it (the sweep reclaimed every
 * unmarked slot).  Called after formatting and after sweeping a span. */
void pargc_page_validate(const struct pargc_page *pg, void **list, size_t n,
                         const uint64_t *marks);

#endif
