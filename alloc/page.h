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

#include "alloc/pagemap.h"

/* Kinds whose objects are scanned (and so zeroed when freed). */
extern bool pargc_kind_scanned[PARGC_MAX_KINDS];
/* Kinds never freed by the collector: mark bits mean "allocated". */
extern bool pargc_kind_uncollectable[PARGC_MAX_KINDS];

/* A new kind (GC_new_kind): its number, or -1 when all PARGC_MAX_KINDS
 * are taken.  Kinds are never deleted. */
int pargc_kind_new(bool scanned);
/* Kinds in use (numbers below this are valid). */
unsigned pargc_kind_count(void);

/* Turn the FREE run at `head` into a span of class c whose objects are
 * all free: zeroes it first when it is not known zero and the kind is
 * scanned, links every object, clears both mark bitmaps, and only then
 * sets the state to SMALL (release), so the collector never sees the
 * span before it is a span of free objects.  Returns the free list (the
 * first object, encoded links in address order); *count gets its
 * length. */
void **pargc_page_format_small(struct pargc_page *head, unsigned kind, unsigned c,
                               uint32_t owner, int node, size_t *count);

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
