/* pagelist: doubly-linked lists of page descriptors (heads only), with
 * O(1) push, remove and splice.  A page is on at most one list at a time;
 * `list` in the descriptor names which (for assertions and for free()).
 * Not thread-safe: the owner of the list (or its lock) serialises --
 * except pargc_list_seems_empty, a look at head without the lock, for
 * which head is written with relaxed atomic stores.
 *
 * Invariants: head and tail are both NULL or both set, and count is the
 * number of pages from head to tail; for every page on the list,
 * pg->prev->next == pg (or head == pg) and pg->next->prev == pg (or
 * tail == pg).  pargc_list_validate walks the whole list (level 2). */
#ifndef PARGC_PAGELIST_H
#define PARGC_PAGELIST_H
#ifndef PARGC_BUILDING
#error "alloc/pagelist.h is internal to pargc"
#endif

#include "alloc/pagemap.h"
#include "alloc/report.h"

struct pargc_page_list {
  struct pargc_page *head, *tail;
  size_t count;
};

/* head, written by the list's operations below. */
static inline void list_set_head(struct pargc_page_list *l, struct pargc_page *pg)
{
  __atomic_store_n(&l->head, pg, __ATOMIC_RELAXED);
}

/* Is l empty?  Without the list's lock: the answer may be stale by the
 * time the caller acts on it, so it serves only to skip taking the lock
 * for a list that looked empty (a run pushed meanwhile is found next
 * time).  A plain read here raced with the locked writers (a data race
 * in C's terms, found by ThreadSanitizer in alloc_stress_test). */
static inline bool pargc_list_seems_empty(const struct pargc_page_list *l)
{
  return __atomic_load_n(&l->head, __ATOMIC_RELAXED) == NULL;
}

/* Check every invariant above over the whole list (level 2; the
 * caller serialises, as for any list operation). */
static inline void pargc_list_validate(const struct pargc_page_list *l)
{
  if (!PARGC_ASSERT_FULL)
    return;
  size_t n = 0;
  const struct pargc_page *prev = NULL;
  for (const struct pargc_page *pg = l->head; pg; prev = pg, pg = pg->next) {
    pargc_assert_full(pg->prev == prev);
    pargc_assert_full(pg->list == l->head->list); /* one label per list */
    pargc_assert_full(++n <= l->count);           /* no cycle */
  }
  pargc_assert_full(l->tail == prev);
  pargc_assert_full(n == l->count);
}

/* Link pg between prev and next, neighbours on l (NULL: that end of l). */
static inline void pargc_list_link(struct pargc_page_list *l, struct pargc_page *pg,
                                   struct pargc_page *prev, struct pargc_page *next, uint8_t id)
{
  /* Head and tail are both set or both NULL, and count says which;
   * prev and next are neighbours on l, and pg is neither. */
  pargc_assert((l->head == NULL) == (l->tail == NULL));
  pargc_assert((l->head == NULL) == (l->count == 0));
  pargc_assert(prev ? prev->next == next : l->head == next);
  pargc_assert(next ? next->prev == prev : l->tail == prev);
  pargc_assert(pg != prev && pg != next);
  pg->prev = prev;
  pg->next = next;
  if (prev)
    prev->next = pg;
  else
    list_set_head(l, pg);
  if (next)
    next->prev = pg;
  else
    l->tail = pg;
  l->count++;
  pg->list = id;
}

static inline void pargc_list_push(struct pargc_page_list *l, struct pargc_page *pg, uint8_t id)
{
  pargc_list_link(l, pg, NULL, l->head, id);
}

static inline void pargc_list_push_tail(struct pargc_page_list *l, struct pargc_page *pg, uint8_t id)
{
  pargc_list_link(l, pg, l->tail, NULL, id);
}

static inline void pargc_list_remove(struct pargc_page_list *l, struct pargc_page *pg)
{
  /* pg is on l: its neighbours (or l's ends) point back at it. */
  pargc_assert(l->count > 0);
  pargc_assert(pg->prev ? pg->prev->next == pg : l->head == pg);
  pargc_assert(pg->next ? pg->next->prev == pg : l->tail == pg);
  if (pg->prev)
    pg->prev->next = pg->next;
  else
    list_set_head(l, pg->next);
  if (pg->next)
    pg->next->prev = pg->prev;
  else
    l->tail = pg->prev;
  pg->next = pg->prev = NULL;
  l->count--;
  pg->list = 0;
}

static inline struct pargc_page *pargc_list_pop(struct pargc_page_list *l)
{
  struct pargc_page *pg = l->head;
  if (pg)
    pargc_list_remove(l, pg);
  return pg;
}

/* Empty l, forgetting its pages (the caller relinks them). */
static inline void pargc_list_clear(struct pargc_page_list *l)
{
  list_set_head(l, NULL);
  l->tail = NULL;
  l->count = 0;
}

/* Move every page of `from` to the end of `to`, relabelling them `id`. */
static inline void pargc_list_splice(struct pargc_page_list *to, struct pargc_page_list *from, uint8_t id)
{
  pargc_assert(to != from);
  pargc_assert((from->head == NULL) == (from->count == 0));
  pargc_assert((to->head == NULL) == (to->tail == NULL));
  if (!from->head)
    return;
  for (struct pargc_page *pg = from->head; pg; pg = pg->next)
    pg->list = id;
  if (to->tail) {
    to->tail->next = from->head;
    from->head->prev = to->tail;
  } else {
    list_set_head(to, from->head);
  }
  to->tail = from->tail;
  to->count += from->count;
  pargc_list_clear(from);
}

#endif
