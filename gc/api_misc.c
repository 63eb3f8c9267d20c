/* api_misc: the rest of Boehm GC 8.2's exported interface -- allocation
 * variants (memalign, strdup, malloc_many, stubborn), settings and their
 * deprecated variables, statistics, dumps, printing, locks, incremental
 * and dirty-bit entry points, pointer checks, thread suspension.
 *
 * Settings pargc has no use for are stored and returned (so round trips
 * work) and documented in docs/api.md as accepted but inert.  Data
 * symbols keep Boehm GC's types and sizes (a program compiled against
 * Boehm's headers gets copy relocations of exactly those sizes); where
 * Boehm initialises a variable to a non-zero value it lives in .data
 * there, and here too (exports_test.sh checks the symbol type).
 */
#include "config.h"
#include "gc/compat.h"
#include "gc/collect.h"
#include "gc/concurrent.h"
#include "gc/dirty.h"
#include "gc/roots.h"
#include "gc/stats.h"
#include "gc/threads.h"
#include "gc/tracer.h"
#include "alloc/options.h"
#include "alloc/page.h"
#include "alloc/report.h"
#include "alloc/thread.h"

/* GC_THREADS: javaxfc.h declares the thread calls only with it. */
#define GC_THREADS 1
#include <gc/gc.h>
#include <gc/gc_inline.h>
#include <gc/gc_mark.h>
#include <gc/javaxfc.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DATA __attribute__((section(".data")))

/* ---- Boehm GC's variables -------------------------------------------------- */

int GC_all_interior_pointers = 1;
int GC_dont_gc;
int GC_dont_expand;
int GC_dont_precollect;
int GC_full_freq = 19;
int GC_no_dls;
int GC_parallel;
int GC_use_entire_heap;
GC_word GC_gc_no;
GC_word GC_free_space_divisor = 3;
GC_word GC_max_retries;
GC_word GC_non_gc_bytes;
char *GC_stackbottom;
unsigned long GC_time_limit = GC_TIME_UNLIMITED;
GC_on_heap_resize_proc GC_on_heap_resize;

static void *GC_CALLBACK default_oom(size_t bytes)
{
  (void)bytes;
  return NULL;
}
GC_oom_func GC_oom_fn = default_oom;

static void GC_CALLBACK default_abort(const char *msg)
{
  if (msg)
    fprintf(stderr, "%s\n", msg);
}
/* Boehm GC internal (no header declares it): called before aborting. */
GC_API void (*GC_on_abort)(const char *msg);
void (*GC_on_abort)(const char *msg) = default_abort;

static void GC_CALLBACK default_push_other_roots(void) {}
/* Boehm GC internal: called while roots are pushed. */
GC_API GC_push_other_roots_proc GC_push_other_roots;
GC_push_other_roots_proc GC_push_other_roots = default_push_other_roots;

/* Boehm GC's internal free-list pointers, exported but undeclared.  pargc
 * keeps its free lists per thread: these stay NULL. */
GC_API void *GC_objfreelist_ptr, *GC_aobjfreelist_ptr, *GC_uobjfreelist_ptr, *GC_auobjfreelist_ptr;
DATA void *GC_objfreelist_ptr;
DATA void *GC_aobjfreelist_ptr;
DATA void *GC_uobjfreelist_ptr;
DATA void *GC_auobjfreelist_ptr;

/* Boehm GC's internal state block, exported (never declared by a public
 * header).  A zero-filled placeholder of the same size, so that programs
 * that reference it link; pargc keeps nothing in it. */
GC_API char GC_arrays[182768];
char GC_arrays[182768];

/* Print procedures for the pointer-check calls below (gc.h). */
static void GC_CALLBACK default_same_obj_print(void *p, void *q)
{
  fprintf(stderr, "GC_same_obj: %p and %p are in different objects\n", p, q);
  abort();
}
static void GC_CALLBACK default_is_valid_displacement_print(void *p)
{
  fprintf(stderr, "GC_is_valid_displacement: %p is not a valid interior pointer\n", p);
  abort();
}
static void GC_CALLBACK default_is_visible_print(void *p)
{
  fprintf(stderr, "GC_is_visible: %p is not visible to the collector\n", p);
  abort();
}
void (*GC_same_obj_print_proc)(void *, void *) = default_same_obj_print;
void (*GC_is_valid_displacement_print_proc)(void *) = default_is_valid_displacement_print;
void (*GC_is_visible_print_proc)(void *) = default_is_visible_print;

/* ---- allocation ------------------------------------------------------------ */

void *GC_malloc_stubborn(size_t lb) { return GC_malloc(lb); }
void GC_change_stubborn(const void *p) { (void)p; }
/* Manual dirty bits (PARGC_BARRIER=manual, GC_set_manual_vdb_allowed):
 * no-ops unless a concurrent mark runs (gc/dirty.h). */
void GC_end_stubborn_change(const void *p) { pargc_dirty_object(p); }
void GC_ptr_store_and_dirty(void *p, const void *q)
{
  *(const void **)p = q;
  pargc_dirty_word(p);
}

void *GC_memalign(size_t align, size_t lb)
{
  if (align <= 2 * sizeof(void *) || (align & (align - 1)))
    return GC_malloc(lb); /* every object is 16-byte aligned */
  if (lb > PARGC_SMALL_MAX && align <= PARGC_PAGE_SIZE)
    return GC_malloc(lb); /* large objects start on a page */
  if (lb > SIZE_MAX - align)
    return NULL;
  /* Over-allocate and return an interior pointer: interior pointers keep
   * the object alive in pargc (GC_free needs the base, as in Boehm GC). */
  char *p = GC_malloc(lb + align - 1);
  if (!p)
    return NULL;
  return (void *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
}

int GC_posix_memalign(void **memptr, size_t align, size_t lb)
{
  if (align < sizeof(void *) || (align & (align - 1)))
    return EINVAL;
  void *p = GC_memalign(align, lb);
  if (!p)
    return ENOMEM;
  *memptr = p;
  return 0;
}

char *GC_strdup(const char *s)
{
  if (!s)
    return NULL;
  size_t n = strlen(s) + 1;
  char *c = GC_malloc_atomic(n);
  if (c)
    memcpy(c, s, n);
  return c;
}

char *GC_strndup(const char *s, size_t size)
{
  size_t n = strnlen(s, size);
  char *c = GC_malloc_atomic(n + 1);
  if (c) {
    memcpy(c, s, n);
    c[n] = 0;
  }
  return c;
}

/* A list of objects of one size, linked through their first word with
 * plain pointers (GC_NEXT).  Taken one by one from the thread's free
 * list, so it costs what as many GC_malloc calls cost, without the
 * per-call overhead of the client. */
void GC_generic_malloc_many(size_t lb, int k, void **result)
{
  unsigned kind = pargc_kind_from_api(k);
  *result = NULL;
  if (kind >= PARGC_MAX_KINDS)
    return;
  if (lb < sizeof(void *))
    lb = sizeof(void *);
  size_t n = lb <= 256 ? 4096 / lb : lb <= 4096 ? 4 : 1;
  if (n < 1)
    n = 1;
  void *head = NULL;
  for (size_t i = 0; i < n; i++) {
    void **p = pargc_compat_alloc_exact(lb, kind);
    if (!p)
      break;
    *p = head;
    head = p;
  }
  *result = head;
}

/* As GC_malloc, and unlike GC_generic_malloc_many (whose clients ask for
 * whole granules), the objects get the byte past the end that keeps a
 * pointer just past an object pointing into it (GC_all_interior_pointers). */
void *GC_malloc_many(size_t lb)
{
  void *r;
  GC_generic_malloc_many(pargc_api_size(lb), GC_I_NORMAL, &r);
  return r;
}

/* ---- locks and world control -------------------------------------------- */

/* Boehm GC's allocation lock, as pargc's collection lock: while it is held
 * no collection starts.  The holder must not allocate (a collection the
 * allocation triggers would wait for the lock), as in Boehm GC. */
void GC_alloc_lock(void) { pargc_collect_init(); pthread_mutex_lock(&pargc_collect_lock); }
void GC_alloc_unlock(void) { pthread_mutex_unlock(&pargc_collect_lock); }

void *GC_call_with_alloc_lock(GC_fn_type fn, void *cd)
{
  GC_alloc_lock();
  void *r = fn(cd);
  GC_alloc_unlock();
  return r;
}

void GC_stop_world_external(void)
{
  pargc_collect_init();
  pthread_mutex_lock(&pargc_collect_lock);
  pargc_threads_stop_world();
}

void GC_start_world_external(void)
{
  pargc_threads_start_world();
  pthread_mutex_unlock(&pargc_collect_lock);
}

/* javaxfc.h thread suspension: not supported by pargc's stop-the-world
 * protocol.  Suspending is a documented no-op and a thread is never
 * reported suspended. */
void GC_suspend_thread(GC_SUSPEND_THREAD_ID thread) { (void)thread; }
void GC_resume_thread(GC_SUSPEND_THREAD_ID thread) { (void)thread; }
int GC_is_thread_suspended(GC_SUSPEND_THREAD_ID thread) { (void)thread; return 0; }

/* ---- collection control ---------------------------------------------- */

static int auto_disabled;
static GC_stop_func stop_func;
static GC_start_callback_proc start_cb;

void GC_set_disable_automatic_collection(int value)
{
  auto_disabled = value;
  pargc_collect_auto_disabled = value;
}
int GC_get_disable_automatic_collection(void) { return auto_disabled; }

void GC_gcollect_and_unmap(void)
{
  GC_gcollect();
  pargc_heap_decommit(true);
}

void GC_set_stop_func(GC_stop_func fn) { stop_func = fn; }
GC_stop_func GC_get_stop_func(void) { return stop_func; }
void GC_set_start_callback(GC_start_callback_proc fn) { start_cb = fn; }
GC_start_callback_proc GC_get_start_callback(void) { return start_cb; }

static void misc_root_hook(void)
{
  GC_start_callback_proc cb = start_cb;
  if (cb && !pargc_tracer_verifying())
    cb();
  if (GC_push_other_roots && GC_push_other_roots != default_push_other_roots)
    GC_push_other_roots();
}

void GC_set_push_other_roots(GC_push_other_roots_proc fn)
{
  GC_push_other_roots = fn ? fn : default_push_other_roots;
}
GC_push_other_roots_proc GC_get_push_other_roots(void)
{
  return GC_push_other_roots == default_push_other_roots ? 0 : GC_push_other_roots;
}

void GC_push_all(void *bottom, void *top) { pargc_tracer_push_range(bottom, top); }
void GC_push_conditional(void *bottom, void *top, int all)
{
  (void)all;
  pargc_tracer_push_range(bottom, top);
}
void GC_push_all_eager(void *bottom, void *top)
{
  uintptr_t lo = ((uintptr_t)bottom + 7) & ~(uintptr_t)7, hi = (uintptr_t)top & ~(uintptr_t)7;
  for (uintptr_t p = lo; p < hi; p += 8)
    pargc_tracer_mark_pointer(*(uintptr_t *)p);
}

/* Incremental mode is pargc's mostly-concurrent mode (gc/concurrent.h). */
void GC_enable_incremental(void)
{
  pargc_collect_init();
  pargc_conc_enable();
}
int GC_is_incremental_mode(void) { return pargc_conc_enabled(); }
int GC_incremental_protection_needs(void)
{
  /* Only spans of scanned kinds are write-protected, and only by the
   * mprotect barrier; pointer-free objects never are. */
  if (!pargc_conc_enabled() || pargc_dirty_barrier() != PARGC_BARRIER_MPROTECT)
    return GC_PROTECTS_NONE;
  return GC_PROTECTS_POINTER_HEAP;
}
void GC_start_incremental_collection(void)
{
  pargc_collect_init();
  if (pargc_conc_enabled())
    pargc_conc_start();
}
/* The collection work runs on pargc's own GC threads: nothing to do a
 * little of; says whether a cycle is still in progress. */
int GC_collect_a_little(void) { return pargc_conc_running(); }
void GC_set_manual_vdb_allowed(int value) { pargc_dirty_allow_manual(value != 0); }
int GC_get_manual_vdb_allowed(void) { return pargc_dirty_manual_allowed(); }

static struct GC_timeval_s time_limit_tv = {GC_TIME_UNLIMITED, 0};
void GC_set_time_limit(unsigned long ms) { GC_time_limit = ms; time_limit_tv.tv_ms = ms; time_limit_tv.tv_nsec = 0; }
unsigned long GC_get_time_limit(void) { return GC_time_limit; }
void GC_set_time_limit_tv(struct GC_timeval_s tv) { time_limit_tv = tv; GC_time_limit = tv.tv_ms; }
struct GC_timeval_s GC_get_time_limit_tv(void) { return time_limit_tv; }

/* ---- settings ------------------------------------------------------------ */

void GC_set_free_space_divisor(GC_word value)
{
  if (value < 1)
    value = 1;
  GC_free_space_divisor = value;
  pargc_collect_init();
  pargc_opt.free_space_divisor = (int64_t)value;
  pargc_opt.given.free_space_divisor = true; /* Boehm's sizing from now on */
}
GC_word GC_get_free_space_divisor(void) { return GC_free_space_divisor; }
void GC_set_max_retries(GC_word n) { GC_max_retries = n; }
GC_word GC_get_max_retries(void) { return GC_max_retries; }
void GC_set_dont_expand(int value) { GC_dont_expand = value; }
int GC_get_dont_expand(void) { return GC_dont_expand; }
void GC_set_dont_precollect(int value) { GC_dont_precollect = value; }
int GC_get_dont_precollect(void) { return GC_dont_precollect; }
void GC_set_full_freq(int value) { GC_full_freq = value; }
int GC_get_full_freq(void) { return GC_full_freq; }
void GC_set_no_dls(int value) { GC_no_dls = value; }
int GC_get_no_dls(void) { return GC_no_dls; }
void GC_set_non_gc_bytes(GC_word value) { GC_non_gc_bytes = value; }
GC_word GC_get_non_gc_bytes(void) { return GC_non_gc_bytes; }
/* Interior pointers are always recognised; what the setting changes is
 * the extra byte that makes past-the-end pointers interior ones too. */
void GC_set_all_interior_pointers(int value) { GC_all_interior_pointers = value != 0; }
int GC_get_all_interior_pointers(void) { return GC_all_interior_pointers; }
void GC_set_pages_executable(int value) { (void)value; }
int GC_get_pages_executable(void) { return 0; }

static GC_word allocd_per_finalizer = 10000, min_bytes_allocd = 1;
static int rate = 10, max_prior_attempts = 1, force_unmap;
void GC_set_allocd_bytes_per_finalizer(GC_word v) { allocd_per_finalizer = v; }
GC_word GC_get_allocd_bytes_per_finalizer(void) { return allocd_per_finalizer; }
void GC_set_min_bytes_allocd(size_t v) { min_bytes_allocd = v ? v : 1; }
size_t GC_get_min_bytes_allocd(void) { return min_bytes_allocd; }
void GC_set_rate(int v) { rate = v; }
int GC_get_rate(void) { return rate; }
void GC_set_max_prior_attempts(int v) { max_prior_attempts = v; }
int GC_get_max_prior_attempts(void) { return max_prior_attempts; }
void GC_set_force_unmap_on_gcollect(int v) { force_unmap = v; }
int GC_get_force_unmap_on_gcollect(void) { return force_unmap; }

static GC_abort_func abort_func = default_abort;
void GC_set_abort_func(GC_abort_func fn) { abort_func = fn; GC_on_abort = abort_func; }
GC_abort_func GC_get_abort_func(void) { return abort_func; }

void GC_set_on_heap_resize(GC_on_heap_resize_proc fn) { GC_on_heap_resize = fn; }
GC_on_heap_resize_proc GC_get_on_heap_resize(void) { return GC_on_heap_resize; }

static GC_on_thread_event_proc thread_event_fn;
void GC_set_on_thread_event(GC_on_thread_event_proc fn) { thread_event_fn = fn; }
GC_on_thread_event_proc GC_get_on_thread_event(void) { return thread_event_fn; }

void GC_set_markers_count(unsigned n) { pargc_tracer_set_threads(n); }
int GC_get_parallel(void) { return pargc_tracer_threads() > 1; }

/* The signals are chosen by PARGC_SIG_SUSPEND / PARGC_SIG_RESTART before
 * start-up; the setters apply when called before GC_init. */
void GC_set_suspend_signal(int sig)
{
  if (!atomic_load(&pargc_collect_ready) && sig > 0 && sig <= 64)
    pargc_opt.sig_suspend = sig;
}
void GC_set_thr_restart_signal(int sig)
{
  if (!atomic_load(&pargc_collect_ready) && sig > 0 && sig <= 64)
    pargc_opt.sig_restart = sig;
}
int GC_get_suspend_signal(void) { return (int)pargc_opt.sig_suspend; }
int GC_get_thr_restart_signal(void) { return (int)pargc_opt.sig_restart; }

void GC_abort_on_oom(void)
{
  fprintf(stderr, "GC_abort_on_oom: out of memory\n");
  abort();
}

void GC_ignore_warn_proc(char *msg, GC_word arg)
{
  (void)msg;
  (void)arg;
}

static int log_fd = 2;
void GC_set_log_fd(int fd) { log_fd = fd; }

static void vlog(int fd, const char *fmt, va_list ap)
{
  char buf[1024];
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  if (n > 0) {
    size_t len = (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1;
    ssize_t w = write(fd, buf, len);
    (void)w;
  }
}

/* Boehm GC internals (exported, undeclared): printf-style output to
 * stdout, the log and stderr. */
GC_API void GC_printf(const char *fmt, ...);
GC_API void GC_log_printf(const char *fmt, ...);
GC_API void GC_err_printf(const char *fmt, ...);
void GC_printf(const char *fmt, ...) { va_list ap; va_start(ap, fmt); vlog(1, fmt, ap); va_end(ap); }
void GC_log_printf(const char *fmt, ...) { va_list ap; va_start(ap, fmt); vlog(log_fd, fmt, ap); va_end(ap); }
void GC_err_printf(const char *fmt, ...) { va_list ap; va_start(ap, fmt); vlog(2, fmt, ap); va_end(ap); }

/* ---- statistics ----------------------------------------------------------- */

static _Atomic size_t expl_freed;
GC_API void GC_incr_bytes_allocd(size_t n);
GC_API void GC_incr_bytes_freed(size_t n);
void GC_incr_bytes_allocd(size_t n)
{
  atomic_fetch_add(&pargc_heap.bytes_since_gc, n);
  atomic_fetch_add(&pargc_heap.bytes_total, n);
}
void GC_incr_bytes_freed(size_t n) { atomic_fetch_add(&expl_freed, n); }
size_t GC_get_expl_freed_bytes_since_gc(void) { return atomic_load(&expl_freed); }

unsigned GC_get_version(void)
{
  return (GC_VERSION_MAJOR << 16) | (GC_VERSION_MINOR << 8) | GC_VERSION_MICRO;
}

size_t GC_get_obtained_from_os_bytes(void)
{
  return atomic_load(&pargc_region.top) * PARGC_PAGE_SIZE;
}

size_t GC_get_memory_use(void)
{
  size_t heap = GC_get_heap_size(), fr = GC_get_free_bytes();
  return heap > fr ? heap - fr : 0;
}

void GC_get_heap_usage_safe(GC_word *pheap, GC_word *pfree, GC_word *punmapped, GC_word *psince,
                            GC_word *ptotal)
{
  if (pheap)
    *pheap = GC_get_heap_size();
  if (pfree)
    *pfree = GC_get_free_bytes();
  if (punmapped)
    *punmapped = GC_get_unmapped_bytes();
  if (psince)
    *psince = GC_get_bytes_since_gc();
  if (ptotal)
    *ptotal = GC_get_total_bytes();
}

size_t GC_get_prof_stats_unsafe(struct GC_prof_stats_s *out, size_t size)
{
  struct GC_prof_stats_s st;
  memset(&st, 0xff, sizeof st);
  st.heapsize_full = GC_get_heap_size() + GC_get_unmapped_bytes();
  st.free_bytes_full = GC_get_free_bytes() + GC_get_unmapped_bytes();
  st.unmapped_bytes = GC_get_unmapped_bytes();
  st.bytes_allocd_since_gc = GC_get_bytes_since_gc();
  st.allocd_bytes_before_gc = GC_get_total_bytes() - st.bytes_allocd_since_gc;
  st.non_gc_bytes = GC_non_gc_bytes;
  st.gc_no = GC_get_gc_no();
  st.markers_m1 = pargc_tracer_threads() - 1;
  st.expl_freed_bytes_since_gc = atomic_load(&expl_freed);
  st.obtained_from_os_bytes = GC_get_obtained_from_os_bytes();
  if (size > sizeof st) {
    memset((char *)out + sizeof st, 0xff, size - sizeof st);
    size = sizeof st;
  }
  memcpy(out, &st, size);
  return size;
}

size_t GC_get_prof_stats(struct GC_prof_stats_s *out, size_t size)
{
  return GC_get_prof_stats_unsafe(out, size);
}

static uint64_t perf_start_us;
static int perf_on;
void GC_start_performance_measurement(void)
{
  perf_on = 1;
  perf_start_us = pargc_totals.pause_total_us;
}
unsigned long GC_get_full_gc_total_time(void)
{
  return perf_on ? (unsigned long)((pargc_totals.pause_total_us - perf_start_us) / 1000) : 0;
}

size_t GC_get_size_map_at(int i)
{
  if (i < 0 || (size_t)i > PARGC_SMALL_MAX)
    return 0;
  return pargc_sizeclasses[pargc_sizeclass_of(i ? (size_t)i : 1)].size;
}

/* ---- object and pointer checks ------------------------------------------- */

void *GC_same_obj(void *p, void *q)
{
  void *bp = GC_base(p);
  if (!bp)
    return p;
  if (GC_base(q) != bp)
    GC_same_obj_print_proc(p, q);
  return p;
}

void *GC_pre_incr(void **p, ptrdiff_t how_much)
{
  void *initial = *p;
  void *result = GC_same_obj((char *)initial + how_much, initial);
  *p = result;
  return result;
}

void *GC_post_incr(void **p, ptrdiff_t how_much)
{
  void *initial = *p;
  *p = GC_same_obj((char *)initial + how_much, initial);
  return initial;
}

void *GC_is_valid_displacement(void *p)
{
  if (GC_is_heap_ptr(p) && !GC_base(p))
    GC_is_valid_displacement_print_proc(p);
  return p; /* every interior pointer is valid in pargc */
}

void *GC_is_visible(void *p)
{
  return p; /* pargc scans all static data, stacks and heap objects */
}

void GC_register_displacement(size_t offset) { (void)offset; }

int GC_is_tmp_root(void *p)
{
  (void)p;
  return 0; /* pargc has no temporary roots */
}

void GC_register_has_static_roots_callback(GC_has_static_roots_func fn) { (void)fn; }
void GC_register_describe_type_fn(int kind, GC_describe_type_fn fn) { (void)kind; (void)fn; }
void GC_register_altstack(void *stack, GC_word stack_size, void *altstack, GC_word altstack_size)
{
  (void)stack; (void)stack_size; (void)altstack; (void)altstack_size;
}

void GC_noop1(GC_word x)
{
  __asm__ __volatile__("" : : "r"(x) : "memory");
}

void *GC_clear_stack(void *arg)
{
  volatile char buf[2048];
  memset((char *)buf, 0, sizeof buf);
  __asm__ __volatile__("" : : "r"(buf) : "memory");
  return arg;
}

void GC_deinit(void)
{
  /* pargc keeps its heap until exit; nothing to release early. */
}

void GC_enumerate_reachable_objects_inner(GC_reachable_object_proc proc, void *cd)
{
  for (struct pargc_page *pg = NULL; (pg = pargc_pagemap_next_in_use(pg));) {
    const uint64_t *marks = pargc_page_marks(pg);
    for (uint32_t i = 0; i < pg->nobjs; i++)
      if (pargc_mark_test(marks, i))
        proc((void *)pargc_page_object_addr(pg, i), pg->size, cd);
  }
}

/* ---- dumps ----------------------------------------------------------------- */

void GC_dump_regions(void)
{
  size_t top = atomic_load(&pargc_region.top);
  fprintf(stderr, "Heap: %p, %zu pages of %zu KiB handed out, %zu committed\n",
          (void *)pargc_region.base, top, PARGC_PAGE_SIZE / 1024,
          (size_t)atomic_load(&pargc_heap.committed));
}

void GC_print_free_list(int kind, size_t sz_in_granules)
{
  fprintf(stderr, "Free list of kind %d, %zu granules: per-thread in pargc, not printed\n", kind,
          sz_in_granules);
}

void GC_dump_named(const char *name)
{
  if (name)
    fprintf(stderr, "***GC Dump %s\n", name);
  else
    fprintf(stderr, "***GC Dump collection #%lu\n", (unsigned long)GC_get_gc_no());
  fprintf(stderr, "Heap size: %zu, free: %zu, unmapped: %zu\n", GC_get_heap_size(),
          GC_get_free_bytes(), GC_get_unmapped_bytes());
  GC_dump_regions();
  GC_dump_finalization();
}

void GC_dump(void) { GC_dump_named(NULL); }

void pargc_misc_install(void)
{
  if (pargc_opt.print_verbose_stats) /* GC_PRINT_VERBOSE_STATS */
    pargc_opt.print_stats = 1;
  pargc_collect_add_root_hook(misc_root_hook);
}
