/* check_list.h: a list of GC_MALLOC cells for tests that need live data
 * to check after collections (include after <gc.h>).
 *   check_make_list(n)    n cells, values n-1 .. 0 from the head
 *   check_list_ok(l, n)   whether l is exactly such a list, intact */
#ifndef PARGC_TESTS_CHECK_LIST_H
#define PARGC_TESTS_CHECK_LIST_H

#include <stdint.h>

struct cell {
  struct cell *next;
  uintptr_t v;
};

static __attribute__((unused)) struct cell *check_make_list(int n)
{
  struct cell *l = NULL;
  for (int i = 0; i < n; i++) {
    struct cell *c = GC_MALLOC(sizeof *c);
    c->v = (uintptr_t)i;
    c->next = l;
    l = c;
  }
  return l;
}

static __attribute__((unused)) int check_list_ok(struct cell *l, int n)
{
  for (; l; l = l->next)
    if (l->v != (uintptr_t)--n)
      return 0;
  return n == 0;
}

#endif
