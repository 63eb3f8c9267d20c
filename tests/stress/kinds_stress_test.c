/* Stress test of descriptor-scanned kinds (api/kinds.c) under the
 * parallel marker: six threads each build a 300000-node list of typed
 * objects (bitmap descriptor), of a kind with a client mark procedure,
 * or of gcj objects (descriptor in the vtable), while collections run;
 * every list must come through intact.  Found that a conservative
 * pointer may mark a free gcj object, whose first word is a free-list
 * link and not a vtable. */
#include "config.h"
#include <gc.h>
#include <gc/gc_typed.h>
#include <gc/gc_mark.h>
#include <gc/gc_gcj.h>
#include "check.h"
#include <stdint.h>
#include <pthread.h>
struct n { struct n *next; uintptr_t val; void *extra; };
static struct GC_ms_entry *pm(GC_word *a, struct GC_ms_entry *msp, struct GC_ms_entry *lim, GC_word env) {
  (void)env; return GC_MARK_AND_PUSH((void*)a[0], msp, lim, (void**)a); }
struct vt { void *k; GC_word d; } vt = {0, ((GC_word)1<<63) | ((GC_word)1<<61) | GC_DS_BITMAP};
static void *build(void *arg) {
  GC_descr d = (GC_descr)arg;
  struct n *h = 0;
  for (long i = 0; i < 300000; i++) {
    struct n *x = GC_malloc_explicitly_typed(sizeof *x, d);
    x->next = h; x->val = i; x->extra = GC_malloc_atomic(8);
    h = x;
  }
  for (int r = 0; r < 3; r++) GC_gcollect();
  long bad = 0, expect = 299999;
  for (struct n *x = h; x; x = x->next, expect--) bad += x->val != (uintptr_t)expect;
  return (void *)(bad + (expect != -1));
}
static int pk;
static void *build_proc(void *arg) {
  (void)arg;
  void **h = 0;
  for (long i = 0; i < 300000; i++) {
    void **x = GC_generic_malloc(3 * sizeof(void*), pk);
    x[0] = h; x[1] = (void*)i; h = x;
  }
  for (int r = 0; r < 3; r++) GC_gcollect();
  long bad = 0, expect = 299999;
  for (void **x = h; x; x = x[0], expect--) bad += (long)x[1] != expect;
  return (void *)(bad + (expect != -1));
}
static void *build_gcj(void *arg) {
  (void)arg;
  void **h = 0;
  for (long i = 0; i < 300000; i++) {
    void **x = GC_gcj_malloc(4 * sizeof(void*), &vt);
    x[2] = h; x[3] = (void*)i; h = x;
  }
  for (int r = 0; r < 3; r++) GC_gcollect();
  long bad = 0, expect = 299999;
  for (void **x = h; x; x = x[2], expect--) bad += (long)x[3] != expect;
  return (void *)(bad + (expect != -1));
}
int main(void) {
  setenv("PARGC_GC_THREADS", "4", 0);
  GC_INIT();
  GC_word bm[1] = {0}; GC_set_bit(bm, 0);
  GC_descr d = GC_make_descriptor(bm, 3);
  pk = GC_new_kind(GC_new_free_list(), GC_MAKE_PROC(GC_new_proc(pm), 0), 0, 1);
  GC_init_gcj_malloc(0, 0);
  pthread_t t[6];
  for (int i = 0; i < 2; i++) pthread_create(&t[i], 0, build, (void*)d);
  for (int i = 2; i < 4; i++) pthread_create(&t[i], 0, build_proc, 0);
  for (int i = 4; i < 6; i++) pthread_create(&t[i], 0, build_gcj, 0);
  long bad = 0;
  for (int i = 0; i < 6; i++) { void *r; pthread_join(t[i], &r); bad += (long)r; }
  CHECK_EQ(bad, 0);
  CHECK(GC_get_gc_no() > 3);
  return CHECK_SUMMARY();
}
