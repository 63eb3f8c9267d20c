/* malloc: the C allocation functions on pargc's heap (libpargc-malloc).
 *
 * Loaded with LD_PRELOAD, or linked with -lpargc-malloc, this module
 * replaces malloc, free and their relatives for the whole program --
 * libc, the dynamic linker and libstdc++'s operator new included.  It is
 * an explicit allocator on the allocator layer alone (alloc/): the same
 * BIBOP spans, size classes, per-thread contexts and LPS page sharing as
 * GC_MALLOC, with no collector linked in (docs/malloc.md).  In collect
 * mode (collect.h) the program's allocations go to libpargc's collector
 * instead; the fast paths then never run (no thread has a context
 * installed) and the slow path asks who is calling.
 *
 *  - Every object is of the atomic kind: never scanned, never zeroed on
 *    free.  calloc zeroes small objects itself; large ones are taken as
 *    the normal kind, whose runs the allocator zeroes only when they are
 *    not known to be zero already (fresh and decommitted pages are).
 *  - The fast paths are thread.h's, restated here without the GC kinds'
 *    bookkeeping: malloc pops the thread's free list (a TLS load, the
 *    class, from a table up to 1 KiB, two loads, two stores); free
 *    pushes onto it, or onto the page's own list, after the object-start
 *    and double-free checks.
 *    Another thread's object goes onto its page's lock-free remote list
 *    (pargc_free_slow), which the owner drains when its list runs dry.
 *  - Bootstrap.  The allocator's own set-up (topology discovery, pthread
 *    keys, pthread_atfork) and a new thread's context creation
 *    call malloc.  A thread-local flag, `mm_busy`, is set around every
 *    call into the allocator's slow paths; a malloc that finds it set is
 *    served from a static arena (`boot`), whose objects free ignores and
 *    realloc copies out of.
 *  - Pointers that are neither the heap's nor the arena's are reported in
 *    one line and the program aborts (PARGC_MALLOC_BAD_FREE=ignore leaks
 *    them instead); so are double frees of small objects (the first word
 *    of a free object is an encoded free-list link) and frees of large
 *    runs already released.
 *  - fork: the allocator's locks are taken around it (pthread_atfork),
 *    and the child rebuilds the lists of the threads it lost
 *    (pargc_alloc_fork_child).
 *  - Memory goes back to the OS as free runs (large objects freed, exited
 *    threads' pages) that stayed idle for PARGC_MALLOC_PURGE_DELAY_MS: a
 *    freeing thread decommits them at most every half delay, and
 *    malloc_trim does it at once.
 */
#include "config.h"
#include "alloc/heap.h"
#include "alloc/options.h"
#include "alloc/os.h"
#include "alloc/pagemap.h"
#include "alloc/report.h"
#include "alloc/sizeclass.h"
#include "alloc/thread.h"
#include "malloc/collect.h"

#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The library is built with hidden visibility; the C functions it
 * replaces are the only symbols it exports. */
#define MM_API __attribute__((visibility("default")))

/* Alignment malloc guarantees: every size class is a multiple of it. */
#define MM_ALIGN 16

/* ---- Bootstrap arena -------------------------------------------------- */

/* Objects allocated while the calling thread is inside the allocator
 * (its set-up, a new context).  A bump pointer over static memory (only
 * the pages used are ever touched); each object is preceded by a 16-byte
 * header holding its size, for realloc and malloc_usable_size.  Never
 * reused: what the set-up allocates it mostly keeps. */
#define BOOT_SIZE ((size_t)8 << 20)
static char boot[BOOT_SIZE] __attribute__((aligned(PARGC_PAGE_SIZE)));
static _Atomic size_t boot_used;

static bool boot_contains(const void *p)
{
  return (const char *)p >= boot && (const char *)p < boot + BOOT_SIZE;
}

static void *boot_alloc(size_t n, size_t align)
{
  if (align < MM_ALIGN)
    align = MM_ALIGN;
  if (n > BOOT_SIZE)
    goto out;
  size_t old = atomic_load_explicit(&boot_used, memory_order_relaxed), start;
  do {
    start = (old + MM_ALIGN + align - 1) & ~(align - 1); /* room for the header */
    if (start + n > BOOT_SIZE)
      goto out;
  } while (!atomic_compare_exchange_weak_explicit(&boot_used, &old, (start + n + MM_ALIGN - 1) &
                                                                     ~(size_t)(MM_ALIGN - 1),
                                                  memory_order_relaxed, memory_order_relaxed));
  *(size_t *)(boot + start - MM_ALIGN) = n;
  return boot + start;
out:
  errno = ENOMEM;
  return NULL;
}

void *pargc_malloc_boot(size_t n, size_t align)
{
  return boot_alloc(n, align);
}

static size_t boot_size(const void *p)
{
  return *(const size_t *)((const char *)p - MM_ALIGN);
}

/* ---- State ------------------------------------------------------------- */

/* Set while the calling thread runs allocator code that may call malloc
 * again: such a call is served from the bootstrap arena. */
__thread int pargc_malloc_busy __attribute__((tls_model("initial-exec")));
#define mm_busy pargc_malloc_busy
static _Atomic int mm_ready; /* pargc_alloc_init and the fork handlers done */
static bool mm_bad_free_abort = true;
static uint64_t mm_purge_interval_ns;
static _Atomic uint64_t mm_last_purge_ns;

/* Collect mode's side context of the calling thread (see below). */
static __thread struct pargc_tctx *mm_side __attribute__((tls_model("initial-exec")));

/* fork: the allocator's locks around it.  In collect mode the forking
 * thread's side context is installed meanwhile, so that the child keeps
 * it as its own instead of parking it with the vanished threads' (it
 * would then serve two threads). */
static void mm_fork_prepare(void)
{
  mm_busy++;
  pargc_alloc_fork_prepare();
  if (pargc_malloc_collect_on)
    pargc_tctx_current = mm_side;
}

static void mm_fork_parent(void)
{
  if (pargc_malloc_collect_on)
    pargc_tctx_current = NULL;
  pargc_alloc_fork_parent();
  mm_busy--;
}

static void mm_fork_child(void)
{
  pargc_alloc_fork_child();
  if (pargc_malloc_collect_on)
    pargc_tctx_current = NULL;
  mm_busy--;
}

/* First call into the allocator from any thread (mm_busy set). */
static PARGC_NOINLINE void mm_init(void)
{
  static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
  pargc_alloc_init();
  pthread_mutex_lock(&lock);
  if (!atomic_load(&mm_ready)) {
    if (strcmp(pargc_opt.malloc_mode, "collect") != 0 &&
        strcmp(pargc_opt.malloc_mode, "free") != 0)
      pargc_warn("PARGC_MALLOC_MODE=%s: unknown mode, using free", pargc_opt.malloc_mode);
    mm_bad_free_abort = strcmp(pargc_opt.malloc_bad_free, "ignore") != 0;
    /* No collection will sweep full pages: remote frees into them must
     * reach their owners another way. */
    pargc_tctx_notify_full = true;
    /* The heap's decommit pass reads the collector's delay: a malloc
     * purges sooner (mimalloc's default is 10 ms too), as no collection
     * comes to do it. */
    pargc_opt.decommit_delay_ms = pargc_opt.malloc_purge_delay_ms;
    mm_purge_interval_ns = (uint64_t)pargc_opt.decommit_delay_ms * 500000u;
    pthread_atfork(mm_fork_prepare, mm_fork_parent, mm_fork_child);
    atomic_store(&mm_ready, 1);
  }
  pthread_mutex_unlock(&lock);
}

/* The calling thread's context, setting the allocator up first if need
 * be (mm_busy set). */
static void mm_attach(void)
{
  if (PARGC_UNLIKELY(!atomic_load_explicit(&mm_ready, memory_order_acquire)))
    mm_init();
  pargc_tctx_get();
}

/* ---- Allocation -------------------------------------------------------- */

/* Collect mode: the collector's allocation, as an allocator call. */
static PARGC_NOINLINE void *mm_collect_alloc(size_t n, size_t align)
{
  mm_busy++;
  void *p = pargc_malloc_collect_alloc(n, align);
  mm_busy--;
  return p;
}

/* Collect mode: the thread's free-mode context, installed only while the
 * calling thread allocates or frees in free mode's heap for libc, the
 * loader or libpargc (see collect.h), so that the fast paths never see
 * it.  Parked at thread exit by mm_side_key's destructor. */
static pthread_key_t mm_side_key;

static void mm_side_exit(void *ctx)
{
  if (!ctx || pargc_tctx_current)
    return;
  pargc_tctx_current = ctx;
  mm_side = NULL;
  pargc_tctx_release();
}

static void mm_side_enter(void)
{
  pargc_tctx_current = mm_side;
}

static void mm_side_leave(void)
{
  if (mm_side != pargc_tctx_current) {
    mm_side = pargc_tctx_current;
    pthread_setspecific(mm_side_key, mm_side);
  }
  pargc_tctx_current = NULL;
}

static PARGC_NOINLINE void *mm_side_alloc(size_t n, unsigned kind)
{
  mm_busy++;
  mm_side_enter();
  void *p = pargc_alloc_slow(n, kind);
  mm_side_leave();
  mm_busy--;
  if (!p)
    errno = ENOMEM;
  return p;
}

static PARGC_NOINLINE void *mm_alloc_slow(size_t n, unsigned kind, const void *caller)
{
  if (mm_busy)
    return boot_alloc(n, MM_ALIGN);
  if (PARGC_UNLIKELY(pargc_malloc_collect_on))
    return pargc_malloc_collect_class(caller) == 0 ? mm_collect_alloc(n, 0)
                                                   : mm_side_alloc(n, kind);
  mm_busy++;
  if (!pargc_tctx_current)
    mm_attach();
  void *p = pargc_alloc_slow(n, kind);
  mm_busy--;
  if (!p)
    errno = ENOMEM;
  return p;
}

/* The fast path: pop the thread's free list of n's class (thread.h's
 * pargc_alloc, for one kind).  Clearing the link matters beyond tidiness:
 * a first word that still held an encoded link would read as "already
 * free" to the double-free check. */
static inline __attribute__((always_inline)) void *mm_alloc(size_t n, unsigned kind)
{
  struct pargc_tctx *ctx = pargc_tctx_current;
  if (PARGC_LIKELY(ctx != NULL && n <= PARGC_SMALL_MAX)) {
    unsigned c = PARGC_LIKELY(n <= PARGC_SIZECLASS_TABLE_MAX)
                     ? pargc_sizeclass_by_granule[(n + PARGC_GRANULE - 1) / PARGC_GRANULE]
                     : pargc_sizeclass_of(n);
    void **p = ctx->free[kind][c];
    if (PARGC_LIKELY(p != NULL)) {
      ctx->free[kind][c] = (void **)((uintptr_t)*p ^ pargc_link_key);
      *p = NULL;
      return p;
    }
  }
  return mm_alloc_slow(n, kind, __builtin_return_address(0));
}

/* ---- Free -------------------------------------------------------------- */

static PARGC_NOINLINE void mm_bad_free(const char *fn, void *p, const char *why)
{
  if (!atomic_load(&mm_ready)) { /* a free before any malloc: read the options */
    mm_busy++;
    mm_init();
    mm_busy--;
  }
  if (!mm_bad_free_abort)
    return;
  char line[160];
  int len = snprintf(line, sizeof line, "pargc-malloc: %s(%p): %s; aborting\n", fn, p, why);
  if (len > 0)
    (void)!write(2, line, (size_t)len < sizeof line ? (size_t)len : sizeof line - 1);
  abort();
}

/* Is p an object pargc-malloc handed out and has not taken back?  NULL
 * after reporting it (mm_bad_free) when not; otherwise its span. */
static struct pargc_page *mm_checked_span(const char *fn, void *p)
{
  struct pargc_page *pg;
  int32_t i = pargc_pagemap_object((uintptr_t)p, &pg);
  if (i < 0 || (uintptr_t)p != pargc_page_object_addr(pg, (uint32_t)i)) {
    mm_bad_free(fn, p, i < 0 ? "not an allocated object (freed twice?)"
                             : "not the start of an allocated object");
    return NULL;
  }
  if (atomic_load_explicit(&pg->state, memory_order_acquire) == PARGC_PAGE_SMALL &&
      pargc_slot_is_free(pg, (uint32_t)i)) {
    mm_bad_free(fn, p, "double free");
    return NULL;
  }
  return pg;
}

/* Free runs idle for PARGC_MALLOC_PURGE_DELAY_MS go back to the OS,
 * checked at most every half delay by a thread that frees a large
 * object. */
static void mm_maybe_purge(void)
{
  if (!pargc_opt.decommit)
    return;
  uint64_t now = pargc_os_now_ns();
  uint64_t last = atomic_load_explicit(&mm_last_purge_ns, memory_order_relaxed);
  if (now - last < mm_purge_interval_ns ||
      !atomic_compare_exchange_strong(&mm_last_purge_ns, &last, now))
    return;
  pargc_heap_decommit(false);
}

/* Pointers outside the heap: the bootstrap arena's (ignored, see above),
 * or foreign ones. */
static PARGC_NOINLINE void mm_free_outside(void *p)
{
  if (boot_contains(p))
    return;
  size_t usable;
  if (pargc_malloc_collect_on && pargc_malloc_collect_owns(p, &usable)) {
    mm_busy++;
    pargc_malloc_collect_free(p);
    mm_busy--;
    return;
  }
  mm_bad_free("free", p, "pointer not allocated by pargc-malloc");
}

static PARGC_NOINLINE void mm_free_slow(void *p)
{
  mm_busy++;
  if (pargc_malloc_collect_on)
    mm_side_enter();
  else if (!pargc_tctx_current)
    /* A thread that frees before it allocates (a consumer of what others
     * allocate) gets its context now: without one, every free it makes
     * counts the freed bytes on one shared atomic, whose line the two
     * consumer threads of xmalloc-test bounced between their cores: a
     * third of the time their frees took. */
    mm_attach();
  struct pargc_page *pg = mm_checked_span("free", p);
  if (pg) {
    bool large = atomic_load_explicit(&pg->state, memory_order_relaxed) == PARGC_PAGE_LARGE;
    pargc_free_slow(p);
    if (large)
      mm_maybe_purge();
  }
  if (pargc_malloc_collect_on)
    mm_side_leave();
  mm_busy--;
}

/* The fast path: an object of the calling thread's, on a page that is its
 * class's current one or not on the full list (thread.h's pargc_free,
 * for the atomic kind: no zeroing, no freed-bytes count). */
static inline __attribute__((always_inline)) void mm_free(void *p)
{
  uintptr_t off = (uintptr_t)p - pargc_region.base;
  if (PARGC_UNLIKELY(off >= (atomic_load_explicit(&pargc_region.top, memory_order_relaxed)
                             << PARGC_PAGE_SHIFT))) {
    if (p)
      mm_free_outside(p);
    return;
  }
  struct pargc_tctx *ctx = pargc_tctx_current;
  struct pargc_page *pg = &pargc_region.pages[off >> PARGC_PAGE_SHIFT];
  if (PARGC_UNLIKELY(ctx == NULL ||
                     atomic_load_explicit(&pg->state, memory_order_relaxed) != PARGC_PAGE_SMALL ||
                     pg->owner != ctx->id || pg->list == PARGC_LIST_FULL ||
                     pg->kind != PARGC_KIND_ATOMIC)) {
    mm_free_slow(p);
    return;
  }
  uintptr_t base = (uintptr_t)p - (off & (PARGC_PAGE_SIZE - 1));
  uint32_t i = pargc_sizeclass_index(off & (PARGC_PAGE_SIZE - 1), pg->recip);
  uintptr_t w = (uintptr_t)*(void **)p ^ pargc_link_key;
  if (PARGC_UNLIKELY((uintptr_t)p != base + (uintptr_t)i * pg->size || i >= pg->nobjs ||
                     w == 0 || (w - base) < (uintptr_t)pg->nobjs * pg->size)) {
    mm_free_slow(p);
    return;
  }
  void **obj = p;
  uintptr_t cur = -(uintptr_t)(pg->list == PARGC_LIST_CUR);
  void ***head = (void ***)(((uintptr_t)&ctx->free[PARGC_KIND_ATOMIC][pg->sclass] & cur) |
                            ((uintptr_t)&pg->free & ~cur));
  *obj = (void *)((uintptr_t)*head ^ pargc_link_key);
  *head = obj;
}

/* ---- Sizes and alignment ----------------------------------------------- */

/* Is p in free mode's heap (allocated or not)? */
static bool mm_owns(const void *p)
{
  return (uintptr_t)p - pargc_region.base <
         (atomic_load_explicit(&pargc_region.top, memory_order_relaxed) << PARGC_PAGE_SHIFT);
}

/* Usable bytes of an object in the heap (0 when p is not one). */
static size_t mm_usable(struct pargc_page *pg)
{
  if (atomic_load_explicit(&pg->state, memory_order_relaxed) == PARGC_PAGE_LARGE)
    return (size_t)pg->pages * PARGC_PAGE_SIZE;
  return pg->size;
}

/* An object of n bytes aligned to `align` (a power of two).  Up to the
 * heap's page size, an object of a class whose size is a multiple of the
 * alignment is aligned (spans start on a page); large runs start on a
 * page too.  Larger alignments are not supported: NULL, ENOMEM. */
static inline __attribute__((always_inline)) void *mm_aligned(size_t align, size_t n)
{
  if (PARGC_UNLIKELY(pargc_malloc_collect_on) && !mm_busy &&
      pargc_malloc_collect_class(__builtin_return_address(0)) == 0)
    return mm_collect_alloc(n, align);
  if (align <= MM_ALIGN)
    return mm_alloc(n, PARGC_KIND_ATOMIC);
  if (align > PARGC_PAGE_SIZE) {
    errno = ENOMEM;
    return NULL;
  }
  if (n > PARGC_SMALL_MAX)
    return mm_alloc(n, PARGC_KIND_ATOMIC);
  if (mm_busy)
    return boot_alloc(n, align);
  size_t need = n < align ? align : (n + align - 1) & ~(align - 1);
  if (need > PARGC_SMALL_MAX)
    return mm_alloc(need, PARGC_KIND_ATOMIC);
  for (unsigned c = pargc_sizeclass_of(need); c < PARGC_NCLASSES; c++)
    if (pargc_sizeclass_size(c) % align == 0)
      return mm_alloc(pargc_sizeclass_size(c), PARGC_KIND_ATOMIC);
  return mm_alloc(PARGC_SMALL_MAX + 1, PARGC_KIND_ATOMIC);
}

static bool pow2(size_t a)
{
  return a != 0 && (a & (a - 1)) == 0;
}

/* ---- The C functions --------------------------------------------------- */

MM_API void *malloc(size_t n)
{
  return mm_alloc(n, PARGC_KIND_ATOMIC);
}

MM_API void free(void *p)
{
  mm_free(p);
}

MM_API void cfree(void *p)
{
  mm_free(p);
}

/* Zero the first n <= 128 bytes of a small object in 16-byte stores:
 * objects are 16-aligned and their class a multiple of 16 at least n, so
 * rounding n up stays inside the object.  With random sizes a jump table
 * on n (one store per slot) mispredicted most of the time and cost a
 * fifth of the mixed workload; eight stores for every size slowed a hot
 * 32-byte loop by a tenth.  So: the first two slots (the second store
 * repeats the first for n <= 16), and past 32 bytes six more stores, the
 * k-th to slot min(k, last), without a branch on n's exact value --
 * unrolled: as a loop, its counter and branch made the mixed workload
 * about 7% slower (median of 8 interleaved runs). */
typedef long long mm_v2 __attribute__((vector_size(16)));

static inline size_t mm_min_nobranch(size_t a, size_t b)
{
  /* A mask: the compiler turns a conditional expression into branches. */
  size_t d = a - b;
  return b + (d & (size_t)((intptr_t)d >> 63));
}

static inline void mm_zero_small(void *p, size_t n)
{
  mm_v2 *q = p;
  const mm_v2 z = {0, 0};
  q[0] = z;
  q[n > 16] = z;
  if (n > 32) {
    size_t last = (n - 1) >> 4;
#pragma GCC unroll 6
    for (size_t k = 2; k < 8; k++)
      q[mm_min_nobranch(k, last)] = z;
  }
}

MM_API void *calloc(size_t count, size_t size)
{
  size_t n;
  if (__builtin_mul_overflow(count, size, &n)) {
    errno = ENOMEM;
    return NULL;
  }
  if (n > PARGC_SMALL_MAX) /* a normal-kind run comes zeroed */
    return mm_alloc(n, PARGC_KIND_NORMAL);
  void *p = mm_alloc(n, PARGC_KIND_ATOMIC);
  if (PARGC_LIKELY(p != NULL)) {
    if (n <= 128)
      mm_zero_small(p, n);
    else
      memset(p, 0, n);
  }
  return p;
}

MM_API size_t malloc_usable_size(void *p)
{
  if (!p)
    return 0;
  if (boot_contains(p))
    return boot_size(p);
  struct pargc_page *pg;
  int32_t i = pargc_pagemap_object((uintptr_t)p, &pg);
  if (i < 0) {
    size_t usable = 0;
    if (pargc_malloc_collect_on && pargc_malloc_collect_owns(p, &usable))
      return usable;
    return 0;
  }
  return mm_usable(pg) - ((uintptr_t)p - pargc_page_object_addr(pg, (uint32_t)i));
}

MM_API void *realloc(void *p, size_t n)
{
  if (!p)
    return mm_alloc(n, PARGC_KIND_ATOMIC);
  if (n == 0) { /* glibc's behaviour: free, and NULL */
    mm_free(p);
    return NULL;
  }
  size_t old;
  if (boot_contains(p)) {
    old = boot_size(p);
  } else if (pargc_malloc_collect_on && !mm_owns(p)) {
    if (!pargc_malloc_collect_owns(p, &old)) {
      mm_bad_free("realloc", p, "pointer not allocated by pargc-malloc");
      return NULL;
    }
    if (n <= old)
      return p; /* the collector's objects are not shrunk */
  } else {
    struct pargc_page *pg = mm_checked_span("realloc", p);
    if (!pg)
      return NULL;
    old = mm_usable(pg);
    /* Keep the object when the new size fits and wastes at most half. */
    if (n <= old && n >= old / 2)
      return p;
  }
  void *q = mm_alloc(n, PARGC_KIND_ATOMIC);
  if (!q)
    return NULL; /* p stays valid */
  memcpy(q, p, n < old ? n : old);
  mm_free(p);
  return q;
}

MM_API void *reallocarray(void *p, size_t count, size_t size)
{
  size_t n;
  if (__builtin_mul_overflow(count, size, &n)) {
    errno = ENOMEM;
    return NULL;
  }
  return realloc(p, n);
}

MM_API int posix_memalign(void **out, size_t align, size_t n)
{
  if (!pow2(align) || align % sizeof(void *) != 0)
    return EINVAL;
  int saved = errno;
  void *p = mm_aligned(align, n);
  errno = saved;
  if (!p)
    return ENOMEM;
  *out = p;
  return 0;
}

MM_API void *aligned_alloc(size_t align, size_t n)
{
  if (!pow2(align)) {
    errno = EINVAL;
    return NULL;
  }
  return mm_aligned(align, n);
}

MM_API void *memalign(size_t align, size_t n)
{
  if (!pow2(align)) {
    errno = EINVAL;
    return NULL;
  }
  return mm_aligned(align, n);
}

MM_API void *valloc(size_t n)
{
  return mm_aligned((size_t)sysconf(_SC_PAGESIZE), n);
}

MM_API void *pvalloc(size_t n)
{
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  if (n > SIZE_MAX - page) {
    errno = ENOMEM;
    return NULL;
  }
  return mm_aligned(page, n ? (n + page - 1) & ~(page - 1) : page);
}

/* Free runs go back to the OS at once, whatever their age; `pad` is
 * ignored.  1 if memory was returned, as glibc. */
MM_API int malloc_trim(size_t pad)
{
  (void)pad;
  if (!atomic_load(&mm_ready))
    return 0;
  mm_busy++;
  size_t bytes = pargc_heap_decommit(true);
  mm_busy--;
  return bytes > 0;
}

/* glibc's statistics, in pargc's terms: arena and hblkhd are the heap's
 * committed bytes in small spans and in all, fordblks what free runs
 * hold committed.  Fields without a counterpart are 0. */
MM_API struct mallinfo2 mallinfo2(void)
{
  struct mallinfo2 mi;
  memset(&mi, 0, sizeof mi);
  if (atomic_load(&mm_ready)) {
    mi.arena = pargc_heap_committed_bytes();
    mi.fordblks = pargc_heap_committed_free();
    mi.uordblks = mi.arena > mi.fordblks ? mi.arena - mi.fordblks : 0;
  }
  return mi;
}

/* mallopt's parameters are glibc's own: accepted and ignored. */
MM_API int mallopt(int param, int value)
{
  (void)param;
  (void)value;
  return 1;
}

/* Mode collect is entered here, before main: libpargc is loaded and the
 * collector set up while the program has one thread. */
__attribute__((constructor)) static void mm_constructor(void)
{
  mm_busy++;
  mm_init();
  mm_busy--;
  if (strcmp(pargc_opt.malloc_mode, "collect") != 0)
    return;
  /* This thread's context becomes its side context (see mm_side). */
  pthread_key_create(&mm_side_key, mm_side_exit);
  mm_side = pargc_tctx_current;
  pargc_tctx_current = NULL;
  if (mm_side)
    pthread_setspecific(mm_side_key, mm_side);
  if (!pargc_malloc_collect_start()) {
    pargc_tctx_current = mm_side;
    mm_side = NULL;
  }
}
