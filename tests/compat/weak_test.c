/* weak_test.c: weak references in Boehm GC's API.
 *  - disappearing (short) links are cleared when their object becomes
 *    unreachable, before its finalizer runs; links to live objects stay;
 *  - long links are cleared only once the object is really reclaimed,
 *    i.e. after its finalizer ran and nothing resurrected it;
 *  - registration return codes: GC_SUCCESS, GC_DUPLICATE, GC_NOT_FOUND;
 *    unregistering and moving links;
 *  - hidden pointers are not followed by the collector;
 *  - toggle references: the callback's STRONG keeps an object alive. */
#include <gc.h>
#include "compat.h"

#define N 200

/* Link tables live in pointer-free uncollectable memory: the collector
 * neither scans nor frees them, so a link never keeps its object alive. */
static void **short_links, **long_links;
static void **live_objs; /* scanned: keeps the "live" half alive */

static int finalized;
static void GC_CALLBACK note_fin(void *obj, void *cd) {
  (void)cd;
  finalized++;
  /* Short links are cleared before finalization; the long link still
   * names this object. */
  for (int i = 0; i < N; i++)
    if (long_links[i] == obj && short_links[i] != 0) short_links[i] = (void *)1; /* mark misuse */
}

static COMPAT_NOINLINE void make_objects(void) {
  for (int i = 0; i < N; i++) {
    void *obj = GC_MALLOC(48);
    short_links[i] = obj;
    long_links[i] = obj;
    CHECK_EQ(GC_GENERAL_REGISTER_DISAPPEARING_LINK(&short_links[i], obj), GC_SUCCESS);
    CHECK_EQ(GC_REGISTER_LONG_LINK(&long_links[i], obj), GC_SUCCESS);
    if (i % 2 == 0)
      live_objs[i / 2] = obj; /* even ones stay reachable */
    else
      GC_REGISTER_FINALIZER(obj, note_fin, 0, 0, 0);
  }
}

static COMPAT_NOINLINE void test_codes(void) {
  void *obj = GC_MALLOC(16);
  void **links = (void **)GC_MALLOC_ATOMIC_UNCOLLECTABLE(4 * sizeof(void *));
  links[0] = links[1] = links[2] = links[3] = obj;
  CHECK_EQ(GC_GENERAL_REGISTER_DISAPPEARING_LINK(&links[0], obj), GC_SUCCESS);
  CHECK_EQ(GC_GENERAL_REGISTER_DISAPPEARING_LINK(&links[0], obj), GC_DUPLICATE);
  CHECK_EQ(GC_move_disappearing_link(&links[0], &links[1]), GC_SUCCESS);
  CHECK_EQ(GC_move_disappearing_link(&links[0], &links[2]), GC_NOT_FOUND);
  CHECK_EQ(GC_GENERAL_REGISTER_DISAPPEARING_LINK(&links[2], obj), GC_SUCCESS);
  CHECK_EQ(GC_move_disappearing_link(&links[1], &links[2]), GC_DUPLICATE);
  CHECK_EQ(GC_unregister_disappearing_link(&links[1]), 1);
  CHECK_EQ(GC_unregister_disappearing_link(&links[1]), 0);
  CHECK_EQ(GC_unregister_disappearing_link(&links[2]), 1);

  CHECK_EQ(GC_REGISTER_LONG_LINK(&links[0], obj), GC_SUCCESS);
  CHECK_EQ(GC_REGISTER_LONG_LINK(&links[0], obj), GC_DUPLICATE);
  CHECK_EQ(GC_move_long_link(&links[0], &links[3]), GC_SUCCESS);
  CHECK_EQ(GC_move_long_link(&links[0], &links[1]), GC_NOT_FOUND);
  CHECK_EQ(GC_unregister_long_link(&links[3]), 1);
  CHECK_EQ(GC_unregister_long_link(&links[3]), 0);
  GC_FREE(links);
  GC_reachable_here(obj);
}

/* An unregistered link is left alone even when its object dies. */
static COMPAT_NOINLINE void make_unregistered(void **slot) {
  void *obj = GC_MALLOC(16);
  *slot = obj;
  GC_GENERAL_REGISTER_DISAPPEARING_LINK(slot, obj);
  GC_unregister_disappearing_link(slot);
}

/* Hidden pointers: the only reference is hidden, so objects go. */
static GC_hidden_pointer hidden[N];
static void *hidden_links[N];
static COMPAT_NOINLINE void make_hidden(void) {
  for (int i = 0; i < N; i++) {
    void *obj = GC_MALLOC(24);
    hidden[i] = GC_HIDE_POINTER(obj);
    hidden_links[i] = 0; /* the link word holds nothing scannable */
    GC_GENERAL_REGISTER_DISAPPEARING_LINK(&hidden_links[i], obj);
    hidden_links[i] = (void *)GC_HIDE_POINTER(obj);
  }
}

/* Toggle references: objects whose index is even are reported STRONG. */
static GC_ToggleRefStatus GC_CALLBACK toggle_cb(void *obj) {
  return ((int *)obj)[0] % 2 == 0 ? GC_TOGGLE_REF_STRONG : GC_TOGGLE_REF_WEAK;
}
static void **toggle_links;
static COMPAT_NOINLINE void make_toggles(void) {
  for (int i = 0; i < N; i++) {
    /* Not GC_MALLOC_ATOMIC: toggle refs need object bases, and a debug
     * object's user pointer is not its base. */
    int *obj = (int *)GC_malloc_atomic(16);
    obj[0] = i;
    toggle_links[i] = obj;
    GC_GENERAL_REGISTER_DISAPPEARING_LINK(&toggle_links[i], obj);
    CHECK_EQ(GC_toggleref_add(obj, 1), GC_SUCCESS);
  }
}

int main(void) {
  GC_INIT();
  short_links = (void **)GC_MALLOC_ATOMIC_UNCOLLECTABLE(N * sizeof(void *));
  long_links = (void **)GC_MALLOC_ATOMIC_UNCOLLECTABLE(N * sizeof(void *));
  live_objs = (void **)GC_MALLOC_UNCOLLECTABLE(N / 2 * sizeof(void *));
  toggle_links = (void **)GC_MALLOC_ATOMIC_UNCOLLECTABLE(N * sizeof(void *));

  test_codes();

  make_objects();
  /* One collection: dead objects' short links are cleared and their
   * finalizers are queued; the long links survive finalization. */
  compat_wipe_stack();
  GC_gcollect();
  int short_cleared = 0, long_cleared_early = 0, live_ok = 0;
  for (int i = 0; i < N; i++) {
    if (i % 2 == 0) {
      live_ok += short_links[i] == live_objs[i / 2] && long_links[i] == live_objs[i / 2];
    } else {
      short_cleared += short_links[i] == 0;
      long_cleared_early += short_links[i] == 0 && long_links[i] == 0;
    }
  }
  CHECK_EQ(live_ok, N / 2);
  CHECK(COMPAT_MOSTLY(short_cleared, N / 2));
  CHECK_EQ(long_cleared_early, 0);
  GC_invoke_finalizers();
  CHECK(COMPAT_MOSTLY(finalized, N / 2));
  /* Later collections reclaim the finalized objects: long links go. */
  compat_collect(3);
  int long_cleared = 0, misuse = 0;
  for (int i = 1; i < N; i += 2) {
    long_cleared += long_links[i] == 0;
    misuse += short_links[i] == (void *)1;
  }
  CHECK_EQ(misuse, 0);
  CHECK(COMPAT_MOSTLY(long_cleared, N / 2));
  for (int i = 0; i < N; i += 2) CHECK(short_links[i] == live_objs[i / 2]);

  void **slot = (void **)GC_MALLOC_ATOMIC_UNCOLLECTABLE(sizeof(void *));
  make_unregistered(slot);
  compat_collect(2);
  CHECK(*slot != 0);

  make_hidden();
  compat_collect(2);
  int hidden_cleared = 0;
  for (int i = 0; i < N; i++) hidden_cleared += hidden_links[i] == 0;
  CHECK(COMPAT_MOSTLY(hidden_cleared, N));
  CHECK(GC_REVEAL_POINTER(GC_HIDE_POINTER(slot)) == (void *)slot);

  GC_set_toggleref_func(toggle_cb);
  CHECK(GC_get_toggleref_func() == toggle_cb);
  make_toggles();
  compat_collect(2);
  int strong_kept = 0, weak_cleared = 0;
  for (int i = 0; i < N; i++) {
    if (i % 2 == 0)
      strong_kept += toggle_links[i] != 0 && ((int *)toggle_links[i])[0] == i;
    else
      weak_cleared += toggle_links[i] == 0;
  }
  CHECK_EQ(strong_kept, N / 2);
  CHECK(COMPAT_MOSTLY(weak_cleared, N / 2));
  return CHECK_SUMMARY();
}
