/* kinds_test.c: the extension interfaces of gc_mark.h, gc_gcj.h and
 * gc_disclaim.h.
 *  - a new kind with a GC_DS_LENGTH descriptor traces like GC_malloc;
 *  - a new kind with a GC_DS_BITMAP descriptor traces only its pointer
 *    words (most significant bit = word 0);
 *  - a new kind whose GC_DS_PROC descriptor calls a client mark procedure
 *    traces exactly what the procedure pushes;
 *  - gcj-style objects are traced by the descriptor in their vtable;
 *  - GC_finalized_malloc closures run when objects are reclaimed, and a
 *    disclaim procedure returning nonzero keeps its object one more cycle;
 *  - GC_get_kind_and_size, GC_is_marked;
 *  - a free object's first word reads as an aligned pointer or NULL, as
 *    Boehm GC's free-list links do: mark procedures may be handed free
 *    objects (gc_mark.h), and clients tell them by that word's tag bits
 *    (Guile's smob procedure aborted on a link that read as a corrupt
 *    smob).  Checked in eight fresh processes, each with its own free-list
 *    encoding. */
#include <gc.h>
#include <gc/gc_mark.h>
#include <gc/gc_gcj.h>
#include <gc/gc_disclaim.h>
#include <stdint.h>
#include "compat.h"

#define N 100
#define WORDSZ (8 * sizeof(GC_word))
#define BIT(i) ((GC_word)1 << (WORDSZ - 1 - (i))) /* word i is a pointer */

static void **alive_links, **dead_links; /* atomic uncollectable */
static void **holders;                   /* uncollectable, scanned */

static void reset_links(void) {
  memset(alive_links, 0, N * sizeof(void *));
  memset(dead_links, 0, N * sizeof(void *));
  memset(holders, 0, N * sizeof(void *));
}

static void check_links(const char *what, int need_dead) {
  int alive = 0, dead = 0;
  for (int i = 0; i < N; i++) {
    alive += alive_links[i] != 0;
    dead += dead_links[i] == 0;
  }
  if (alive != N || (need_dead && !COMPAT_MOSTLY(dead, N)))
    fprintf(stderr, "%s: %d of %d traced alive, %d of %d untraced collected\n", what, alive, N,
            dead, N);
  CHECK_EQ(alive, N);
  if (need_dead) CHECK(COMPAT_MOSTLY(dead, N));
}

/* Objects of `kind` hold a traced pointer in word tw and an untraced one
 * in word uw (uw < 0: none). */
static COMPAT_NOINLINE void make_kind_objects(int kind, int tw, int uw) {
  for (int i = 0; i < N; i++) {
    void **o = (void **)GC_generic_malloc(4 * sizeof(void *), kind);
    CHECK(o != 0);
    o[tw] = compat_tracked(i, alive_links);
    if (uw >= 0) o[uw] = compat_tracked(i, dead_links);
    holders[i] = o;
  }
}

/* A mark procedure that traces word 2 only. */
static int mark_calls;
static struct GC_ms_entry *word2_mark(GC_word *addr, struct GC_ms_entry *msp,
                                      struct GC_ms_entry *lim, GC_word env) {
  (void)env;
  __atomic_fetch_add(&mark_calls, 1, __ATOMIC_RELAXED);
  return GC_MARK_AND_PUSH((void *)addr[2], msp, lim, (void **)&addr[2]);
}

/* gcj vtable: first word free for the client, descriptor second. */
struct vtable {
  void *klass;
  GC_word descr;
};
static struct vtable vt = {0, BIT(0) | BIT(2) | GC_DS_BITMAP};

static COMPAT_NOINLINE void make_gcj_objects(void) {
  for (int i = 0; i < N; i++) {
    void **o = (void **)GC_gcj_malloc(4 * sizeof(void *), &vt);
    CHECK(o != 0);
    CHECK(o[0] == (void *)&vt);
    o[2] = compat_tracked(i, alive_links);
    o[1] = compat_tracked(i, dead_links);
    holders[i] = o;
  }
}

/* Finalized allocation. */
static int closures_run;
static void GC_CALLBACK closure_fn(void *obj, void *cd) {
  (void)obj;
  __atomic_fetch_add((int *)cd, 1, __ATOMIC_RELAXED);
}
static const struct GC_finalizer_closure closure = {closure_fn, &closures_run};
static COMPAT_NOINLINE void make_finalized(void) {
  for (int i = 0; i < N; i++) {
    void **o = (void **)GC_finalized_malloc(3 * sizeof(void *), &closure);
    CHECK(o != 0);
  }
}

/* Disclaim: keep each object once, then let it go. */
static int disclaim_calls, disclaim_kept;
static int GC_CALLBACK disclaim_once(void *obj) {
  GC_word *w = (GC_word *)obj;
  disclaim_calls++;
  if (w[1] == 0x5eed) {
    w[1] = 0x5eee;
    disclaim_kept++;
    return 1;
  }
  return 0;
}
static COMPAT_NOINLINE void make_disclaimed(int kind) {
  for (int i = 0; i < N; i++) {
    GC_word *o = (GC_word *)GC_generic_malloc(4 * sizeof(void *), kind);
    CHECK(o != 0);
    o[1] = 0x5eed;
  }
}

static void *GC_CALLBACK is_marked_cb(void *p) { return (void *)(intptr_t)GC_is_marked(p); }

/* The first words of freed objects of a procedure kind: low four bits
 * clear.  Exit status 0 when they are. */
static struct GC_ms_entry *nop_mark(GC_word *addr, struct GC_ms_entry *msp,
                                    struct GC_ms_entry *lim, GC_word env) {
  (void)addr, (void)lim, (void)env;
  return msp;
}

static int free_links_child(void) {
  GC_INIT();
  int k = (int)GC_new_kind(GC_new_free_list(), GC_MAKE_PROC(GC_new_proc(nop_mark), 0), 0, 1);
  int bad = 0;
  for (int i = 0; i < 8; i++) {
    GC_word *o = (GC_word *)GC_generic_malloc(4 * sizeof(GC_word), k);
    GC_free(o); /* not GC_FREE: under GC_DEBUG that expects a debug object */
    bad += (o[0] & 15) != 0; /* the free-list link in the freed object */
  }
  return bad != 0;
}

static void check_free_links(const char *self) {
  for (int i = 0; i < 8; i++) {
    pid_t pid = fork();
    if (pid == 0) {
      execl(self, self, "--free-links", (char *)NULL);
      _exit(2);
    }
    int st = 0;
    CHECK(pid > 0 && waitpid(pid, &st, 0) == pid);
    CHECK_EQ(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), 0);
  }
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--free-links") == 0)
    return free_links_child();
  check_free_links("/proc/self/exe");
  GC_INIT();
  alive_links = (void **)GC_MALLOC_ATOMIC_UNCOLLECTABLE(N * sizeof(void *));
  dead_links = (void **)GC_MALLOC_ATOMIC_UNCOLLECTABLE(N * sizeof(void *));
  holders = (void **)GC_malloc_uncollectable(N * sizeof(void *));

  /* Length descriptor plus object size: everything traced. */
  int k_len = (int)GC_new_kind(GC_new_free_list(), GC_DS_LENGTH, 1, 1);
  reset_links();
  make_kind_objects(k_len, 0, -1);
  compat_collect(3);
  check_links("length kind", 0);
  size_t sz = 0;
  CHECK_EQ(GC_get_kind_and_size(holders[0], &sz), k_len);
  CHECK(sz >= 4 * sizeof(void *));

  /* Bitmap descriptor: words 0 and 3 are pointers, 1 and 2 are not. */
  int k_bm = (int)GC_new_kind(GC_new_free_list(), BIT(0) | BIT(3) | GC_DS_BITMAP, 0, 1);
  reset_links();
  make_kind_objects(k_bm, 3, 1);
  compat_collect(3);
  check_links("bitmap kind", 1);

  /* Mark procedure: only word 2 is traced. */
  unsigned proc = GC_new_proc(word2_mark);
  int k_proc = (int)GC_new_kind(GC_new_free_list(), GC_MAKE_PROC(proc, 0), 0, 1);
  reset_links();
  make_kind_objects(k_proc, 2, 0);
  compat_collect(3);
  check_links("mark-proc kind", 1);
  CHECK(mark_calls > 0);

  /* Mark bits of a reachable object after a collection. */
  GC_gcollect();
  CHECK(GC_call_with_alloc_lock(is_marked_cb, holders[0]) != 0);

  /* gcj-style objects. */
  GC_init_gcj_malloc(GC_GCJ_RESERVED_MARK_PROC_INDEX, 0);
  reset_links();
  make_gcj_objects();
  compat_collect(3);
  check_links("gcj", 1);
  void **g = (void **)GC_GCJ_MALLOC(4 * sizeof(void *), &vt);
  CHECK(g != 0 && g[0] == (void *)&vt);

  /* Finalized allocation. */
  GC_init_finalized_malloc();
  make_finalized();
  compat_collect(3);
  CHECK(COMPAT_MOSTLY(closures_run, N));
  CHECK(closures_run <= N);

  /* Disclaim procedure on a kind of our own. */
  int k_dis = (int)GC_new_kind(GC_new_free_list(), GC_DS_LENGTH, 1, 1);
  GC_register_disclaim_proc(k_dis, disclaim_once, 0);
  make_disclaimed(k_dis);
  compat_collect(1);
  int kept_first = disclaim_kept, calls_first = disclaim_calls;
  CHECK(COMPAT_MOSTLY(kept_first, N));
  compat_collect(2);
  /* Each kept object was offered again and then let go. */
  CHECK(COMPAT_MOSTLY(disclaim_calls - calls_first, kept_first));
  CHECK_EQ(disclaim_kept, kept_first);
  return CHECK_SUMMARY();
}
