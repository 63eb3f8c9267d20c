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
#include "api/compat.h"
#include "api/init.h"
#include "gc/collect.h"
#include "gc/concurrent.h"
#include "gc/dirty.h"
#include "gc/roots.h"
#include "gc/stats.h"
#include "gc/threads.h"
#include "gc/threads_internal.h"
#include "gc/tracer.h"
#include "alloc/hooks.h"
#include "alloc/options.h"
#include "alloc/os.h"
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
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DATA __attribute__((section(".data")))

/* ---- Boehm GC's variables -------------------------------------------------- */

int GC_all_interior_pointers = 1;
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
 * that reference it link; pargc keeps nothing in it, and it is not a
 * root (pargc_misc_install). */
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
  char *q = (char *)(((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1));
  /* With interior pointers off, the returned pointer must still keep the
   * object alive (Boehm GC registers the offset too). */
  if (q != p)
    GC_register_displacement((size_t)(q - p));
  return q;
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
 * plain pointers (GC_NEXT): what the thread's free list of that class
 * holds, refilled once if it was empty (a page's worth for small sizes),
 * up to about 4 KiB of objects; one object for large sizes. */
void GC_generic_malloc_many(size_t lb, int k, void **result)
{
  unsigned kind = pargc_kind_from_api(k);
  *result = NULL;
  if (kind >= PARGC_MAX_KINDS)
    return;
  if (lb < sizeof(void *))
    lb = sizeof(void *);
  size_t max = lb <= 1024 ? 4096 / lb : 4;
  pargc_init();
  *result = pargc_alloc_batch(lb, kind, max);
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
void GC_alloc_lock(void) { pargc_init(); pargc_lock(&pargc_collect_lock); }
void GC_alloc_unlock(void) { pargc_unlock(&pargc_collect_lock); }

void *GC_call_with_alloc_lock(GC_fn_type fn, void *cd)
{
  GC_alloc_lock();
  void *r = fn(cd);
  GC_alloc_unlock();
  return r;
}

void GC_stop_world_external(void)
{
  pargc_init();
  pargc_lock(&pargc_collect_lock);
  pargc_threads_stop_world();
}

void GC_start_world_external(void)
{
  pargc_threads_start_world();
  pargc_unlock(&pargc_collect_lock);
}

/* Under the collector's lock, as Boehm GC takes its allocation lock: a
 * collection reads the corrector with the world stopped, under it. */
void GC_set_sp_corrector(GC_sp_corrector_proc fn)
{
  pargc_init();
  pargc_lock(&pargc_collect_lock);
  pargc_threads_sp_corrector = fn;
  pargc_unlock(&pargc_collect_lock);
}

GC_sp_corrector_proc GC_get_sp_corrector(void)
{
  pargc_init();
  pargc_lock(&pargc_collect_lock);
  GC_sp_corrector_proc fn = pargc_threads_sp_corrector;
  pargc_unlock(&pargc_collect_lock);
  return fn;
}

/* javaxfc.h thread suspension; gc/stop.c does the work.  The collector's
 * lock, the concurrent cycle's and the allocator's are taken first, as Boehm GC takes its
 * allocation lock: the thread is then never suspended in the middle of a
 * collection, or holding a lock another thread's allocation would wait
 * for until it is resumed. */
static void suspend_release_locks(void)
{
  pargc_alloc_unlock_all();
  pargc_conc_lock_release();
  pargc_unlock(&pargc_collect_lock);
}

void GC_suspend_thread(GC_SUSPEND_THREAD_ID thread)
{
  pargc_init();
  pargc_collect_lock_idle();
  pargc_conc_lock_hold();
  pargc_alloc_lock_all();
  pargc_threads_suspend((pthread_t)thread, suspend_release_locks);
}

void GC_resume_thread(GC_SUSPEND_THREAD_ID thread)
{
  pargc_threads_resume((pthread_t)thread);
}

int GC_is_thread_suspended(GC_SUSPEND_THREAD_ID thread)
{
  return pargc_threads_is_suspended((pthread_t)thread);
}

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
  /* Never given up (Boehm GC passes its never-stop function here). */
  pargc_init();
  pargc_collect_full(NULL);
  pargc_heap_decommit(true);
}

/* The stop function of GC_gcollect and of the collections allocation
 * starts (gc/collect.c asks it while marking). */
static int GC_CALLBACK never_stop(void) { return 0; }

void GC_set_stop_func(GC_stop_func fn)
{
  stop_func = fn == never_stop ? NULL : fn;
  pargc_collect_stop_fn = stop_func;
}
/* As Boehm GC, a function even when none was set: a program may chain
 * to the one it replaces. */
GC_stop_func GC_get_stop_func(void) { return stop_func ? stop_func : never_stop; }
PARGC_API_SETTING(GC_start_callback_proc, start_callback, start_cb)

/* Before the world is stopped (gc/collect.h, pargc_collect_start_hook). */
static void misc_start_hook(void)
{
  GC_start_callback_proc cb = start_cb;
  if (cb)
    cb();
}

static void misc_root_hook(void)
{
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
/* Boehm GC scans an eager range as it scans stacks: a word pointing into
 * an object's middle keeps it whatever GC_all_interior_pointers says. */
void GC_push_all_eager(void *bottom, void *top)
{
  uintptr_t lo = ((uintptr_t)bottom + 7) & ~(uintptr_t)7, hi = (uintptr_t)top & ~(uintptr_t)7;
  for (uintptr_t p = lo; p < hi; p += 8)
    pargc_tracer_mark_stack_pointer(*(uintptr_t *)p);
}

/* Incremental mode is pargc's mostly-concurrent mode (gc/concurrent.h). */
void GC_enable_incremental(void)
{
  pargc_init();
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
  pargc_init();
  if (pargc_conc_enabled())
    pargc_conc_start();
}
/* Boehm GC does a bounded unit of collection work and says whether a
 * collection is still in progress.  Stop-parallel: a collection is one
 * unit, run if enough was allocated since the last one (as an
 * allocation would start it); 0 -- and so in concurrent mode on a
 * small heap, which collects stopped (gc/concurrent.h).  Concurrent
 * cycles (or a cycle GC_start_incremental_collection started on a small
 * heap): the marking runs on pargc's GC threads; this starts a cycle if
 * one is due, and says whether one is running (a caller looping until 0
 * waits for it, yielding the processor to the GC threads meanwhile). */
int GC_collect_a_little(void)
{
  pargc_init();
  if (GC_dont_gc || pargc_collect_is_disabled())
    return 0;
  bool due = GC_get_bytes_since_gc() >= pargc_heap_trigger_threshold();
  if (pargc_conc_cycles() || pargc_conc_running()) {
    if (!pargc_conc_running() && due && !pargc_collect_auto_disabled)
      pargc_conc_trigger();
    if (!pargc_conc_running())
      return 0;
    /* The unit of work: the caller gives the GC threads the processor
     * for up to GC_set_time_limit's limit (once, without one). */
    uint64_t limit = pargc_collect_time_limit_ns();
    uint64_t end = pargc_os_now_ns() + limit;
    do
      sched_yield();
    while (limit && pargc_conc_running() && pargc_os_now_ns() < end);
    return pargc_conc_running();
  }
  if (due && !pargc_collect_auto_disabled)
    pargc_collect_now();
  return 0;
}
void GC_set_manual_vdb_allowed(int value) { pargc_dirty_allow_manual(value != 0); }
int GC_get_manual_vdb_allowed(void) { return pargc_dirty_manual_allowed(); }

static struct GC_timeval_s time_limit_tv = {GC_TIME_UNLIMITED, 0};
void GC_set_time_limit(unsigned long ms) { GC_time_limit = ms; time_limit_tv.tv_ms = ms; time_limit_tv.tv_nsec = 0; }
unsigned long GC_get_time_limit(void) { return GC_time_limit; }
void GC_set_time_limit_tv(struct GC_timeval_s tv) { time_limit_tv = tv; GC_time_limit = tv.tv_ms; }
struct GC_timeval_s GC_get_time_limit_tv(void)
{
  /* GC_time_limit may have been written directly since. */
  struct GC_timeval_s tv = {GC_time_limit, time_limit_tv.tv_ms == GC_time_limit ? time_limit_tv.tv_nsec : 0};
  return tv;
}

/* ---- settings ------------------------------------------------------------ */

/* Boehm's policy variables are the storage: the setters write them, and
 * programs may write them directly; the heap policy reads them at each
 * decision (alloc/heap.h, pargc_heap_settings; pargc_misc_install). */
void GC_set_free_space_divisor(GC_word value)
{
  if (value < 1)
    value = 1;
  GC_free_space_divisor = value;
  pargc_init();
  pargc_opt.free_space_divisor = (int64_t)value;
  pargc_opt.given.free_space_divisor = true; /* Boehm's sizing from now on */
}
GC_word GC_get_free_space_divisor(void) { return GC_free_space_divisor; }
PARGC_API_SETTING(GC_word, max_retries, GC_max_retries)
PARGC_API_SETTING(int, dont_expand, GC_dont_expand)
PARGC_API_SETTING(int, dont_precollect, GC_dont_precollect)
PARGC_API_SETTING(int, full_freq, GC_full_freq)
PARGC_API_SETTING(int, no_dls, GC_no_dls)
PARGC_API_SETTING(GC_word, non_gc_bytes, GC_non_gc_bytes)
/* Interior pointers are always recognised; what the setting changes is
 * the extra byte that makes past-the-end pointers interior ones too. */
void GC_set_all_interior_pointers(int value) { GC_all_interior_pointers = value != 0; }
int GC_get_all_interior_pointers(void) { return GC_all_interior_pointers; }
/* As in Boehm GC: heap pages are executable only if this is set before
 * the collector initialises (the heap is reserved then, in one mapping);
 * later calls change nothing. */
void GC_set_pages_executable(int value)
{
  if (!atomic_load(&pargc_alloc_ready))
    pargc_os_heap_exec = value != 0;
}
int GC_get_pages_executable(void) { return pargc_os_heap_exec; }

static GC_word allocd_per_finalizer = 10000;
static size_t min_bytes_allocd = 1;
static int rate = 10, max_prior_attempts = 1;
PARGC_API_SETTING(GC_word, allocd_bytes_per_finalizer, allocd_per_finalizer)
void GC_set_min_bytes_allocd(size_t v) { min_bytes_allocd = v ? v : 1; }
size_t GC_get_min_bytes_allocd(void) { return min_bytes_allocd; }
PARGC_API_SETTING(int, rate, rate)
PARGC_API_SETTING(int, max_prior_attempts, max_prior_attempts)
void GC_set_force_unmap_on_gcollect(int v) { pargc_collect_force_unmap = v != 0; }
int GC_get_force_unmap_on_gcollect(void) { return pargc_collect_force_unmap; }

static GC_abort_func abort_func = default_abort;
void GC_set_abort_func(GC_abort_func fn) { abort_func = fn; GC_on_abort = abort_func; }
GC_abort_func GC_get_abort_func(void) { return abort_func; }

/* Read at each call: programs may also write GC_on_heap_resize. */
static void heap_resized(size_t heap_bytes)
{
  GC_on_heap_resize_proc fn = GC_on_heap_resize;
  if (fn)
    fn((GC_word)heap_bytes);
}
PARGC_API_SETTING(GC_on_heap_resize_proc, on_heap_resize, GC_on_heap_resize)

/* Thread events come from the stop (gc/stop.c), with Boehm's numbers. */
_Static_assert((int)PARGC_THREAD_EV_SUSPENDED == (int)GC_EVENT_THREAD_SUSPENDED &&
                   (int)PARGC_THREAD_EV_UNSUSPENDED == (int)GC_EVENT_THREAD_UNSUSPENDED,
               "thread event numbers");
static GC_on_thread_event_proc thread_event_fn;
static void thread_event(int event, void *thread)
{
  GC_on_thread_event_proc fn = thread_event_fn;
  if (fn)
    fn((GC_EventType)event, thread);
}
void GC_set_on_thread_event(GC_on_thread_event_proc fn)
{
  thread_event_fn = fn;
  pargc_threads_event_fn = fn ? thread_event : NULL;
}
GC_on_thread_event_proc GC_get_on_thread_event(void) { return thread_event_fn; }

void GC_set_markers_count(unsigned n)
{
  pargc_tracer_set_threads(n);
  GC_parallel = pargc_tracer_threads() > 1;
}
int GC_get_parallel(void) { return pargc_tracer_threads() > 1; }

/* The signals are chosen by PARGC_SIG_SUSPEND / PARGC_SIG_RESTART before
 * start-up; the setters apply when called before GC_init. */
void GC_set_suspend_signal(int sig)
{
  if (!atomic_load(&pargc_init_ready) && sig > 0 && sig <= 64)
    pargc_opt.sig_suspend = sig;
}
void GC_set_thr_restart_signal(int sig)
{
  if (!atomic_load(&pargc_init_ready) && sig > 0 && sig <= 64)
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

void GC_set_log_fd(int fd) { pargc_stats_log_fd = fd; }

/* GC_ONLY_LOG_TO_FILE (with GC_LOG_FILE): GC_printf and GC_err_printf
 * write to the log too. */
static int out_fd(int fd)
{
  return pargc_opt.only_log_to_file && pargc_opt.log_file[0] ? pargc_stats_log_fd : fd;
}

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
void GC_printf(const char *fmt, ...) { va_list ap; va_start(ap, fmt); vlog(out_fd(1), fmt, ap); va_end(ap); }
void GC_log_printf(const char *fmt, ...) { va_list ap; va_start(ap, fmt); vlog(pargc_stats_log_fd, fmt, ap); va_end(ap); }
void GC_err_printf(const char *fmt, ...) { va_list ap; va_start(ap, fmt); vlog(out_fd(2), fmt, ap); va_end(ap); }

/* ---- statistics ----------------------------------------------------------- */

/* Explicitly freed bytes.  The allocator counts GC_free per thread, for
 * ever (pargc_tctx_freed_bytes), which costs the free fast path one add
 * and no shared write; GC_incr_bytes_freed adds to expl_freed_extra.  "Since the last
 * collection" is the total less the one each collection records with
 * the world stopped (an after-mark hook): no free can fall between the
 * reading and the reset, as it could if each counter were zeroed. */
static _Atomic uint64_t expl_freed_extra, expl_freed_at_gc;

static uint64_t expl_freed_total(void)
{
  return pargc_tctx_freed_bytes() + atomic_load_explicit(&expl_freed_extra, memory_order_relaxed);
}

/* Bytes the sweeps reclaimed (alloc/heap.h, reclaimed_total) when the
 * last collection's mark ended: before it, and since (its own sweep). */
static _Atomic uint64_t reclaimed_at_gc;

static void expl_freed_after_mark(void)
{
  atomic_store_explicit(&expl_freed_at_gc, expl_freed_total(), memory_order_release);
  atomic_store_explicit(&reclaimed_at_gc, atomic_load(&pargc_heap.reclaimed_total),
                        memory_order_release);
}

size_t GC_get_expl_freed_bytes_since_gc(void)
{
  uint64_t at_gc = atomic_load_explicit(&expl_freed_at_gc, memory_order_acquire);
  uint64_t total = expl_freed_total(); /* read after: at least at_gc */
  return total > at_gc ? (size_t)(total - at_gc) : 0;
}

GC_API void GC_incr_bytes_allocd(size_t n);
GC_API void GC_incr_bytes_freed(size_t n);
void GC_incr_bytes_allocd(size_t n)
{
  atomic_fetch_add(&pargc_heap.bytes_since_gc, n);
  atomic_fetch_add(&pargc_heap.bytes_total, n);
}
void GC_incr_bytes_freed(size_t n) { atomic_fetch_add(&expl_freed_extra, n); }

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
  st.expl_freed_bytes_since_gc = GC_get_expl_freed_bytes_since_gc();
  uint64_t at_gc = atomic_load_explicit(&reclaimed_at_gc, memory_order_acquire);
  uint64_t reclaimed = atomic_load(&pargc_heap.reclaimed_total); /* read after: >= at_gc */
  st.reclaimed_bytes_before_gc = at_gc;
  st.bytes_reclaimed_since_gc = reclaimed > at_gc ? reclaimed - at_gc : 0;
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

/* Would the marker follow p to an object?  In the heap: inside an
 * object, and, with interior pointers off, at its start or a registered
 * displacement.  Outside the heap: nothing to check. */
void *GC_is_valid_displacement(void *p)
{
  pargc_init();
  if (!p || !GC_is_heap_ptr(p))
    return p;
  char *base = GC_base(p);
  if (!base || (pargc_tracer_base_only() &&
                !pargc_tracer_valid_displacement((size_t)((char *)p - base))))
    GC_is_valid_displacement_print_proc(p);
  return p;
}

/* Is p on the stack of a registered thread (its cold end down to its
 * lowest mapped address, or 8 MiB below the cold end when unknown)? */
static bool on_some_stack(const void *p)
{
  const char *c = p;
  bool on = false;
  pargc_threads_lock();
  for (struct pargc_thread *t = pargc_threads_list; t && !on; t = t->next) {
    char *lo, *hi = pargc_thread_stack_bounds(t, &lo);
    on = c >= (lo ? lo : hi - ((size_t)8 << 20)) && c < hi;
  }
  pargc_threads_unlock();
  /* The calling thread, registered or not: from below its frame (a red
   * zone's worth) to the cold end. */
  uintptr_t sp = (uintptr_t)__builtin_frame_address(0) - 4096;
  const char *base = pargc_threads_self_stack_base();
  return on || (base && (uintptr_t)c >= sp && c < base);
}

/* Would the collector see a pointer stored at p?  An aligned word of a
 * heap object, of a thread's stack, of the static data scanned or of a
 * GC_add_roots range: yes.  A misaligned address, a heap address outside
 * any object, or memory the collector does not scan (malloc's, an
 * excluded segment): no -- GC_is_visible_print_proc is called (Boehm
 * GC's answers for the same cases). */
void *GC_is_visible(void *p)
{
  pargc_init();
  bool visible;
  if ((uintptr_t)p & (sizeof(void *) - 1))
    visible = false;
  else if (GC_is_heap_ptr(p))
    visible = GC_base(p) != NULL;
  else
    visible = on_some_stack(p) || pargc_roots_is_user_root(p) || pargc_roots_is_scanned_static(p);
  if (!visible)
    GC_is_visible_print_proc(p);
  return p;
}

/* Boehm GC: with interior pointers off, a pointer at offset `offset` of
 * an object keeps it alive too (gc/tracer.h).  Accepted and useless
 * while interior pointers are on, as in Boehm GC. */
void GC_register_displacement(size_t offset) { pargc_tracer_register_displacement(offset); }

static int interior_pointers(void) { return GC_all_interior_pointers; }

/* Boehm GC registers the data of the program and of every library anew
 * at each collection, as temporary roots: so does pargc (gc/roots.c). */
int GC_is_tmp_root(void *p)
{
  pargc_init();
  return pargc_roots_is_scanned_static(p);
}

void GC_register_has_static_roots_callback(GC_has_static_roots_func fn)
{
  pargc_roots_filter = fn;
}
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

static const char *const state_names[] = {"unused", "free", "small", "large", "tail"};

/* One line per run of pages: maximal runs of free pages as one line
 * (with how much of them is given back to the OS), each span and each
 * large object as its own, as Boehm GC prints its heap sections and
 * free blocks (on stdout, as Boehm GC's GC_printf).  Read with the collector's lock held: no collection
 * changes the layout meanwhile; threads may still take free runs. */
void GC_dump_regions(void)
{
  pargc_init();
  pargc_lock(&pargc_collect_lock);
  size_t top = atomic_load(&pargc_region.top);
  fprintf(stdout, "Heap: %p, %zu pages of %zu KiB handed out, %zu committed\n",
          (void *)pargc_region.base, top, PARGC_PAGE_SIZE / 1024,
          pargc_heap_committed_pages());
  size_t free_from = SIZE_MAX, free_pages = 0, free_returned = 0;
  for (size_t i = 0; i <= top;) {
    const struct pargc_page *pg = i < top ? &pargc_region.pages[i] : NULL;
    uint8_t st = pg ? atomic_load(&pg->state) : PARGC_PAGE_UNUSED;
    size_t n = pg && st != PARGC_PAGE_TAIL && pg->pages ? pg->pages : 1;
    if (st == PARGC_PAGE_FREE) {
      if (free_from == SIZE_MAX)
        free_from = i;
      free_pages += n;
      free_returned += pg->decommitted ? n : 0;
    } else if (free_from != SIZE_MAX) {
      fprintf(stdout, "  %p-%p: %zu pages free (%zu returned to the OS)\n",
              (void *)(pargc_region.base + free_from * PARGC_PAGE_SIZE),
              (void *)(pargc_region.base + (free_from + free_pages) * PARGC_PAGE_SIZE), free_pages,
              free_returned);
      free_from = SIZE_MAX;
      free_pages = free_returned = 0;
    }
    if (!pg)
      break;
    if (st == PARGC_PAGE_SMALL || st == PARGC_PAGE_LARGE) {
      const uint64_t *marks = pargc_page_marks(pg);
      size_t marked = 0;
      for (uint32_t k = 0; k < pg->nobjs; k++)
        marked += pargc_mark_test(marks, k);
      fprintf(stdout, "  %p-%p: %zu pages %s, kind %d, %u-byte objects: %u, %zu marked\n",
              (void *)(pargc_region.base + i * PARGC_PAGE_SIZE),
              (void *)(pargc_region.base + (i + n) * PARGC_PAGE_SIZE), n, state_names[st],
              pargc_kind_to_api(pg->kind), (unsigned)pg->size, (unsigned)pg->nobjs, marked);
    } else if (st != PARGC_PAGE_FREE) {
      fprintf(stdout, "  %p: %s\n", (void *)(pargc_region.base + i * PARGC_PAGE_SIZE),
              state_names[st < 5 ? st : 0]);
    }
    i += n;
  }
  pargc_unlock(&pargc_collect_lock);
  fflush(stdout);
}

static void print_free_object(void *obj, void *arg)
{
  (void)arg;
  struct pargc_page *pg = NULL;
  int32_t i = pargc_pagemap_object((uintptr_t)obj, &pg);
  if (i < 0)
    fprintf(stdout, "  %p (not an object: the list is damaged)\n", obj);
  else
    fprintf(stdout, "  %p (span at %p, object %d)\n", obj, (void *)pargc_page_addr(pg), (int)i);
}

/* The calling thread's free list for the kind and size: pargc's free
 * lists are per thread (other threads' are theirs to change). */
void GC_print_free_list(int kind, size_t sz_in_granules)
{
  unsigned k = pargc_kind_from_api(kind);
  size_t bytes = sz_in_granules * GC_GRANULE_BYTES;
  fprintf(stdout, "Free list of kind %d, %zu granules (this thread's):\n", kind, sz_in_granules);
  size_t n = k < PARGC_MAX_KINDS ? pargc_tctx_free_list_each(k, bytes, print_free_object, NULL) : 0;
  fprintf(stdout, "  %zu free objects\n", n);
  fflush(stdout);
}

void GC_dump_named(const char *name)
{
  if (name)
    fprintf(stdout, "***GC Dump %s\n", name);
  else
    fprintf(stdout, "***GC Dump collection #%lu\n", (unsigned long)GC_get_gc_no());
  fprintf(stdout, "Heap size: %zu, free: %zu, unmapped: %zu\n", GC_get_heap_size(),
          GC_get_free_bytes(), GC_get_unmapped_bytes());
  GC_dump_regions();
  GC_dump_finalization();
}

void GC_dump(void) { GC_dump_named(NULL); }

/* ---- the heap policy's settings ----------------------------------------- */

static bool misc_dont_expand(void) { return GC_dont_expand != 0; }

/* GC_time_limit is read at each use: programs may write it directly. */
static uint64_t misc_time_limit_ns(void)
{
  unsigned long ms = GC_time_limit;
  if (ms == GC_TIME_UNLIMITED)
    return 0;
  uint64_t ns = (uint64_t)ms * 1000000u;
  if (time_limit_tv.tv_ms == ms)
    ns += time_limit_tv.tv_nsec;
  return ns ? ns : 1;
}

static int misc_max_prior_attempts(void) { return max_prior_attempts; }

/* Collect rather than grow (alloc/heap.h): GC_dont_expand, or many
 * finalizers registered for the bytes allocated since the last
 * collection (GC_set_allocd_bytes_per_finalizer), as Boehm GC's
 * GC_collect_or_expand decides outside incremental mode. */
static bool heap_collect_first(void)
{
  if (pargc_conc_cycles())
    return false;
  if (GC_dont_expand)
    return true;
  size_t since = atomic_load_explicit(&pargc_heap.bytes_since_gc, memory_order_relaxed);
  return pargc_finalize_wants_collection(since, allocd_per_finalizer);
}

/* GC_max_retries: an allocation that found no memory collects again up
 * to this many times before the out-of-memory handler is called. */
static bool alloc_retry(unsigned attempt)
{
  if (attempt >= GC_max_retries)
    return false;
  pargc_warn("Out of Memory!  Trying to continue...");
  return pargc_collect_now();
}

/* Boehm GC reads these environment variables at GC_init, over what the
 * program stored before. */
static void settings_from_environment(void)
{
  if (pargc_opt.given.free_space_divisor)
    GC_free_space_divisor = (GC_word)pargc_opt.free_space_divisor;
  if (pargc_opt.given.full_frequency && pargc_opt.full_frequency > 0)
    GC_full_freq = (int)pargc_opt.full_frequency;
  if (pargc_opt.given.force_unmap_on_gcollect)
    pargc_collect_force_unmap = pargc_opt.force_unmap_on_gcollect;
  if (pargc_opt.given.use_entire_heap)
    GC_use_entire_heap = pargc_opt.use_entire_heap;
  if (pargc_opt.given.pause_time_target && pargc_opt.pause_time_target > 0)
    GC_set_time_limit((unsigned long)pargc_opt.pause_time_target);
}

/* GC_PRINT_ADDRESS_MAP: the process's mappings, at start-up, on the log
 * (Boehm GC prints the same file between these two lines). */
static void print_address_map(void)
{
  int out = pargc_stats_log_fd;
  static const char begin[] = "---------- Begin address map ----------\n";
  static const char end[] = "---------- End address map ----------\n";
  ssize_t w = write(out, begin, sizeof begin - 1);
  pargc_os_print_address_map(out);
  w = write(out, end, sizeof end - 1);
  (void)w;
}

void pargc_misc_install(void)
{
  settings_from_environment();
  pargc_stats_open_log();
  if (pargc_opt.print_address_map)
    print_address_map();
  pargc_roots_exclude_own(GC_arrays, sizeof GC_arrays);
  pargc_heap_settings.free_space_divisor = (const volatile size_t *)&GC_free_space_divisor;
  pargc_heap_settings.min_bytes_allocd = &min_bytes_allocd;
  pargc_heap_settings.non_gc_bytes = (const volatile size_t *)&GC_non_gc_bytes;
  pargc_heap_settings.use_entire_heap = &GC_use_entire_heap;
  pargc_heap_collect_first_hook = heap_collect_first;
  pargc_alloc_retry_hook = alloc_retry;
  pargc_heap_resize_hook = heap_resized;
  pargc_roots_no_dls = &GC_no_dls;
  pargc_tracer_interior_pointers = interior_pointers;
  pargc_collect_settings.dont_expand = misc_dont_expand;
  pargc_collect_settings.time_limit_ns = misc_time_limit_ns;
  pargc_collect_settings.max_prior_attempts = misc_max_prior_attempts;
  /* GC_stackbottom: the main thread's cold end of stack, which a program
   * may set before GC_INIT (Boehm GC then scans from there); else it
   * tells where pargc found it.  GC_parallel: read-only, as in Boehm. */
  if (pargc_os_is_main_thread()) {
    if (GC_stackbottom)
      pargc_threads_set_stack_base(NULL, GC_stackbottom);
    else
      GC_stackbottom = pargc_threads_self_stack_base();
    /* Read at every collection from now on, as Boehm GC does: programs
     * running fibers on the main thread write it at each switch. */
    pargc_threads_main_base = (char *volatile *)&GC_stackbottom;
  }
  GC_parallel = pargc_tracer_threads() > 1;
  if (pargc_opt.given.all_interior_pointers) /* present: on, as Boehm GC */
    GC_all_interior_pointers = 1;
  if (pargc_opt.print_verbose_stats) /* GC_PRINT_VERBOSE_STATS */
    pargc_opt.print_stats = 1;
  pargc_collect_add_root_hook(misc_root_hook);
  pargc_collect_start_hook = misc_start_hook;
  pargc_collect_add_after_mark_hook(expl_freed_after_mark);
}
