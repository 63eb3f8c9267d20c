/* dirty: dirty-card tracking for the mostly-concurrent mark; see dirty.h. */
#include "config.h"
#include "gc/dirty.h"
#include "gc/threads.h"
#include "alloc/options.h"
#include "alloc/os.h"
#include "alloc/page.h"
#include "alloc/pagemap.h"
#include "alloc/report.h"
#include "alloc/thread.h"

#include <gc/gc_config_macros.h> /* GC_API: the wrappers below are exported */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

static enum pargc_barrier dirty_barrier;
static _Atomic int dirty_protected; /* mprotect: some page may be read-only */
static _Atomic int dirty_all;       /* protection was lost: treat all as dirty */
static _Atomic uint64_t dirty_fault_count;
static bool manual_allowed;

/* GC_set_manual_vdb_allowed (Boehm GC): with PARGC_BARRIER=auto, the
 * program's promise to report its stores selects the manual barrier. */
void pargc_dirty_allow_manual(bool on) { manual_allowed = on; }
bool pargc_dirty_manual_allowed(void) { return manual_allowed; }

/* ---- mprotect --------------------------------------------------------- */

static inline bool in_heap(uintptr_t a)
{
  return a - pargc_region.base < pargc_region.reserve;
}

/* Is page idx (head or tail) part of an in-use span of a scanned kind? */
static bool page_scanned(size_t idx)
{
  struct pargc_page *pg = pargc_pagemap_span_of(idx);
  return pg && pargc_kind_scanned[pg->kind];
}

/* Which pages are writable.  Protection is on from just before a
 * cycle's first stop (pargc_dirty_prepare, while the program runs) until
 * just after its final stop (pargc_dirty_release, likewise), so neither
 * stop pays for changing the whole heap's page tables, and the program
 * takes no faults between cycles (left protected, every page it wrote
 * between cycles would fault once).
 *   page idx >= protect_hwm: never protected (writable);
 *   below: writable iff its bit is set.
 * A page is made read-only only after its bit is cleared, and the fault
 * handler sets the bit only after making the page writable, so "writable
 * implies bit set" holds whenever neither is half-way. */
static _Atomic uint64_t *writable_bits;
static _Atomic size_t protect_hwm;

static bool page_writable(size_t idx)
{
  if (idx >= atomic_load_explicit(&protect_hwm, memory_order_acquire))
    return true;
  return (atomic_load_explicit(&writable_bits[idx >> 6], memory_order_relaxed) >> (idx & 63)) & 1;
}

static void set_writable(size_t idx)
{
  atomic_fetch_or_explicit(&writable_bits[idx >> 6], (uint64_t)1 << (idx & 63),
                           memory_order_release);
}

static void clear_writable(size_t idx)
{
  atomic_fetch_and_explicit(&writable_bits[idx >> 6], ~((uint64_t)1 << (idx & 63)),
                            memory_order_acq_rel);
}

/* Protection failed (most likely ENOMEM: too many mappings, see
 * vm.max_map_count): make the heap writable again and let this cycle
 * treat every page as dirty. */
static void protection_lost(void)
{
  size_t top = atomic_load(&pargc_region.top);
  pargc_os_protect((void *)pargc_region.base, top << PARGC_PAGE_SHIFT, true);
  atomic_store(&protect_hwm, 0);
  atomic_store(&dirty_all, 1);
}

static void protect(size_t first, size_t n)
{
  void *a = (void *)(pargc_region.base + (first << PARGC_PAGE_SHIFT));
  if (!pargc_os_protect(a, n << PARGC_PAGE_SHIFT, false))
    protection_lost();
}

/* Pages to protect, gathered into as few mprotect calls as possible:
 * every call changes page tables and flushes the TLB of every core the
 * program runs on (an interrupt each), so a call per scattered page
 * cost the program more than the faults themselves.  A run extends over
 * pages that are read-only already (protecting them again changes
 * nothing) and ends at a writable page that is to stay writable.  A
 * page's writable bit is cleared when it joins (before it is
 * protected). */
struct protect_run {
  size_t first, last; /* pages to protect in [first, last]; last < first: none */
};

static void run_add(struct protect_run *r, size_t idx)
{
  clear_writable(idx);
  if (r->last < r->first)
    r->first = idx;
  r->last = idx;
}

static void run_flush(struct protect_run *r)
{
  if (r->last >= r->first)
    protect(r->first, r->last - r->first + 1);
  r->first = 1;
  r->last = 0;
}

/* Page idx is not to be protected: a writable one ends the run. */
static void run_skip(struct protect_run *r, size_t idx)
{
  if (page_writable(idx))
    run_flush(r);
}

/* Protect every writable page of a scanned span (merged runs), clearing
 * its bit first.  Pages the high-water mark passes over are writable. */
static void protect_writable(void)
{
  size_t top = atomic_load(&pargc_region.top);
  size_t hwm = atomic_load(&protect_hwm);
  for (size_t i = hwm; i < top; i++)
    set_writable(i);
  if (top > hwm)
    atomic_store_explicit(&protect_hwm, top, memory_order_release);
  struct protect_run run = {1, 0};
  for (size_t i = 0; i < top; i++) {
    if (page_writable(i) && page_scanned(i))
      run_add(&run, i);
    else
      run_skip(&run, i);
  }
  run_flush(&run);
}

/* A write fault (pargc_os_catch_write_faults): ours when it hit a heap
 * page this barrier protected. */
static bool dirty_fault(uintptr_t a)
{
  if (dirty_barrier != PARGC_BARRIER_MPROTECT || !in_heap(a) ||
      !atomic_load_explicit(&dirty_protected, memory_order_relaxed))
    return false;
  uintptr_t page = a & ~(uintptr_t)(PARGC_PAGE_SIZE - 1);
  /* Unprotect first, then the writable bit and the dirty bits: see the
   * invariants above and in dirty.h. */
  if (!pargc_os_protect((void *)page, PARGC_PAGE_SIZE, true))
    protection_lost();
  set_writable((page - pargc_region.base) >> PARGC_PAGE_SHIFT);
  pargc_dirty_set_range(page, page + PARGC_PAGE_SIZE);
  atomic_fetch_add_explicit(&dirty_fault_count, 1, memory_order_relaxed);
  return true;
}

/* (Re)install the fault handler, keeping whatever the program installed
 * since as the one to chain to.  A thread must not be stopped for a
 * collection between unprotecting a page and dirtying it (dirty.h's
 * invariant spans one cycle), so the suspend signal waits. */
static void install_fault_handler(void)
{
  pargc_os_catch_write_faults(dirty_fault, pargc_threads_suspend_signal());
}

/* ---- choosing the barrier --------------------------------------------- */

static void dirty_init_once(void)
{
  const char *b = pargc_opt.barrier;
  if (!strcmp(b, "mprotect")) {
    dirty_barrier = PARGC_BARRIER_MPROTECT;
  } else if (!strcmp(b, "manual")) {
    dirty_barrier = PARGC_BARRIER_MANUAL;
  } else if (!strcmp(b, "soft-dirty")) {
    if (pargc_os_soft_dirty_works()) {
      dirty_barrier = PARGC_BARRIER_SOFT_DIRTY;
    } else {
      pargc_warn("PARGC_BARRIER=soft-dirty: the kernel's soft-dirty bits do not work here; "
                 "using mprotect");
      dirty_barrier = PARGC_BARRIER_MPROTECT;
    }
  } else {
    if (strcmp(b, "auto") && *b)
      pargc_warn("PARGC_BARRIER=%s: unknown (auto, mprotect, soft-dirty, manual); using auto", b);
    /* Not soft-dirty: without pre-cleaning (dirty.h) its final stop
     * rescans every page written during the cycle, which in programs
     * that allocate fast is most of what they allocated meanwhile. */
    dirty_barrier = manual_allowed ? PARGC_BARRIER_MANUAL : PARGC_BARRIER_MPROTECT;
  }
}

void pargc_dirty_init(void)
{
  static pthread_once_t once = PTHREAD_ONCE_INIT;
  pthread_once(&once, dirty_init_once);
}

enum pargc_barrier pargc_dirty_barrier(void)
{
  pargc_dirty_init();
  return dirty_barrier;
}

uint64_t pargc_dirty_faults(void) { return atomic_load(&dirty_fault_count); }

/* ---- a cycle ---------------------------------------------------------- */

void pargc_dirty_start(void)
{
  pargc_dirty_init();
  size_t top = atomic_load(&pargc_region.top);
  size_t words = (top * PARGC_CARDS_PER_PAGE + 63) / 64;
  for (size_t w = 0; w < words; w++)
    atomic_store_explicit(&pargc_region.dirty[w], 0, memory_order_relaxed);
  atomic_store(&dirty_all, 0);
  switch (dirty_barrier) {
  case PARGC_BARRIER_MPROTECT:
    /* Only what was written since pargc_dirty_prepare is left. */
    pargc_dirty_prepare();
    break;
  case PARGC_BARRIER_SOFT_DIRTY:
    if (!pargc_os_soft_dirty_clear()) {
      pargc_warn("cannot clear soft-dirty bits; this cycle rescans the whole heap");
      atomic_store(&dirty_all, 1);
    }
    break;
  case PARGC_BARRIER_MANUAL:
    break;
  }
}

void pargc_dirty_prepare(void)
{
  pargc_dirty_init();
  if (dirty_barrier != PARGC_BARRIER_MPROTECT)
    return;
  if (!writable_bits) {
    writable_bits = pargc_os_alloc_meta((pargc_region.max_pages + 63) / 64 * sizeof(uint64_t));
    if (!writable_bits)
      pargc_fatal("out of memory for the page-protection bitmap");
  }
  install_fault_handler();
  atomic_store(&dirty_protected, 1);
  protect_writable();
}

bool pargc_dirty_can_preclean(void)
{
  return dirty_barrier == PARGC_BARRIER_MPROTECT && !atomic_load(&dirty_all);
}

/* Pages taken in one pass, before their callbacks run. */
static size_t *dirty_batch_pages;
static unsigned *dirty_batch_cards;
static size_t dirty_batch_cap;

static void batch_reserve(size_t top)
{
  if (top <= dirty_batch_cap)
    return;
  size_t cap = dirty_batch_cap ? dirty_batch_cap : 1024;
  while (cap < top)
    cap *= 2;
  size_t *p = pargc_os_alloc_meta(cap * sizeof *p);
  unsigned *c = pargc_os_alloc_meta(cap * sizeof *c);
  if (!p || !c)
    pargc_fatal("out of memory for the dirty-page list");
  pargc_os_free_meta(dirty_batch_pages, dirty_batch_cap * sizeof *p);
  pargc_os_free_meta(dirty_batch_cards, dirty_batch_cap * sizeof *c);
  dirty_batch_pages = p;
  dirty_batch_cards = c;
  dirty_batch_cap = cap;
}

/* Take the dirty pages of scanned spans; with `reprotect`, protect them
 * again (merged runs) before anything is scanned. */
static size_t take_dirty(bool reprotect, bool all)
{
  size_t top = atomic_load(&pargc_region.top);
  batch_reserve(top);
  size_t n = 0;
  struct protect_run run = {1, 0};
  for (size_t i = 0; i < top; i++) {
    unsigned cards = pargc_dirty_take_page(i);
    if (all)
      cards = 0xffff;
    if (cards && !page_scanned(i))
      cards = 0; /* free or pointer-free: nothing to rescan */
    if (!cards) {
      run_skip(&run, i);
      continue;
    }
    dirty_batch_pages[n] = i;
    dirty_batch_cards[n] = cards;
    n++;
    if (reprotect)
      run_add(&run, i);
  }
  run_flush(&run);
  return n;
}

size_t pargc_dirty_preclean(pargc_dirty_page_fn fn)
{
  if (!pargc_dirty_can_preclean())
    return 0;
  size_t n = take_dirty(true, false);
  for (size_t i = 0; i < n; i++)
    fn(dirty_batch_pages[i], dirty_batch_cards[i]);
  return n;
}

void pargc_dirty_release(void)
{
  if (dirty_barrier != PARGC_BARRIER_MPROTECT || !atomic_load(&dirty_protected))
    return;
  /* One call for the whole heap, then every page counts as writable
   * (the high-water mark back to 0).  A fault racing with this finds the
   * page writable already, or makes it so. */
  size_t top = atomic_load(&pargc_region.top);
  pargc_os_protect((void *)pargc_region.base, top << PARGC_PAGE_SHIFT, true);
  atomic_store(&protect_hwm, 0);
}

size_t pargc_dirty_finish(pargc_dirty_page_fn fn)
{
  size_t top = atomic_load(&pargc_region.top);
  if (dirty_barrier == PARGC_BARRIER_SOFT_DIRTY && !atomic_load(&dirty_all)) {
    /* Fold the kernel's bits into the card bitmap, a chunk at a time. */
    uint64_t buf[4096];
    size_t cards = top * PARGC_CARDS_PER_PAGE;
    for (size_t c = 0; c < cards; c += 4096) {
      size_t m = cards - c < 4096 ? cards - c : 4096;
      uintptr_t a = pargc_region.base + (c << PARGC_CARD_SHIFT);
      if (!pargc_os_soft_dirty_read(a, buf, m)) {
        atomic_store(&dirty_all, 1);
        break;
      }
      for (size_t j = 0; j < m; j++)
        if (buf[j])
          pargc_dirty_set_range(a + (j << PARGC_CARD_SHIFT), a + ((j + 1) << PARGC_CARD_SHIFT));
    }
  }
  /* Pages stay protected: the next cycle re-protects only what gets
   * written until then. */
  size_t n = take_dirty(false, atomic_load(&dirty_all) != 0);
  for (size_t i = 0; i < n; i++)
    fn(dirty_batch_pages[i], dirty_batch_cards[i]);
  return n;
}

void pargc_dirty_after_fork_child(void)
{
  /* Protection is inherited with the address space, and so is the
   * writable bitmap that describes it. */
  pargc_os_soft_dirty_after_fork();
}

/* ---- manual dirty bits ------------------------------------------------ */

void pargc_dirty_object(const void *p)
{
  if (!atomic_load_explicit(&pargc_alloc_black, memory_order_acquire) || !in_heap((uintptr_t)p))
    return;
  struct pargc_page *pg;
  int32_t i = pargc_pagemap_object((uintptr_t)p, &pg);
  if (i < 0)
    return;
  uintptr_t o = pargc_page_object_addr(pg, (uint32_t)i);
  size_t size = atomic_load_explicit(&pg->state, memory_order_relaxed) == PARGC_PAGE_LARGE
                    ? (size_t)pg->pages * PARGC_PAGE_SIZE
                    : pg->size;
  pargc_dirty_set_range(o, o + size);
}

void pargc_dirty_word(const void *p)
{
  uintptr_t a = (uintptr_t)p;
  if (atomic_load_explicit(&pargc_alloc_black, memory_order_acquire) && in_heap(a))
    pargc_dirty_set_range(a, a + sizeof(void *));
}

/* ---- system calls that write into the heap ----------------------------- */

/* With page protection, the kernel cannot write into a protected page: it
 * fails the call with EFAULT instead of faulting.  The calls below receive
 * into a bounce buffer whenever the destination touches a scanned heap
 * page, then copy with an ordinary store (which faults and is handled).
 * Whether a cycle runs does not matter: one may start while the call
 * blocks. */

static bool buffer_protectable(const void *buf, size_t n)
{
  if (dirty_barrier != PARGC_BARRIER_MPROTECT || !n)
    return false;
  uintptr_t lo = (uintptr_t)buf, hi = lo + n;
  uintptr_t hb = pargc_region.base, he = hb + (atomic_load(&pargc_region.top) << PARGC_PAGE_SHIFT);
  if (hi <= hb || lo >= he)
    return false;
  if (lo < hb)
    lo = hb;
  if (hi > he)
    hi = he;
  /* A page that may be protected now (left so by an earlier use), or
   * may be protected while the call blocks (a scanned span). */
  for (size_t i = (lo - hb) >> PARGC_PAGE_SHIFT; i <= (hi - 1 - hb) >> PARGC_PAGE_SHIFT; i++)
    if (page_scanned(i) || (writable_bits && !page_writable(i)))
      return true;
  return false;
}

static bool iov_protectable(const struct iovec *iov, int n)
{
  for (int i = 0; i < n; i++)
    if (buffer_protectable(iov[i].iov_base, iov[i].iov_len))
      return true;
  return false;
}

#define REAL(ret, name, ...)                                                  \
  static ret (*real_##name)(__VA_ARGS__);                                     \
  if (!real_##name)                                                           \
    real_##name = (ret(*)(__VA_ARGS__))pargc_os_next_symbol(#name)

/* A receiving call goes through a bounce buffer when its destination
 * may be protected:  real(..., bounce_begin(&b, buf, n), ...)  then
 * bounce_end(&b, buf, result), which copies what arrived (an ordinary
 * store: it faults and is handled) and frees the buffer. */
struct bounce {
  char small[4096];
  char *p; /* the buffer the call received into; NULL: the caller's */
};

static void *bounce_begin(struct bounce *b, void *buf, size_t n)
{
  b->p = NULL;
  if (!buffer_protectable(buf, n))
    return buf;
  b->p = n <= sizeof b->small ? b->small : malloc(n);
  return b->p ? b->p : buf; /* out of memory: try directly */
}

static ssize_t bounce_end(struct bounce *b, void *buf, ssize_t r)
{
  if (!b->p)
    return r;
  if (r > 0)
    memcpy(buf, b->p, (size_t)r);
  if (b->p != b->small)
    free(b->p);
  return r;
}

GC_API ssize_t read(int fd, void *buf, size_t n)
{
  REAL(ssize_t, read, int, void *, size_t);
  struct bounce b;
  return bounce_end(&b, buf, real_read(fd, bounce_begin(&b, buf, n), n));
}

GC_API ssize_t pread(int fd, void *buf, size_t n, off_t off)
{
  REAL(ssize_t, pread, int, void *, size_t, off_t);
  struct bounce b;
  return bounce_end(&b, buf, real_pread(fd, bounce_begin(&b, buf, n), n, off));
}

GC_API ssize_t recv(int fd, void *buf, size_t n, int flags)
{
  REAL(ssize_t, recv, int, void *, size_t, int);
  struct bounce b;
  return bounce_end(&b, buf, real_recv(fd, bounce_begin(&b, buf, n), n, flags));
}

GC_API ssize_t recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *addr,
                              socklen_t *alen)
{
  REAL(ssize_t, recvfrom, int, void *, size_t, int, struct sockaddr *, socklen_t *);
  struct bounce b;
  return bounce_end(&b, buf, real_recvfrom(fd, bounce_begin(&b, buf, n), n, flags, addr, alen));
}

/* Scatter `r` bytes of a bounce buffer over iov. */
static void scatter(const struct iovec *iov, int n, const char *src, size_t r)
{
  for (int i = 0; i < n && r; i++) {
    size_t m = iov[i].iov_len < r ? iov[i].iov_len : r;
    memcpy(iov[i].iov_base, src, m);
    src += m;
    r -= m;
  }
}

static size_t iov_total(const struct iovec *iov, int n)
{
  size_t t = 0;
  for (int i = 0; i < n; i++)
    t += iov[i].iov_len;
  return t;
}

/* The vector calls gather into one bounce buffer and scatter after. */
static char *bounce_iov(struct bounce *b, const struct iovec *iov, int n)
{
  b->p = NULL;
  if (iov_protectable(iov, n)) {
    size_t t = iov_total(iov, n);
    b->p = t <= sizeof b->small ? b->small : malloc(t);
  }
  return b->p;
}

static ssize_t bounce_iov_end(struct bounce *b, const struct iovec *iov, int n, ssize_t r)
{
  if (r > 0)
    scatter(iov, n, b->p, (size_t)r);
  if (b->p != b->small)
    free(b->p);
  return r;
}

GC_API ssize_t readv(int fd, const struct iovec *iov, int n)
{
  REAL(ssize_t, readv, int, const struct iovec *, int);
  struct bounce b;
  if (!bounce_iov(&b, iov, n))
    return real_readv(fd, iov, n);
  struct iovec one = {b.p, iov_total(iov, n)};
  return bounce_iov_end(&b, iov, n, real_readv(fd, &one, 1));
}

GC_API ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
  REAL(ssize_t, recvmsg, int, struct msghdr *, int);
  struct bounce b;
  struct iovec *orig = msg->msg_iov;
  int norig = (int)msg->msg_iovlen;
  if (!bounce_iov(&b, orig, norig))
    return real_recvmsg(fd, msg, flags);
  /* The data goes through the bounce buffer; control data and the
   * address are received where the caller put them. */
  struct iovec one = {b.p, iov_total(orig, norig)};
  msg->msg_iov = &one;
  msg->msg_iovlen = 1;
  ssize_t r = real_recvmsg(fd, msg, flags);
  msg->msg_iov = orig;
  msg->msg_iovlen = (size_t)norig;
  return bounce_iov_end(&b, orig, norig, r);
}
