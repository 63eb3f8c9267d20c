/* misc_test.c: the rest of gc.h that programs call.
 *  - settings: every getter returns what its setter stored;
 *  - GC_disable / GC_enable nest; GC_set_disable_automatic_collection;
 *  - collection events arrive in order; the start callback is called;
 *  - GC_add_roots / GC_remove_roots on memory the collector does not own;
 *  - hooks (oom, warn, abort) can be set and read back;
 *  - stubborn and dirty-bit calls are accepted and keep data;
 *  - GC_get_expl_freed_bytes_since_gc counts GC_FREE and the free inside
 *    a moving GC_REALLOC, and starts again from 0 at each collection;
 *  - incremental mode: GC_enable_incremental, GC_collect_a_little and
 *    friends work and do not lose reachable data;
 *  - GC_set_pages_executable(1) before GC_INIT makes heap pages
 *    executable (per /proc/self/maps), small and large objects alike. */
#include <gc.h>
#include <gc/gc_mark.h>
#include <stdint.h>
#include "compat.h"

static int event_seen[16], event_order[16], event_count;
static void GC_CALLBACK on_event(GC_EventType e) {
  if ((unsigned)e < 16 && !event_seen[e]) {
    event_seen[e] = 1;
    event_order[e] = event_count++;
  }
}
static int starts;
static void GC_CALLBACK on_start(void) { starts++; }
static void *GC_CALLBACK my_oom(size_t n) { (void)n; return 0; }
static void GC_CALLBACK my_warn(char *msg, GC_word arg) { (void)msg; (void)arg; }
static void GC_CALLBACK my_abort(const char *msg) { (void)msg; }
static int GC_CALLBACK never_stop(void) { return 0; }

static void test_settings(void) {
  GC_set_free_space_divisor(5);
  CHECK_EQ(GC_get_free_space_divisor(), 5);
  GC_set_max_retries(3);
  CHECK_EQ(GC_get_max_retries(), 3);
  GC_set_dont_expand(0);
  CHECK_EQ(GC_get_dont_expand(), 0);
  GC_set_full_freq(7);
  CHECK_EQ(GC_get_full_freq(), 7);
  GC_set_time_limit(50);
  CHECK_EQ(GC_get_time_limit(), 50);
  struct GC_timeval_s tv = {20, 500};
  GC_set_time_limit_tv(tv);
  struct GC_timeval_s tv2 = GC_get_time_limit_tv();
  CHECK_EQ(tv2.tv_ms, 20);
  CHECK_EQ(tv2.tv_nsec, 500);
  GC_set_time_limit(GC_TIME_UNLIMITED);
  GC_set_allocd_bytes_per_finalizer(12345);
  CHECK_EQ(GC_get_allocd_bytes_per_finalizer(), 12345);
  GC_set_min_bytes_allocd(4096);
  CHECK_EQ(GC_get_min_bytes_allocd(), 4096);
  GC_set_min_bytes_allocd(1);
  GC_set_rate(12);
  CHECK_EQ(GC_get_rate(), 12);
  GC_set_max_prior_attempts(2);
  CHECK_EQ(GC_get_max_prior_attempts(), 2);
  GC_set_force_unmap_on_gcollect(1);
  CHECK_EQ(GC_get_force_unmap_on_gcollect(), 1);
  GC_set_force_unmap_on_gcollect(0);
  GC_set_java_finalization(1);
  CHECK_EQ(GC_get_java_finalization(), 1);
  GC_set_non_gc_bytes(1000);
  CHECK_EQ(GC_get_non_gc_bytes(), 1000);
  GC_set_non_gc_bytes(0);
  CHECK(GC_get_all_interior_pointers() != 0); /* the default */
  CHECK_EQ(GC_get_dont_precollect(), 0);
  CHECK_EQ(GC_get_find_leak(), 0);
  GC_set_oom_fn(my_oom);
  CHECK(GC_get_oom_fn() == my_oom);
  GC_set_warn_proc(my_warn);
  CHECK(GC_get_warn_proc() == my_warn);
  GC_set_abort_func(my_abort);
  CHECK(GC_get_abort_func() == my_abort);
  GC_set_stop_func(never_stop);
  CHECK(GC_get_stop_func() == never_stop);
  CHECK(GC_get_debug_header_size() > 0);
  CHECK(GC_get_size_map_at(1) >= 1);
}

static COMPAT_NOINLINE void fill_area(void **area, int n) {
  for (int i = 0; i < n; i++) {
    int *p = (int *)GC_malloc_atomic(sizeof(int));
    *p = i;
    area[i] = p;
  }
}

/* Explicit frees are counted (each at least the size asked for) until
 * the next collection. */
static void test_expl_freed(void) {
  enum { N = 200, SIZE = 40 };
  GC_gcollect();
  size_t before = GC_get_expl_freed_bytes_since_gc();
  for (int i = 0; i < N; i++) GC_FREE(GC_MALLOC(SIZE));
  for (int i = 0; i < N; i++) GC_FREE(GC_MALLOC_ATOMIC(SIZE));
  size_t after = GC_get_expl_freed_bytes_since_gc();
  CHECK(after >= before + 2 * N * SIZE);
  struct GC_prof_stats_s st;
  CHECK_EQ(GC_get_prof_stats(&st, sizeof st), sizeof st);
  CHECK_EQ(st.expl_freed_bytes_since_gc, after);
  void *big = GC_MALLOC(100000); /* beyond the small sizes of both */
  GC_FREE(big);
  CHECK(GC_get_expl_freed_bytes_since_gc() >= after + 100000);
  after = GC_get_expl_freed_bytes_since_gc();
  char *r = (char *)GC_MALLOC(SIZE);
  char *moved = (char *)GC_REALLOC(r, 64 * SIZE); /* frees r */
  CHECK(moved != 0);
  CHECK(GC_get_expl_freed_bytes_since_gc() >= after + SIZE);
  GC_gcollect();
  CHECK_EQ(GC_get_expl_freed_bytes_since_gc(), 0);
  GC_FREE(moved);
}

/* Whether the mapping holding p is executable (-1: not mapped). */
static int mapping_executable(const void *p) {
  FILE *f = fopen("/proc/self/maps", "r");
  char line[512];
  int r = -1;
  while (f && fgets(line, sizeof line, f)) {
    unsigned long lo, hi;
    char perm[8];
    if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perm) == 3 && (uintptr_t)p >= lo &&
        (uintptr_t)p < hi) {
      r = perm[2] == 'x';
      break;
    }
  }
  if (f) fclose(f);
  return r;
}

int main(void) {
  GC_set_pages_executable(1); /* only before GC_INIT */
  GC_INIT();
  CHECK_EQ(GC_get_pages_executable(), 1);
  CHECK_EQ(mapping_executable(GC_malloc(100)), 1);
  CHECK_EQ(mapping_executable(GC_malloc(1 << 20)), 1);
  test_expl_freed();
  test_settings();

  /* Disabling nests. */
  GC_word no = GC_get_gc_no();
  GC_disable();
  GC_disable();
  CHECK(GC_is_disabled());
  for (int i = 0; i < 100000; i++) (void)GC_malloc(64);
  GC_enable();
  CHECK(GC_is_disabled());
  CHECK_EQ(GC_get_gc_no(), no); /* nothing automatic while disabled */
  GC_enable();
  CHECK(!GC_is_disabled());
  GC_set_disable_automatic_collection(1);
  CHECK_EQ(GC_get_disable_automatic_collection(), 1);
  GC_set_disable_automatic_collection(0);

  /* Events. */
  GC_set_on_collection_event(on_event);
  CHECK(GC_get_on_collection_event() == on_event);
  GC_set_start_callback(on_start);
  CHECK(GC_get_start_callback() == on_start);
  CHECK(GC_try_to_collect(never_stop));
  GC_set_on_collection_event(0);
  GC_set_start_callback(0);
  CHECK(starts > 0);
  CHECK(event_seen[GC_EVENT_START] && event_seen[GC_EVENT_END]);
  CHECK(event_seen[GC_EVENT_MARK_START] && event_seen[GC_EVENT_MARK_END]);
  CHECK(event_seen[GC_EVENT_RECLAIM_START] && event_seen[GC_EVENT_RECLAIM_END]);
  CHECK(event_order[GC_EVENT_START] < event_order[GC_EVENT_MARK_START]);
  CHECK(event_order[GC_EVENT_MARK_START] < event_order[GC_EVENT_MARK_END]);
  CHECK(event_order[GC_EVENT_MARK_END] < event_order[GC_EVENT_RECLAIM_START]);
  CHECK(event_order[GC_EVENT_RECLAIM_START] < event_order[GC_EVENT_RECLAIM_END]);
  CHECK(event_order[GC_EVENT_RECLAIM_END] < event_order[GC_EVENT_END]);

  /* Roots outside the GC heap: objects referenced only from a malloc'd
   * area live while it is a root range. */
  enum { AREA = 100 };
  void **area = (void **)calloc(AREA, sizeof(void *));
  GC_add_roots(area, area + AREA);
  fill_area(area, AREA);
  compat_collect(2);
  for (int i = 0; i < 20000; i++) (void)GC_malloc_atomic(sizeof(int));
  int ok = 0;
  for (int i = 0; i < AREA; i++) ok += *(int *)area[i] == i;
  CHECK_EQ(ok, AREA);
  CHECK(GC_is_tmp_root(area) || 1); /* answers without crashing */
  GC_remove_roots(area, area + AREA);
  free(area);

  /* Stubborn objects and dirty bits. */
  void **s = (void **)GC_malloc_stubborn(4 * sizeof(void *));
  GC_change_stubborn(s);
  s[0] = GC_MALLOC(8);
  GC_end_stubborn_change(s);
  GC_ptr_store_and_dirty(&s[1], GC_malloc(8));
  GC_PTR_STORE_AND_DIRTY(&s[2], GC_MALLOC(8));
  GC_gcollect();
  CHECK(s[0] != 0 && s[1] != 0 && s[2] != 0);
  CHECK(GC_base(s[1]) == s[1]);

  /* Incremental mode, last: it stays on. */
  struct node { struct node *next; intptr_t v; } *head = 0;
  GC_enable_incremental();
  (void)GC_is_incremental_mode();
  (void)GC_incremental_protection_needs();
  for (intptr_t i = 0; i < 50000; i++) {
    struct node *n = (struct node *)GC_MALLOC(sizeof *n);
    n->v = i;
    GC_PTR_STORE_AND_DIRTY(&n->next, head);
    head = n;
    if (i % 1000 == 0) (void)GC_collect_a_little();
  }
  GC_start_incremental_collection();
  for (int i = 0; i < 1000 && GC_collect_a_little(); i++) {
  }
  GC_gcollect();
  intptr_t expect = 49999, bad = 0;
  for (struct node *n = head; n; n = n->next, expect--) bad += n->v != expect;
  CHECK_EQ(expect, -1);
  CHECK_EQ(bad, 0);
  return CHECK_SUMMARY();
}
