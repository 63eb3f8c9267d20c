/* roots_test.c: which memory the collector scans, and the calls that
 * ask or change it, as in Boehm GC on Linux:
 *  - GC_is_tmp_root: the program's static data is a temporary root
 *    (found afresh at each collection); a stack or heap address is not;
 *  - GC_is_visible: static data is visible; a misaligned address is not
 *    (the print procedure is called), and the argument is returned.
 *    (Debian's libgc answers for stack, heap and malloc'd addresses
 *    depend on its state, so those are not checked here);
 *  - GC_register_has_static_roots_callback: asked with each writable
 *    segment of the program ("" as its name) and of the libraries; the
 *    segment it refuses is not scanned (objects only it references are
 *    collected, GC_is_tmp_root says 0 there);
 *  - GC_no_dls (the variable) and GC_set_no_dls: no loaded object's data
 *    is scanned, the program's included; only GC_add_roots ranges are. */
#include <gc.h>
#include <gc/gc_mark.h>
#include <stdint.h>
#include "compat.h"

#define N 200

static void *global_objects[N]; /* in the program's bss: a root */
static int finalized;
static void GC_CALLBACK count_finalized(void *obj, void *cd) {
  (void)obj;
  (void)cd;
  finalized++;
}

static COMPAT_NOINLINE void fill_globals(void) {
  for (int i = 0; i < N; i++) {
    global_objects[i] = GC_MALLOC(64);
    GC_REGISTER_FINALIZER(global_objects[i], count_finalized, NULL, NULL, NULL);
  }
}

static COMPAT_NOINLINE void clear_globals(void) {
  for (int i = 0; i < N; i++)
    global_objects[i] = NULL;
}

static void *volatile sink; /* keeps a pointer alive where it is used */
static int invisible;
static void GC_CALLBACK note_invisible(void *p) {
  (void)p;
  invisible++;
}

static void test_tmp_root(void) {
  int local = 0;
  void *heap = GC_MALLOC(16);
  CHECK(GC_is_tmp_root(&global_objects[3]));
  CHECK(!GC_is_tmp_root(&local));
  CHECK(!GC_is_tmp_root(heap));
  GC_gcollect();
  CHECK(GC_is_tmp_root(&global_objects[3]));
  sink = heap;
}

static void test_visible(void) {
  GC_is_visible_print_proc = note_invisible;
  char *normal = GC_MALLOC(64);
  (void)GC_is_visible(&global_objects[5]);
  CHECK_EQ(invisible, 0);
  CHECK(GC_is_visible(normal + 3) == normal + 3); /* not a word boundary */
  CHECK_EQ(invisible, 1);
  sink = normal;
}

/* The segment of the program that holds global_objects is refused. */
static int filter_calls, program_segments;
static int GC_CALLBACK refuse_globals(const char *name, void *start, size_t size) {
  filter_calls++;
  if (name && !name[0])
    program_segments++;
  char *lo = start, *g = (char *)global_objects;
  return !(g >= lo && g < lo + size);
}

static void test_has_static_roots(void) {
  finalized = 0;
  fill_globals();
  GC_register_has_static_roots_callback(refuse_globals);
  compat_collect(3);
  CHECK(filter_calls > 0);
  CHECK(program_segments > 0);
  CHECK(!GC_is_tmp_root(&global_objects[0]));
  CHECK(COMPAT_MOSTLY(finalized, N)); /* the refused segment kept nothing */
  GC_register_has_static_roots_callback(0);
  clear_globals();
  GC_gcollect(); /* the roots are found again at each collection */
  CHECK(GC_is_tmp_root(&global_objects[0]));

  /* Accepted again: what the globals reference is kept. */
  finalized = 0;
  fill_globals();
  compat_collect(3);
  CHECK_EQ(finalized, 0);
  clear_globals();
  compat_collect(3);
}

static void test_no_dls(void) {
  finalized = 0;
  fill_globals();
  GC_no_dls = 1; /* written directly, as old programs do */
  compat_collect(3);
  CHECK(COMPAT_MOSTLY(finalized, N));
  CHECK(!GC_is_tmp_root(&global_objects[0]));
  clear_globals();

  /* A range added with GC_add_roots is still scanned. */
  finalized = 0;
  fill_globals();
  GC_add_roots(global_objects, global_objects + N);
  compat_collect(3);
  CHECK_EQ(finalized, 0);
  GC_remove_roots(global_objects, global_objects + N);

  GC_set_no_dls(0);
  CHECK_EQ(GC_get_no_dls(), 0);
  compat_collect(3);
  CHECK_EQ(finalized, 0);
  clear_globals();
  compat_collect(3);
}

int main(void) {
  GC_INIT();
  test_tmp_root();
  test_visible();
  test_has_static_roots();
  test_no_dls();
  return CHECK_SUMMARY();
}
