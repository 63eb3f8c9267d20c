/* diff_test.c: the differential program.  It exercises the Boehm GC API
 * and prints what it observes in a canonical form -- counts bucketed
 * into "none / few / most" (most: at least 80%, since a conservative
 * collector may keep a few objects), sizes as "fits / too small", GC_base
 * answers as "start / NULL / other" -- so that the output does not
 * depend on addresses, size classes or the exact timing of a
 * conservative collector, only on behaviour.  diff_test.sh runs the
 * build linked with Debian's libgc and the build linked with libpargc
 * and requires identical output. */
#include <gc.h>
#include <gc/gc_typed.h>
#include <stdint.h>
#include "compat.h"

#define N 200

static const char *bucket(int count, int n) {
  if (count == 0) return "none";
  if (COMPAT_MOSTLY(count, n)) return "most";
  return "few";
}

static const char *base_answer(void *base, void *obj) {
  if (base == 0) return "NULL";
  if (base == obj) return "start";
  return "other";
}

static int fin_count;
static void GC_CALLBACK fin(void *obj, void *cd) {
  (void)obj;
  ++*(int *)cd;
}

static void **links;
static COMPAT_NOINLINE void make_finalizable(int with_links) {
  for (int i = 0; i < N; i++) {
    void *p = GC_malloc(40);
    GC_register_finalizer(p, fin, &fin_count, 0, 0);
    if (with_links) {
      links[i] = p;
      GC_general_register_disappearing_link(&links[i], p);
    }
  }
}

/* Pointers one past each object's end, the only references left. */
static char *volatile ends[N]; /* volatile: never read, so the stores would go */
static COMPAT_NOINLINE void make_held_past_end(size_t size) {
  for (int i = 0; i < N; i++) {
    char *p = (char *)GC_malloc(size);
    ends[i] = p + size;
    links[i] = p;
    GC_general_register_disappearing_link(&links[i], p);
  }
}

static void *kept[N];
static COMPAT_NOINLINE void make_linked_live(void) {
  for (int i = 0; i < N; i++) {
    kept[i] = GC_malloc(24);
    links[i] = kept[i];
    GC_general_register_disappearing_link(&links[i], kept[i]);
  }
}

int main(void) {
  GC_INIT();
  links = (void **)GC_malloc_atomic_uncollectable(N * sizeof(void *));

  /* Sizes and GC_base. */
  static const size_t sizes[] = {0, 1, 16, 17, 255, 4096, 65536, 1000000};
  for (unsigned i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
    char *p = (char *)GC_malloc(sizes[i]);
    size_t n = sizes[i] ? sizes[i] : 1;
    printf("malloc(%zu): %s, base(start) %s, base(last) %s, base(past end) %s, heap_ptr %d\n",
           sizes[i], p && GC_size(p) >= sizes[i] ? "fits" : "too small",
           base_answer(GC_base(p), p), base_answer(GC_base(p + n - 1), p),
           base_answer(GC_base(p + n), p), GC_is_heap_ptr(p));
  }
  int local;
  printf("base(stack) %s, base(NULL) %s\n", base_answer(GC_base(&local), &local),
         base_answer(GC_base(0), 0));
  char *a = (char *)GC_memalign(256, 100);
  printf("memalign(256): aligned %d, base %s\n", ((uintptr_t)a & 255) == 0,
         GC_base(a) ? "in heap" : "NULL");
  printf("realloc(p, 0): %s\n", GC_realloc(GC_malloc(10), 0) ? "object" : "NULL");
  printf("strdup(NULL): %s\n", GC_strdup(0) ? "object" : "NULL");

  /* Finalizers and links. */
  make_finalizable(1);
  compat_collect(3);
  int cleared = 0;
  for (int i = 0; i < N; i++) cleared += links[i] == 0;
  printf("finalizers of dropped objects: %s ran; their links: %s cleared\n",
         bucket(fin_count, N), bucket(cleared, N));
  /* One past the end is a valid C pointer: it keeps the object. */
  static const size_t exact[] = {16, 32, 64, 4096};
  for (unsigned s = 0; s < sizeof exact / sizeof exact[0]; s++) {
    make_held_past_end(exact[s]);
    compat_collect(2);
    cleared = 0;
    for (int i = 0; i < N; i++) cleared += links[i] == 0;
    printf("objects of %zu bytes held only by past-the-end pointers: %s collected\n",
           exact[s], bucket(cleared, N));
    for (int i = 0; i < N; i++) {
      GC_unregister_disappearing_link(&links[i]);
      ends[i] = 0;
    }
  }
  make_linked_live();
  compat_collect(2);
  cleared = 0;
  for (int i = 0; i < N; i++) cleared += links[i] == 0;
  printf("links to live objects: %s cleared\n", bucket(cleared, N));
  int twice = GC_general_register_disappearing_link(&links[0], kept[0]);
  int unreg = GC_unregister_disappearing_link(&links[0]);
  int again = GC_unregister_disappearing_link(&links[0]);
  printf("register twice: %d, unregister: %d, again: %d\n", twice, unreg, again);

  /* Typed objects: untraced words do not retain. */
  GC_word bm[1] = {0};
  GC_set_bit(bm, 0);
  GC_descr d = GC_make_descriptor(bm, 2);
  void **holders = (void **)GC_malloc_uncollectable(N * sizeof(void *));
  for (int i = 0; i < N; i++) {
    void **t = (void **)GC_malloc_explicitly_typed(2 * sizeof(void *), d);
    void *target = GC_malloc(8);
    t[1] = target; /* untraced word */
    links[i] = target;
    GC_general_register_disappearing_link(&links[i], target);
    holders[i] = t;
    target = 0;
  }
  compat_collect(2);
  cleared = 0;
  for (int i = 0; i < N; i++) cleared += links[i] == 0;
  printf("targets held only in untraced typed words: %s collected\n", bucket(cleared, N));

  /* Counters move the same way. */
  GC_word gc_no = GC_get_gc_no();
  GC_gcollect();
  printf("gc_no advances: %d\n", GC_get_gc_no() > gc_no);
  struct GC_prof_stats_s st;
  printf("prof_stats size: %s\n",
         GC_get_prof_stats(&st, sizeof st) == sizeof st ? "full" : "partial");
  printf("disable nests: ");
  GC_disable();
  GC_disable();
  GC_enable();
  printf("%d", GC_is_disabled());
  GC_enable();
  printf(" %d\n", GC_is_disabled());
  return 0;
}
