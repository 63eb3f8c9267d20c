/* api: the core GC_* entry points -- thin wrappers over alloc/ and the
 * collector.  Boehm GC's semantics are noted where they are not obvious.
 * The thread and root entry points live in api/api_threads.c. */
#include "config.h"
#include "alloc/hooks.h"
#include "alloc/options.h"
#include "alloc/os.h"
#include "alloc/page.h"
#include "alloc/report.h"
#include "alloc/thread.h"
#include "api/init.h"
#include "gc/collect.h"
#include "api/compat.h"
#include "gc/stats.h"

#include <gc/gc.h>
#include <string.h>

static void *api_oom(size_t bytes)
{
  /* As Boehm GC does, say so whatever the handler then does. */
  size_t limit = pargc_heap.max_heap ? pargc_heap.max_heap : pargc_region.reserve;
  pargc_warn("out of memory: %zu bytes wanted, heap %zu MiB of at most %zu MiB; "
             "the GC_set_oom_fn handler decides (default: return NULL)",
             bytes, pargc_heap_committed_bytes() >> 20, limit >> 20);
  GC_oom_func fn = GC_oom_fn;
  return fn ? fn(bytes) : NULL;
}

static inline void api_init(void)
{
  if (PARGC_UNLIKELY(!atomic_load_explicit(&pargc_init_ready, memory_order_acquire)))
    pargc_init();
}

void GC_init(void)
{
  static _Atomic int precollected;
  pargc_init();
  pargc_alloc_oom_hook = api_oom;
  pargc_tctx_get();
  /* As Boehm GC, the first GC_init collects once unless told not to
   * (GC_set_dont_precollect): false pointers into the heap-to-be are
   * black-listed before anything is allocated there, and the GC threads
   * start now rather than at the first collection. */
  if (!GC_dont_precollect && !atomic_exchange(&precollected, 1))
    pargc_collect_full(NULL);
}

int GC_is_init_called(void)
{
  return atomic_load(&pargc_init_ready);
}

void *GC_malloc(size_t size)
{
  return pargc_alloc(pargc_api_size(size), PARGC_KIND_NORMAL);
}

void *GC_malloc_atomic(size_t size)
{
  return pargc_alloc(pargc_api_size(size), PARGC_KIND_ATOMIC);
}

void *GC_malloc_uncollectable(size_t size)
{
  api_init();
  return pargc_alloc_slow(pargc_api_size(size), PARGC_KIND_UNCOLLECTABLE);
}

void *GC_malloc_atomic_uncollectable(size_t size)
{
  api_init();
  return pargc_alloc_slow(pargc_api_size(size), PARGC_KIND_ATOMIC_UNCOLLECTABLE);
}

void *GC_malloc_ignore_off_page(size_t size)
{
  return pargc_alloc(pargc_api_size(size), PARGC_KIND_NORMAL);
}

void *GC_malloc_atomic_ignore_off_page(size_t size)
{
  return pargc_alloc(pargc_api_size(size), PARGC_KIND_ATOMIC);
}

void GC_free(void *p)
{
  if (p)
    pargc_free(p);
}

void *GC_base(void *p)
{
  if (!atomic_load(&pargc_alloc_ready))
    return NULL;
  struct pargc_page *pg;
  int32_t i = pargc_pagemap_object((uintptr_t)p, &pg);
  if (i < 0)
    return NULL;
  return (void *)pargc_page_object_addr(pg, (uint32_t)i);
}

int GC_is_heap_ptr(const void *p)
{
  if (!atomic_load(&pargc_alloc_ready))
    return 0;
  struct pargc_page *pg = pargc_pagemap_lookup((uintptr_t)p);
  if (!pg)
    return 0;
  uint8_t st = atomic_load(&pg->state);
  return st == PARGC_PAGE_SMALL || st == PARGC_PAGE_LARGE;
}

size_t GC_size(const void *p)
{
  if (!atomic_load(&pargc_alloc_ready))
    return 0;
  struct pargc_page *pg;
  if (pargc_pagemap_object((uintptr_t)p, &pg) < 0)
    return 0;
  return pg->size;
}

void *GC_realloc(void *old, size_t size)
{
  if (!old)
    return GC_malloc(size);
  if (size == 0) {
    GC_free(old);
    return NULL;
  }
  struct pargc_page *pg;
  int32_t i = pargc_pagemap_object((uintptr_t)old, &pg);
  if (i < 0 || (uintptr_t)old != pargc_page_object_addr(pg, (uint32_t)i)) {
    pargc_warn("GC_realloc(%p): not the start of a heap object; returning NULL", old);
    return NULL;
  }
  void *typed;
  if (pargc_kinds_realloc_typed(old, size, &typed))
    return typed;
  size_t have = pg->size;
  unsigned kind = pg->kind;
  size_t need = pargc_api_size(size); /* with the past-the-end byte */
  /* Shrinking or growing within the same size class: keep the object,
   * clearing the bytes past the new end so stale pointers retain nothing. */
  if (need <= have && (need > PARGC_SMALL_MAX || pargc_sizeclass_of(need) == pg->sclass ||
                       atomic_load(&pg->state) == PARGC_PAGE_LARGE)) {
    if (pargc_kind_scanned[kind])
      memset((char *)old + size, 0, have - size);
    return old;
  }
  void *p = (kind == PARGC_KIND_NORMAL || kind == PARGC_KIND_ATOMIC)
                ? pargc_alloc(need, kind)
                : pargc_alloc_slow(need, kind);
  if (!p)
    return NULL;
  memcpy(p, old, have < size ? have : size);
  /* As Boehm GC 8.2 does: the caller gives up `old`, and the free counts
   * in GC_get_expl_freed_bytes_since_gc. */
  GC_free(old);
  return p;
}

/* Boehm GC: GC_gcollect is given up when the GC_set_stop_func function
 * says so (GC_try_to_collect with that function). */
void GC_gcollect(void)
{
  pargc_init();
  pargc_collect_full(pargc_collect_stop_fn);
}

int GC_try_to_collect(int (*stop)(void))
{
  pargc_init();
  return pargc_collect_full(stop) ? 1 : 0;
}

void GC_disable(void) { api_init(); pargc_collect_disable(); }
void GC_enable(void) { api_init(); pargc_collect_enable(); }
int GC_is_disabled(void) { return pargc_collect_is_disabled(); }

unsigned long GC_get_gc_no(void)
{
  return (unsigned long)atomic_load(&pargc_gc_no);
}

int GC_expand_hp(size_t bytes)
{
  api_init();
  /* Boehm GC maps the memory at once; here LPS takes it from the OS as
   * threads need it, and the collection policy counts it as free. */
  return pargc_heap_expand(bytes) ? 1 : 0;
}

void GC_set_max_heap_size(unsigned long bytes)
{
  api_init();
  pargc_heap.max_heap = bytes;
}

size_t GC_get_heap_size(void)
{
  return pargc_heap_committed_bytes();
}

size_t GC_get_free_bytes(void)
{
  size_t heap = GC_get_heap_size();
  /* Free runs are known exactly; free objects inside spans are found
   * lazily, so this is a lower bound between collections. */
  size_t free_pages = atomic_load(&pargc_heap.free_pages) * PARGC_PAGE_SIZE;
  return free_pages < heap ? free_pages : heap;
}

size_t GC_get_unmapped_bytes(void)
{
  size_t handed = atomic_load(&pargc_region.top) * PARGC_PAGE_SIZE;
  size_t committed = GC_get_heap_size();
  return handed > committed ? handed - committed : 0;
}

/* Bytes the threads counted but have not yet added to the global totals
 * (they flush every 256 KiB); read without synchronisation, so a figure,
 * not an exact count. */
static size_t pending_bytes(void)
{
  size_t sum = 0;
  uint32_t n = atomic_load(&pargc_tctx_count);
  for (uint32_t i = 0; i < n; i++) {
    struct pargc_tctx *c = pargc_tctx_all[i];
    if (c)
      sum += *(volatile size_t *)&c->bytes_pending;
  }
  return sum;
}

/* Threads count a page's free objects as allocated when they start
 * allocating from it; the calling thread's own lists are subtracted
 * again, so a thread sees its own allocations exactly.  (Other threads'
 * lists cannot be read safely while they run.) */
static size_t own_unallocated(void)
{
  struct pargc_tctx *ctx = pargc_tctx_current;
  if (!ctx)
    return 0;
  size_t sum = 0;
  for (unsigned k = 0; k < pargc_kind_count(); k++)
    for (unsigned c = 0; c < PARGC_NCLASSES; c++)
      if (ctx->free[k][c])
        sum += pargc_page_list_length(ctx->free[k][c]) * pargc_sizeclasses[c].size;
  return sum;
}

static size_t counted(size_t global)
{
  size_t n = global + pending_bytes(), own = own_unallocated();
  return n > own ? n - own : 0;
}

size_t GC_get_bytes_since_gc(void)
{
  return counted(atomic_load(&pargc_heap.bytes_since_gc));
}

size_t GC_get_total_bytes(void)
{
  return counted(atomic_load(&pargc_heap.bytes_total));
}

void GC_set_oom_fn(GC_oom_func fn)
{
  GC_oom_fn = fn;
  pargc_alloc_oom_hook = api_oom;
}

GC_oom_func GC_get_oom_fn(void)
{
  return GC_oom_fn;
}

void GC_set_warn_proc(GC_warn_proc fn)
{
  pargc_report_set_warn((pargc_warn_fn)(void *)fn);
}

GC_warn_proc GC_get_warn_proc(void)
{
  return (GC_warn_proc)(void *)pargc_report_get_warn();
}

/* The collector passes the event as an int (Boehm's GC_EventType
 * numbering; see collect.h). */
void GC_set_on_collection_event(GC_on_collection_event_proc fn)
{
  pargc_collect_event_fn = (void (*)(int))(void *)fn;
}

GC_on_collection_event_proc GC_get_on_collection_event(void)
{
  return (GC_on_collection_event_proc)(void *)pargc_collect_event_fn;
}
