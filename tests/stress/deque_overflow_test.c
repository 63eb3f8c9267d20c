/* Stress: marking with a 4-entry deque (PARGC_DEQUE_SIZE=4) and tiny
 * pieces loses nothing: wide structures (arrays of many pointers) and
 * deep ones (a long list) overflow constantly; PARGC_VERIFY checks every
 * mark, and the values are checked after the collections. */
#include "config.h"
#include <gc.h>
#include "check.h"

#include <stdint.h>
#include <stdlib.h>

struct cell {
  struct cell *next;
  uintptr_t v;
};

int main(void)
{
  setenv("PARGC_DEQUE_SIZE", "4", 1);
  setenv("PARGC_MARK_PIECE", "256", 1);
  setenv("PARGC_VERIFY", "1", 1);
  GC_INIT();
  enum { WIDE = 200000, DEEP = 300000 };
  struct cell **wide = GC_MALLOC(WIDE * sizeof *wide);
  for (uintptr_t i = 0; i < WIDE; i++) {
    wide[i] = GC_MALLOC(sizeof(struct cell));
    wide[i]->v = i;
    /* Each wide entry also heads a short chain. */
    wide[i]->next = GC_MALLOC(sizeof(struct cell));
    wide[i]->next->v = i + 1;
  }
  struct cell *deep = NULL;
  for (uintptr_t i = 0; i < DEEP; i++) {
    struct cell *c = GC_MALLOC(sizeof *c);
    c->v = i;
    c->next = deep;
    deep = c;
  }
  for (int r = 0; r < 3; r++) {
    GC_gcollect();
    for (int i = 0; i < 100000; i++)
      GC_MALLOC(sizeof(struct cell));
  }
  int ok = 1;
  for (uintptr_t i = 0; i < WIDE; i++)
    ok &= wide[i]->v == i && wide[i]->next->v == i + 1;
  CHECK(ok);
  uintptr_t expect = DEEP;
  for (struct cell *c = deep; c; c = c->next)
    ok &= c->v == --expect;
  CHECK(ok && expect == 0);
  return CHECK_SUMMARY();
}
