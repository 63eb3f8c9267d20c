/* displacement_test.c: with interior pointers off
 * (GC_set_all_interior_pointers(0) before GC_INIT), as in Boehm GC:
 *  - a pointer to an object's start keeps it alive;
 *  - a pointer into its middle does not (most such objects go);
 *  - once GC_REGISTER_DISPLACEMENT(16) was called, a pointer 16 bytes in
 *    keeps the object (also under GC_DEBUG, whose objects start after a
 *    header: the debug call registers both offsets);
 *  - GC_is_valid_displacement accepts starts and registered offsets and
 *    calls GC_is_valid_displacement_print_proc for other offsets. */
#include <gc.h>
#include <stdint.h>
#include "compat.h"

#define N 200

static char *kept[N]; /* a root */
static int finalized;
static void GC_CALLBACK count_finalized(void *obj, void *cd) {
  (void)obj;
  (void)cd;
  finalized++;
}

/* N finalizable 64-byte objects; kept[i] points `offset` bytes in. */
static COMPAT_NOINLINE void fill(int offset) {
  for (int i = 0; i < N; i++) {
    char *p = GC_MALLOC(64);
    GC_REGISTER_FINALIZER(p, count_finalized, NULL, NULL, NULL);
    kept[i] = p + offset;
  }
}

static COMPAT_NOINLINE void drop(void) {
  for (int i = 0; i < N; i++)
    kept[i] = NULL;
}

static int invalid;
static void GC_CALLBACK note_invalid(void *p) {
  (void)p;
  invalid++;
}

int main(void) {
  GC_set_all_interior_pointers(0);
  GC_INIT();
  CHECK_EQ(GC_get_all_interior_pointers(), 0);

  /* Starts keep their objects. */
  finalized = 0;
  fill(0);
  compat_collect(3);
  CHECK_EQ(finalized, 0);
  drop();
  compat_collect(3);

  /* An unregistered offset does not. */
  finalized = 0;
  fill(16);
  compat_collect(3);
  CHECK(COMPAT_MOSTLY(finalized, N));
  drop();

  /* A registered one does. */
  GC_REGISTER_DISPLACEMENT(16);
  finalized = 0;
  fill(16);
  compat_collect(3);
  CHECK_EQ(finalized, 0);

  GC_is_valid_displacement_print_proc = note_invalid;
  char *base = kept[0] - 16;
  (void)GC_is_valid_displacement(base);
  (void)GC_is_valid_displacement(kept[0]);
  CHECK_EQ(invalid, 0);
  CHECK(GC_is_valid_displacement(base + 24) == base + 24);
  CHECK_EQ(invalid, 1);
  drop();
  compat_collect(3);
  return CHECK_SUMMARY();
}
