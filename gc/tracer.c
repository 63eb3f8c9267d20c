/* tracer: parallel marking with work stealing; see tracer.h. */
#include "config.h"
#include "gc/tracer.h"
#include "gc/roots.h"
#include "gc/deque.h"
#include "gc/threads.h"
#include "alloc/options.h"
#include "alloc/os.h"
#include "alloc/page.h"
#include "alloc/pagemap.h"
#include "alloc/report.h"

#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

/* Each GC thread marks from a private stack (plain loads and stores, no
 * fences) and shares through its Chase-Lev deque: a take from a Chase-Lev
 * deque needs a full fence (deque.h, (2)), which on x86 is a locked
 * instruction that waits for the store buffer to drain -- once per object
 * it was the largest single cost of the mark loop (measured: half the
 * samples of a one-thread trace sat on it).  Work moves to the deque only
 * when the private stack is full or another GC thread is looking for work
 * (publish), so with one GC thread it never does.  Work on the private
 * stack is not stealable; the publish rule is what keeps the threads
 * balanced.  Boehm GC's parallel marker splits its work the same way
 * (local mark stacks, half of one handed back to the shared stack when a
 * helper is idle); here the shared part is the owner's deque, so thieves
 * still take the oldest entry. */
struct worker {
  struct pargc_deque deque;
  struct pargc_range *stack; /* private mark stack, owner only */
  uint32_t sp;               /* entries in stack (synced around calls out) */
  uint32_t stack_size;
  struct pargc_trace_thread_stats st;
  uint64_t rng;
  uint64_t start_generation; /* the job generation when it was spawned */
  /* Private mark bitmap, laid out like pargc_region.marks (see
   * mark_set's racy mode); all zero outside a racy trace. */
  uint64_t (*own_marks)[PARGC_MARK_WORDS];
  unsigned id;
} __attribute__((aligned(64)));

static struct worker *tracer_workers;
static unsigned tracer_nthreads;   /* configured */
static unsigned tracer_spawned;    /* helper threads running (excl. caller) */
static pid_t tracer_pid;

/* Heap bounds for this trace, read at begin.  The heap grows while a
 * mostly-concurrent mark runs with the world started, so they move:
 * pargc_tracer_refresh_bounds extends them between that cycle's traces. */
/* Words above the handed-out pages are black-listed only up to twice the
 * heap (plus 64 MiB): the heap grows there next, and the list stays
 * small enough to clear at every collection. */
static uintptr_t trace_base, trace_limit, trace_blacklist_limit;
static size_t trace_piece;

/* Shared overflow list: ranges that did not fit in a deque. */
static pthread_mutex_t overflow_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pargc_range *overflow_buf;
static size_t overflow_len, overflow_cap;
static _Atomic size_t overflow_count;

/* Termination and the start/stop handshake with helper threads. */
static _Atomic int trace_active;
static pthread_mutex_t job_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t job_cond = PTHREAD_COND_INITIALIZER;
static uint64_t job_generation;
static _Atomic unsigned job_done;
static _Atomic uint64_t helpers_cpu_ns; /* pargc_tracer_helpers_cpu_ns */
static unsigned trace_round_threads; /* threads taking part in this trace */
/* Abandoning a trace (pargc_tracer_trace_until): the collecting thread
 * asks the stop function every TRACE_STOP_PERIOD ranges it scans and sets
 * trace_stopped when it says so; every GC thread then drops its work and
 * goes idle, so the termination count reaches zero as usual.  The check
 * costs a branch on a local flag per range while no stop function is
 * set. */
#define TRACE_STOP_PERIOD 256
static int (*trace_stop_fn)(void);
static _Atomic bool trace_stopped;
static unsigned trace_used_threads;  /* the most of them since begin */

/* The worker running on this thread (descriptor-scanned objects and mark
 * procedures reach the marker through it). */
static __thread struct worker *tracer_self;
void (*pargc_tracer_scan_special)(uintptr_t obj);


unsigned pargc_tracer_threads(void)
{
  if (!tracer_nthreads) {
    int64_t n = pargc_opt.gc_threads;
    if (!n)
      n = pargc_opt.gc_markers;
    if (!n)
      n = pargc_opt.gc_nprocs;
    if (!n)
      n = pargc_os_ncpus();
    if (n > PARGC_MAX_GC_THREADS)
      n = PARGC_MAX_GC_THREADS;
    tracer_nthreads = (unsigned)n;
  }
  return tracer_nthreads;
}

void pargc_tracer_set_threads(unsigned n)
{
  if (n < 1)
    n = 1;
  if (n > PARGC_MAX_GC_THREADS)
    n = PARGC_MAX_GC_THREADS;
  /* Only grows the pool; extra helpers simply sit out when n shrinks. */
  tracer_nthreads = n;
}

static void overflow_push(struct pargc_range r)
{
  pthread_mutex_lock(&overflow_lock);
  if (overflow_len == overflow_cap) {
    size_t cap = overflow_cap ? overflow_cap * 2 : 4096;
    struct pargc_range *nb = pargc_os_alloc_meta(cap * sizeof *nb);
    if (!nb)
      pargc_fatal("out of memory for the mark overflow list");
    if (overflow_buf) {
      memcpy(nb, overflow_buf, overflow_len * sizeof *nb);
      pargc_os_free_meta(overflow_buf, overflow_cap * sizeof *nb);
    }
    overflow_buf = nb;
    overflow_cap = cap;
  }
  overflow_buf[overflow_len++] = r;
  atomic_store_explicit(&overflow_count, overflow_len, memory_order_release);
  pthread_mutex_unlock(&overflow_lock);
}

static bool overflow_take(struct pargc_range *out)
{
  if (!atomic_load_explicit(&overflow_count, memory_order_acquire))
    return false;
  bool got = false;
  pthread_mutex_lock(&overflow_lock);
  if (overflow_len) {
    *out = overflow_buf[--overflow_len];
    got = true;
  }
  atomic_store_explicit(&overflow_count, overflow_len, memory_order_release);
  pthread_mutex_unlock(&overflow_lock);
  return got;
}

/* Push onto the worker's deque, where thieves see it. */
static inline void push_shared(struct worker *w, struct pargc_range r)
{
  if (PARGC_UNLIKELY(!pargc_deque_push(&w->deque, r))) {
    w->st.overflows++;
    overflow_push(r);
  }
}

/* The private stack is full: the oldest half goes to the deque (oldest
 * first, so it is what thieves take first). */
static PARGC_NOINLINE void stack_spill(struct worker *w)
{
  uint32_t half = (w->sp + 1) / 2;
  for (uint32_t i = 0; i < half; i++)
    push_shared(w, w->stack[i]);
  memmove(w->stack, w->stack + half, (w->sp - half) * sizeof *w->stack);
  w->sp -= half;
}

/* Another GC thread is idle and this one's deque is empty: hand it the
 * oldest half of the private stack (the largest unexplored subtrees). */
static PARGC_NOINLINE void stack_publish(struct worker *w)
{
  stack_spill(w);
}

/* Push onto the private stack, from outside the mark loop (hooks, the
 * collector before the trace). */
static void push_local(struct worker *w, uintptr_t lo, uintptr_t hi)
{
  if (PARGC_UNLIKELY(w->sp == w->stack_size))
    stack_spill(w);
  w->stack[w->sp++] = (struct pargc_range){lo, hi};
}

/* Is another GC thread looking for work while this one has none to
 * offer in its deque?  Two loads of lines that stay in this core's cache
 * until a thief changes state, so cheap enough after every object. */
static inline bool others_hungry(struct worker *w)
{
  return atomic_load_explicit(&trace_active, memory_order_relaxed) < (int)trace_round_threads &&
         pargc_deque_size_hint(&w->deque) <= 0;
}

/* Racy marking.  When several GC threads mark a stopped world (no one
 * else sets mark bits), they set bits with plain stores
 * instead of locked ORs: a load, an OR and a store, so two threads setting
 * bits of one word at once can lose one of them.  Each thread also sets
 * every bit it sets in its own bitmap, and when the trace ends (every GC
 * thread idle, so no mark is being set) the GC threads OR the own bitmaps
 * into the shared one (merge_own_marks), a part of the heap each: the
 * shared bitmap then holds every bit that was set.  A bit lost in the
 * shared bitmap during the trace only lets another GC thread mark and
 * scan that object again -- work done twice, never a mark lost.  Bits set
 * before the trace started cannot be lost (every store writes back what
 * it read), nor can those of an earlier trace of the same collection,
 * merged when it ended.  Measured against the locked OR (with its
 * deferral, see mark_set), fullgc -g 2: 7860 against 6610 MB/s at 512 MB
 * live, 8200 against 7250 at 64 MB; GCBench's pauses with 2 threads about
 * the same (49-58 ms against 51-59).  The merge reads every own bitmap
 * over the heap's head pages: under 1% of fullgc's profile with 2 GC
 * threads.  Each thread's share of it is one whole bitmap's worth (a
 * 1/n slice of n bitmaps) however many threads there are, while the
 * trace shrinks with more: it will weigh more on 16 cores (not measured
 * yet).  The own bitmaps cost up to 1/128 of the heap each in resident
 * memory. */
static bool trace_racy;

/* The distance from a word of the shared bitmap to the same word of w's
 * own bitmap. */
static inline ptrdiff_t own_offset(const struct worker *w)
{
  return (char *)w->own_marks - (char *)pargc_region.marks;
}

/* Mark bits a GC thread has set but not yet written to the bitmap: a
 * few bitmap words, direct-mapped by address (see mark_set). */
#define PENDING_WORDS 16
struct pending {
  _Atomic uint64_t *word[PENDING_WORDS];
  uint64_t bits[PENDING_WORDS];
};

static inline void pending_flush(struct pending *pd)
{
  for (unsigned s = 0; s < PENDING_WORDS; s++) {
    if (pd->word[s])
      atomic_fetch_or_explicit(pd->word[s], pd->bits[s], memory_order_relaxed);
    pd->word[s] = NULL;
  }
}

/* Set mark bit i of a span; true if this call set it.  Plain (a load and
 * a store, no locked instruction) when this trace's marks are exclusive
 * to one thread -- see pargc_tracer_set_exclusive_marks.  Otherwise two
 * GC threads, or mutators that mark, may set other bits of the same word
 * at the same time, and a plain read-modify-write would lose theirs: the
 * bits go to the bitmap with a locked OR.  In the mark loop (pd given)
 * that OR is deferred: the bits of a word collect in `pd`, and one OR
 * writes them when the word is evicted or the loop ends (before the
 * thread can go idle, so before the trace can end).  Objects allocated in
 * order make runs of marks in one word: with 16 words, fullgc -m 256
 * with 2 GC threads traced 5% faster (6223-6577 against 6118-6247 MB/s,
 * interleaved runs), concurrent mode's steady state 5% faster too.  The
 * price: until its word is written, a mark is this thread's alone, and
 * another GC thread reaching the object meanwhile marks and scans it as
 * well -- work done twice, and counted twice in the live bytes, never a
 * mark lost.  With `own` (racy marking, see trace_racy) the plain store
 * is used by several threads, and the bit also goes to the thread's own
 * bitmap.  (An enum for the three ways, tested at compile time instead of
 * `own`, measured 6% slower on fullgc -m 512 -g 2: 7390-7630 against
 * 7870-8190 MB/s, likely code layout; so the test stays.) */
static inline __attribute__((always_inline)) bool mark_set(uint64_t *marks, uint32_t i, bool atomic,
                                                           struct pending *pd, ptrdiff_t own)
{
  _Atomic uint64_t *w = (_Atomic uint64_t *)&marks[i >> 6];
  uint64_t bit = (uint64_t)1 << (i & 63);
  uint64_t old = atomic_load_explicit(w, memory_order_relaxed);
  if (old & bit)
    return false;
  if (own) {
    /* Racy mode: plain stores to the shared bitmap, which may lose
     * another GC thread's bit of the same word, and the bit kept for
     * certain in this thread's own bitmap (see trace_racy). */
    atomic_store_explicit(w, old | bit, memory_order_relaxed);
    uint64_t *mine = (uint64_t *)((char *)w + own);
    *mine |= bit;
    return true;
  }
  if (!atomic) {
    atomic_store_explicit(w, old | bit, memory_order_relaxed);
    return true;
  }
  if (!pd)
    return !(atomic_fetch_or_explicit(w, bit, memory_order_relaxed) & bit);
  unsigned s = (unsigned)((uintptr_t)w >> 3) & (PENDING_WORDS - 1);
  if (pd->word[s] == w) {
    if (pd->bits[s] & bit)
      return false;
    pd->bits[s] |= bit;
    return true;
  }
  if (pd->word[s])
    atomic_fetch_or_explicit(pd->word[s], pd->bits[s], memory_order_relaxed);
  pd->word[s] = w;
  pd->bits[s] = bit;
  return true;
}

/* Interior pointers (Boehm's GC_all_interior_pointers, on by default):
 * when off, a word keeps an object alive only if it points at its start
 * or at a displacement registered with GC_register_displacement (offsets
 * below PARGC_MAX_DISPLACEMENT).  Read once per trace (pargc_tracer_begin):
 * the mark loop tests a flag that is false unless the program turned
 * interior pointers off. */
#define PARGC_MAX_DISPLACEMENT 65536
static _Atomic uint64_t displacements[PARGC_MAX_DISPLACEMENT / 64];
static bool trace_base_only;
int (*pargc_tracer_interior_pointers)(void);

void pargc_tracer_register_displacement(size_t offset)
{
  if (offset < PARGC_MAX_DISPLACEMENT)
    atomic_fetch_or_explicit(&displacements[offset / 64], (uint64_t)1 << (offset % 64),
                             memory_order_relaxed);
}

bool pargc_tracer_valid_displacement(size_t offset)
{
  return offset == 0 ||
         (offset < PARGC_MAX_DISPLACEMENT &&
          (atomic_load_explicit(&displacements[offset / 64], memory_order_relaxed) >>
           (offset % 64) & 1));
}

bool pargc_tracer_base_only(void)
{
  int (*interior)(void) = pargc_tracer_interior_pointers;
  return interior && !interior();
}

/* v is inside [base, base + limit): find its object, if there is one and
 * it is collectable -- its span's head in *pgp, its index in *ip.  A word
 * that hits a page not in use black-lists the page. */
static inline __attribute__((always_inline)) bool candidate_resolve(uintptr_t v,
                                                                    struct pargc_page **pgp,
                                                                    uint32_t *ip)
{
  struct pargc_page *pg = &pargc_region.pages[(v - trace_base) >> PARGC_PAGE_SHIFT];
  uint8_t st = atomic_load_explicit(&pg->state, memory_order_relaxed);
  if (st == PARGC_PAGE_TAIL) {
    pg -= pg->head_delta;
    st = atomic_load_explicit(&pg->state, memory_order_relaxed);
  }
  uintptr_t off = v - pargc_page_addr(pg);
  uint32_t i;
  if (PARGC_LIKELY(st == PARGC_PAGE_SMALL)) {
    i = pargc_sizeclass_index(off, pg->recip);
    if (PARGC_UNLIKELY(i >= pg->nobjs))
      return false;
  } else if (st == PARGC_PAGE_LARGE) {
    if (off >= pg->size)
      return false;
    i = 0;
  } else {
    pargc_blacklist_page((v - trace_base) >> PARGC_PAGE_SHIFT);
    return false;
  }
  if (PARGC_UNLIKELY(pargc_kind_uncollectable[pg->kind]))
    return false; /* scanned as roots at the start of every collection */
  if (PARGC_UNLIKELY(trace_base_only) &&
      !pargc_tracer_valid_displacement(off - (uintptr_t)i * pg->size))
    return false;
  *pgp = pg;
  *ip = i;
  return true;
}

/* Object i of span pg (from candidate_resolve): mark it; true when newly
 * marked and to be scanned (*out as for mark_candidate). */
static inline __attribute__((always_inline)) bool candidate_mark(struct pargc_page *pg, uint32_t i,
                                                                 bool atomic, struct pending *pd,
                                                                 ptrdiff_t own,
                                                                 struct pargc_range *out,
                                                                 uint64_t *objs, uint64_t *bytes)
{
  if (!mark_set(pargc_page_marks(pg), i, atomic, pd, own))
    return false;
  uint32_t size = pg->size;
  unsigned kind = pg->kind;
  *objs += 1;
  *bytes += size;
  uintptr_t obj = pargc_page_addr(pg) + (uintptr_t)i * size;
  if (PARGC_LIKELY(kind == PARGC_KIND_NORMAL)) {
    *out = (struct pargc_range){obj, obj + size};
    return true;
  }
  if (pargc_kind_scanned[kind]) {
    /* Only kinds made with GC_new_kind (typed, gcj, client descriptors)
     * get here scanned (uncollectable kinds were refused by
     * candidate_resolve): they are scanned by their descriptor, pushed as
     * (obj, 0), which the mark loop sends to pargc_tracer_scan_special.
     * The normal kind is tested first, against a register, instead of
     * loading the kind table. */
    *out = (struct pargc_range){obj, 0};
    return true;
  }
  return false;
}

/* v is inside [base, base + limit): mark its object if there is one.
 * Returns true when the object was newly marked and must be scanned:
 * *out is then its range, or (obj, 0) for a descriptor-scanned kind.
 * *bytes gets the size of every newly marked object. */
static inline __attribute__((always_inline)) bool mark_candidate(uintptr_t v, bool atomic,
                                                                 struct pending *pd, ptrdiff_t own,
                                                                 struct pargc_range *out,
                                                                 uint64_t *objs, uint64_t *bytes)
{
  struct pargc_page *pg;
  uint32_t i;
  return candidate_resolve(v, &pg, &i) && candidate_mark(pg, i, atomic, pd, own, out, objs, bytes);
}

/* Mark one word from outside the mark loop (hooks, the collector). */
static void mark_word_on(struct worker *w, uintptr_t v)
{
  struct pargc_range r;
  if (mark_candidate(v, true, NULL, trace_racy ? own_offset(w) : 0, &r, &w->st.marked_objects,
                     &w->st.marked_bytes))
    push_local(w, r.lo, r.hi);
}

/* Every word of [lo, hi) is a candidate pointer, marked now (the eager
 * roots of a concurrent collection's first stop). */
static void scan_words_now(struct worker *w, uintptr_t lo, uintptr_t hi)
{
  const uintptr_t base = trace_base, limit = trace_limit;
  for (const uintptr_t *p = (const uintptr_t *)lo; p < (const uintptr_t *)hi; p++) {
    uintptr_t v = *p;
    if (v - base < limit)
      mark_word_on(w, v);
    else if (PARGC_UNLIKELY(v - base < trace_blacklist_limit))
      pargc_blacklist_page((v - base) >> PARGC_PAGE_SHIFT); /* not handed out yet */
  }
}

static inline uint64_t rng_next(uint64_t *s)
{
  *s ^= *s << 13;
  *s ^= *s >> 7;
  *s ^= *s << 17;
  return *s;
}

static bool try_steal(struct worker *w, struct pargc_range *out)
{
  unsigned n = trace_round_threads;
  unsigned start = (unsigned)(rng_next(&w->rng) % n);
  for (unsigned k = 0; k < n; k++) {
    struct worker *v = &tracer_workers[(start + k) % n];
    if (v == w || pargc_deque_size_hint(&v->deque) <= 0)
      continue;
    if (pargc_deque_steal(&v->deque, out)) {
      w->st.steals++;
      return true;
    }
  }
  return false;
}

static bool work_visible(void)
{
  if (atomic_load_explicit(&overflow_count, memory_order_relaxed))
    return true;
  for (unsigned k = 0; k < trace_round_threads; k++)
    if (pargc_deque_size_hint(&tracer_workers[k].deque) > 0)
      return true;
  return false;
}

/* Should this worker abandon the trace?  Worker 0 (the collecting
 * thread, which may run the program's code) asks the stop function every
 * TRACE_STOP_PERIOD ranges; the others only read the flag. */
static PARGC_NOINLINE bool stop_check(struct worker *w, unsigned *countdown)
{
  if (atomic_load_explicit(&trace_stopped, memory_order_relaxed))
    return true;
  if (w->id != 0 || --*countdown)
    return false;
  *countdown = TRACE_STOP_PERIOD;
  if (!trace_stop_fn())
    return false;
  atomic_store_explicit(&trace_stopped, true, memory_order_relaxed);
  return true;
}

/* Scan everything reachable from the worker's private stack, its deque
 * and the shared overflow list.  Ranges pass through a small FIFO on
 * their way from the stack to the scanner, and are prefetched as they
 * enter it: by the time one is scanned its first cache line has had
 * PREFETCH_DEPTH scans' worth of time to arrive.  (Prefetch-on-grey:
 * Cher, Hosking and Vijaykumar, "Software prefetching for mark-sweep
 * garbage collection", ASPLOS 2004.)  Without it, the marker waits on a
 * cache miss for nearly every object.
 *
 * The depth must cover a memory latency with scans: a 32-byte node is
 * scanned in a few nanoseconds, so 8 entries hid only part of a miss.
 * Measured on fullgc -m 256 -g 1 (trace MB/s, medians of 5 interleaved
 * runs): depth 8: 2143, 16: 3258, 32: 3960, 64: 4209 with the FIFO as an
 * array of structs; with the split arrays below, 32: 4466, 64: 4941,
 * 128: 4766.  64 entries stay well inside L1, as do the lines they
 * prefetch.
 *
 * When several GC threads mark a large heap, candidate pointers pass
 * through a second ring on their way to being marked: a word that points
 * into the heap has its page descriptor prefetched and waits CAND_DEPTH
 * candidates before mark_candidate reads that descriptor and the mark
 * word.  With one GC thread those loads mostly hit in cache and the ring
 * only costs (1-4% on fullgc's trees, 10% with its pointer arrays); with
 * two they do not, and the trace waited on them -- once the descriptors
 * and bitmaps of the heap outgrow a core's L2 (pargc_tracer_begin): on
 * this 2-core machine (1 MiB of L2 a core) the ring made fullgc -g 2 15%
 * slower at 16-64 MB live, 1-3% faster at 128 MB, 14% faster at 512 MB.
 * fullgc -m 256 -g 2, trees only (-a 0): 6650-6730 MB/s with the ring
 * against 5370-5540 without (interleaved runs); with the standard arrays
 * 6550 against 6360.  A microbenchmark of
 * the same loop over the same heap without descriptor lookups scaled 1.8x
 * from one thread to two, with them 1.6x, with them prefetched 2.0x.
 *
 * One body, instantiated for each choice of mark-bit update and of the
 * candidate ring that drain makes, so those choices cost no branch per
 * word. */
#define PREFETCH_DEPTH 64
#define CAND_DEPTH 32

static inline __attribute__((always_inline)) void drain_body(struct worker *w, bool atomic,
                                                             bool ring, bool racy)
{
  /* The FIFO's two words live in two arrays and are moved one word at a
   * time: a stack entry is written as two 8-byte stores, and reading it
   * back as one 16-byte load (what a struct copy compiles to) defeats
   * store-to-load forwarding -- a stall of its own on every object. */
  uintptr_t fifo_lo[PREFETCH_DEPTH], fifo_hi[PREFETCH_DEPTH];
  struct pargc_range r;
  unsigned head = 0, n = 0;
  struct pargc_range *const stk = w->stack;
  const uint32_t cap = w->stack_size;
  uint32_t sp = w->sp;
  uint64_t objs = 0, bytes = 0;
  struct pending pd = {{0}, {0}};
  uintptr_t cand[CAND_DEPTH];
  unsigned chead = 0, cn = 0;
  struct pargc_page *const pages = pargc_region.pages;
  const ptrdiff_t own = racy ? own_offset(w) : 0;
  const bool sharing = trace_round_threads > 1;
  const uintptr_t base = trace_base, limit = trace_limit;
  const size_t piece = trace_piece;
  const bool stoppable = trace_stop_fn != NULL;
  unsigned stop_countdown = TRACE_STOP_PERIOD;
/* Calls out of the loop see and change the stack through w->sp. */
#define SYNC_OUT() (w->sp = sp)
#define SYNC_IN() (sp = w->sp)
#define PUSH(range)                                                         \
  do {                                                                      \
    if (PARGC_UNLIKELY(sp == cap)) {                                        \
      SYNC_OUT();                                                           \
      stack_spill(w);                                                       \
      SYNC_IN();                                                            \
    }                                                                       \
    stk[sp++] = (range);                                                    \
  } while (0)
  for (;;) {
    if (n < PREFETCH_DEPTH && sp > 0) {
      --sp;
      uintptr_t lo = stk[sp].lo, hi = stk[sp].hi;
      __builtin_prefetch((const void *)lo);
      fifo_lo[(head + n) % PREFETCH_DEPTH] = lo;
      fifo_hi[(head + n) % PREFETCH_DEPTH] = hi;
      n++;
      continue;
    }
    if (n == 0) {
      if (cn > 0) {
        uintptr_t v = cand[chead];
        chead = (chead + 1) % CAND_DEPTH;
        cn--;
        struct pargc_range o;
        if (mark_candidate(v, atomic, &pd, own, &o, &objs, &bytes))
          PUSH(o);
        continue;
      }
      if (pargc_deque_take(&w->deque, &r) || overflow_take(&r)) {
        stk[0] = r; /* sp was 0 */
        sp = 1;
        continue;
      }
      break;
    }
    uintptr_t lo = fifo_lo[head], hi = fifo_hi[head];
    head = (head + 1) % PREFETCH_DEPTH;
    n--;
    if (PARGC_UNLIKELY(hi - lo > piece)) {
      if (PARGC_UNLIKELY(hi == 0)) {
        /* A descriptor-scanned object (see mark_candidate); the check
         * sits in the branch that ordinary objects almost never take. */
        SYNC_OUT();
        pargc_tracer_scan_special(lo);
        SYNC_IN();
        continue;
      }
      /* Keep one piece, leave the rest for later (or for thieves). */
      PUSH(((struct pargc_range){lo + piece, hi}));
      hi = lo + piece;
    }
    for (const uintptr_t *p = (const uintptr_t *)lo; p < (const uintptr_t *)hi; p++) {
      uintptr_t v = *p;
      if (v - base < limit) {
        if (!ring) {
          struct pargc_range o;
          if (mark_candidate(v, atomic, &pd, own, &o, &objs, &bytes))
            PUSH(o);
          continue;
        }
        __builtin_prefetch(&pages[(v - base) >> PARGC_PAGE_SHIFT]);
        if (cn < CAND_DEPTH) {
          cand[(chead + cn++) % CAND_DEPTH] = v;
          continue;
        }
        uintptr_t u = cand[chead];
        cand[chead] = v;
        chead = (chead + 1) % CAND_DEPTH;
        struct pargc_range o;
        if (mark_candidate(u, atomic, &pd, own, &o, &objs, &bytes))
          PUSH(o);
      } else if (PARGC_UNLIKELY(v - base < trace_blacklist_limit)) {
        pargc_blacklist_page((v - base) >> PARGC_PAGE_SHIFT); /* not handed out yet */
      }
    }
    if (PARGC_UNLIKELY(stoppable) && PARGC_UNLIKELY(stop_check(w, &stop_countdown))) {
      /* Abandoned: drop this thread's work (the FIFO, the candidate
       * ring and the stack; pargc_tracer_abandon empties the rest). */
      n = 0;
      cn = 0;
      sp = 0;
      break;
    }
    if (sharing && PARGC_UNLIKELY(others_hungry(w))) {
      if (sp > 1) {
        SYNC_OUT();
        stack_publish(w);
        SYNC_IN();
      } else if (n > 1) {
        /* Nothing left on the stack, but the FIFO holds several ranges
         * (many lists traversed side by side): hand over the newest half.
         * Their prefetches are wasted on this core; the thief's cost. */
        for (unsigned k = n / 2; k > 0; k--) {
          unsigned at = (head + n - 1) % PREFETCH_DEPTH;
          push_shared(w, (struct pargc_range){fifo_lo[at], fifo_hi[at]});
          n--;
        }
      }
    }
  }
#undef PUSH
#undef SYNC_IN
#undef SYNC_OUT
  if (atomic)
    pending_flush(&pd);
  w->sp = sp;
  w->st.marked_objects += objs;
  w->st.marked_bytes += bytes;
}

static PARGC_NOINLINE void drain_plain(struct worker *w) { drain_body(w, false, false, false); }
static PARGC_NOINLINE void drain_atomic(struct worker *w) { drain_body(w, true, false, false); }
static PARGC_NOINLINE void drain_atomic_ring(struct worker *w) { drain_body(w, true, true, false); }
static PARGC_NOINLINE void drain_racy(struct worker *w) { drain_body(w, false, false, true); }
static PARGC_NOINLINE void drain_racy_ring(struct worker *w) { drain_body(w, false, true, true); }

/* This trace's mark bits are set by its GC threads only (see
 * pargc_tracer_set_exclusive_marks); reset by pargc_tracer_begin. */
static bool trace_exclusive_marks;
/* Use the candidate ring with several GC threads (pargc_tracer_begin). */
static bool trace_ring;

static void drain(struct worker *w)
{
  /* Plain mark-bit updates only when one thread marks: measured 7% of a
   * one-thread trace, the cost of the locked OR per newly marked object.
   * With several, plain stores and own bitmaps in a stopped world
   * (trace_racy), locked ORs otherwise; the candidate ring on a large
   * heap (see drain_body). */
  if (trace_racy && trace_ring)
    drain_racy_ring(w);
  else if (trace_racy)
    drain_racy(w);
  else if (trace_round_threads > 1 && trace_ring)
    drain_atomic_ring(w);
  else if (trace_exclusive_marks && trace_round_threads == 1)
    drain_plain(w);
  else
    drain_atomic(w);
}

/* The end of a racy trace (every GC thread idle): OR the GC threads' own
 * bitmaps into the shared one and clear them, for this worker's share of
 * the pages.  Only head pages carry marks; a large object has one bit. */
static void merge_own_marks(struct worker *w)
{
  size_t npages = trace_limit >> PARGC_PAGE_SHIFT, n = trace_round_threads;
  size_t lo = npages * w->id / n, hi = npages * (w->id + 1) / n;
  for (size_t p = lo; p < hi; p++) {
    const struct pargc_page *pg = &pargc_region.pages[p];
    uint8_t st = atomic_load_explicit(&pg->state, memory_order_relaxed);
    size_t words = st == PARGC_PAGE_SMALL ? ((size_t)pg->nobjs + 63) / 64
                   : st == PARGC_PAGE_LARGE ? 1 : 0;
    uint64_t *shared = pargc_region.marks[p];
    for (unsigned t = 0; t < n; t++) {
      uint64_t *own = tracer_workers[t].own_marks[p];
      for (size_t j = 0; j < words; j++) {
        if (own[j]) {
          _Atomic uint64_t *sw = (_Atomic uint64_t *)&shared[j];
          atomic_store_explicit(sw, atomic_load_explicit(sw, memory_order_relaxed) | own[j],
                                memory_order_relaxed);
          own[j] = 0;
        }
      }
    }
  }
}

static void worker_trace(struct worker *w)
{
  uint64_t t0 = pargc_os_now_ns();
  struct pargc_range r;
  tracer_self = w;
  for (;;) {
    drain(w);
    /* Idle: leave the active count, then look for work or the end. */
    atomic_fetch_sub_explicit(&trace_active, 1, memory_order_acq_rel);
    unsigned spins = 0;
    for (;;) {
      /* The collecting thread asks the stop function while it waits for
       * the others too: they may be doing all the marking. */
      if (PARGC_UNLIKELY(trace_stop_fn != NULL) && w->id == 0 &&
          !atomic_load_explicit(&trace_stopped, memory_order_relaxed) && trace_stop_fn())
        atomic_store_explicit(&trace_stopped, true, memory_order_relaxed);
      if (atomic_load_explicit(&trace_active, memory_order_acquire) == 0) {
        if (trace_racy)
          merge_own_marks(w);
        w->st.busy_ns += pargc_os_now_ns() - t0;
        return;
      }
      if (!atomic_load_explicit(&trace_stopped, memory_order_relaxed) && work_visible()) {
        atomic_fetch_add_explicit(&trace_active, 1, memory_order_acq_rel);
        if (try_steal(w, &r) || overflow_take(&r)) {
          push_local(w, r.lo, r.hi);
          break;
        }
        atomic_fetch_sub_explicit(&trace_active, 1, memory_order_acq_rel);
      }
      if (++spins > 64)
        sched_yield();
      else
        __builtin_ia32_pause();
    }
  }
}

static void *helper_main(void *arg)
{
  struct worker *w = arg;
  pthread_setname_np(pthread_self(), "pargc-mark"); /* for top, perf, gdb */
  /* Only jobs posted after the spawn concern this thread (after fork the
   * generation counter is inherited and non-zero). */
  uint64_t seen = w->start_generation;
  for (;;) {
    pthread_mutex_lock(&job_lock);
    while (job_generation == seen)
      pthread_cond_wait(&job_cond, &job_lock);
    seen = job_generation;
    pthread_mutex_unlock(&job_lock);
    if (w->id < trace_round_threads) {
      uint64_t cpu0 = pargc_os_thread_cpu_ns();
      worker_trace(w);
      atomic_fetch_add_explicit(&helpers_cpu_ns, pargc_os_thread_cpu_ns() - cpu0,
                                memory_order_relaxed);
    }
    atomic_fetch_add_explicit(&job_done, 1, memory_order_acq_rel);
  }
  return NULL;
}

uint64_t pargc_tracer_helpers_cpu_ns(void)
{
  return atomic_load_explicit(&helpers_cpu_ns, memory_order_relaxed);
}

void pargc_tracer_prepare(void)
{
  unsigned n = pargc_tracer_threads();
  if (!tracer_workers) {
    tracer_workers = pargc_os_alloc_meta(PARGC_MAX_GC_THREADS * sizeof(struct worker));
    if (!tracer_workers)
      pargc_fatal("out of memory for the GC threads' state");
    tracer_pid = getpid();
  }
  for (unsigned i = 0; i < n; i++) {
    struct worker *w = &tracer_workers[i];
    if (!w->deque.buf) {
      /* The private stack has the deque's size: PARGC_DEQUE_SIZE=4 (the
       * overflow stress test) then exercises the spill path as well. */
      size_t n_stack = (size_t)pargc_opt.deque_size;
      w->stack = pargc_os_alloc_meta(n_stack * sizeof *w->stack);
      if (!pargc_deque_init(&w->deque, n_stack) || !w->stack)
        pargc_fatal("out of memory for a mark deque");
      w->stack_size = (uint32_t)n_stack;
      w->id = i;
      w->rng = 0x9E3779B97F4A7C15ull * (i + 1);
    }
  }
  /* Own bitmaps for racy marking, reserved for the whole heap range and
   * touched only where their thread marks.  Without one, marking stays
   * atomic (pargc_tracer_trace). */
  for (unsigned i = 0; n > 1 && i < n; i++)
    if (!tracer_workers[i].own_marks)
      tracer_workers[i].own_marks =
          pargc_os_alloc_meta(pargc_region.max_pages * sizeof *tracer_workers[i].own_marks);
  /* Helpers: threads 1..n-1 (the collecting thread is thread 0). */
  while (tracer_spawned + 1 < n) {
    pthread_t t;
    struct worker *w = &tracer_workers[tracer_spawned + 1];
    pthread_mutex_lock(&job_lock);
    w->start_generation = job_generation;
    pthread_mutex_unlock(&job_lock);
    if (pargc_threads_spawn_internal(&t, helper_main, w) != 0) {
      pargc_warn("cannot start GC thread %u; marking with %u", tracer_spawned + 1,
                 tracer_spawned + 1);
      tracer_nthreads = tracer_spawned + 1;
      break;
    }
    tracer_spawned++; /* never exits, never joined */
  }
}

void pargc_tracer_after_fork_child(void)
{
  /* Helper threads do not survive fork; start new ones on demand. */
  tracer_spawned = 0;
  tracer_pid = getpid();
  pthread_mutex_init(&job_lock, NULL);
  pthread_cond_init(&job_cond, NULL);
  pthread_mutex_init(&overflow_lock, NULL);
}

void pargc_tracer_refresh_bounds(void)
{
  trace_base = pargc_region.base;
  trace_limit = atomic_load(&pargc_region.top) << PARGC_PAGE_SHIFT;
  trace_blacklist_limit = 2 * trace_limit + ((uintptr_t)64 << 20);
  if (trace_blacklist_limit > pargc_region.reserve)
    trace_blacklist_limit = pargc_region.reserve;
}

void pargc_tracer_begin(void)
{
  trace_base_only = pargc_tracer_base_only();
  pargc_tracer_refresh_bounds();
  pargc_blacklist_clear();
  trace_used_threads = 0;
  trace_piece = (size_t)pargc_opt.mark_piece & ~(size_t)7;
  for (unsigned i = 0; i < tracer_nthreads; i++)
    memset(&tracer_workers[i].st, 0, sizeof tracer_workers[i].st);
  trace_exclusive_marks = false;
  /* The candidate ring (drain_body) pays once the descriptors and mark
   * bitmaps of the pages handed out no longer fit in one core's L2. */
  static size_t l2;
  if (!l2)
    l2 = pargc_os_l2_cache_size();
  size_t meta = (trace_limit >> PARGC_PAGE_SHIFT) *
                (sizeof(struct pargc_page) + PARGC_MARK_WORDS * sizeof(uint64_t));
  trace_ring = meta > l2;
}

void pargc_tracer_set_exclusive_marks(bool exclusive)
{
  trace_exclusive_marks = exclusive;
}

static bool tracer_eager;
static bool tracer_verifying; /* PARGC_VERIFY is checking: see Verification */
static size_t verify_misses;
static uintptr_t verify_where PARGC_UNSCANNED; /* an address, not a root */
static void verify_word(uintptr_t where, uintptr_t v);
static void verify_range(void *lo, void *hi, void *arg);

void pargc_tracer_set_eager(bool on) { tracer_eager = on; }

static _Atomic bool tracer_world_running;

void pargc_tracer_set_world_running(bool running)
{
  atomic_store_explicit(&tracer_world_running, running, memory_order_relaxed);
}

bool pargc_tracer_world_running(void)
{
  return atomic_load_explicit(&tracer_world_running, memory_order_relaxed);
}

void pargc_tracer_push_range(void *lo, void *hi)
{
  if (PARGC_UNLIKELY(tracer_verifying)) {
    verify_range(lo, hi, NULL);
    return;
  }
  uintptr_t l = ((uintptr_t)lo + 7) & ~(uintptr_t)7;
  uintptr_t h = (uintptr_t)hi & ~(uintptr_t)7;
  if (l >= h)
    return;
  if (tracer_eager) {
    tracer_self = &tracer_workers[0];
    scan_words_now(&tracer_workers[0], l, h);
  } else {
    push_shared(&tracer_workers[0], (struct pargc_range){l, h});
  }
}

void pargc_tracer_push_special(uintptr_t obj)
{
  if (PARGC_UNLIKELY(tracer_verifying)) {
    verify_word(verify_where, obj);
    return;
  }
  push_shared(&tracer_workers[0], (struct pargc_range){obj, 0});
}

void pargc_tracer_mark_pointer(uintptr_t p)
{
  if (PARGC_UNLIKELY(tracer_verifying)) {
    verify_word(verify_where, p);
    return;
  }
  tracer_self = &tracer_workers[0];
  if (p - trace_base < trace_limit)
    mark_word_on(&tracer_workers[0], p);
}

void pargc_tracer_mark_word(uintptr_t p)
{
  if (PARGC_UNLIKELY(tracer_verifying)) {
    verify_word(verify_where, p);
    return;
  }
  if (p - trace_base < trace_limit)
    mark_word_on(tracer_self, p);
}

void pargc_tracer_push_object_range(uintptr_t lo, uintptr_t hi)
{
  if (PARGC_UNLIKELY(tracer_verifying)) {
    verify_range((void *)lo, (void *)hi, NULL);
    return;
  }
  lo = (lo + 7) & ~(uintptr_t)7;
  hi &= ~(uintptr_t)7;
  if (lo < hi)
    push_local(tracer_self, lo, hi);
}

bool pargc_tracer_heap_bounds(uintptr_t *lo, uintptr_t *hi)
{
  *lo = trace_base;
  *hi = trace_base + trace_limit;
  return trace_limit != 0;
}

/* Below this much live data (at the previous collection) waking the other
 * GC threads costs more than it saves: a few tens of microseconds against
 * marking a megabyte in well under a millisecond on one core. */
#define TRACER_PARALLEL_MIN_LIVE ((size_t)1 << 20)
static unsigned trace_active_threads;

static unsigned trace_expected_threads;

void pargc_tracer_set_expected_live(size_t live_bytes)
{
  trace_expected_threads = live_bytes < TRACER_PARALLEL_MIN_LIVE ? 1 : tracer_nthreads;
  trace_active_threads = trace_expected_threads;
}

void pargc_tracer_set_active_threads(unsigned n)
{
  if (n > tracer_nthreads)
    n = tracer_nthreads;
  trace_active_threads = n ? n : trace_expected_threads;
}

void pargc_tracer_trace(void)
{
  pargc_tracer_trace_until(NULL);
}

bool pargc_tracer_trace_until(int (*stop)(void))
{
  trace_stop_fn = stop;
  atomic_store(&trace_stopped, false);
  if (stop && stop()) {
    trace_stop_fn = NULL;
    return false;
  }
  unsigned n = trace_active_threads ? trace_active_threads : tracer_nthreads;
  /* The trace ends when trace_active reaches zero, so it counts only
   * threads that exist: the configured number may have grown since
   * pargc_tracer_prepare started them (GC_set_markers_count from a
   * thread not yet stopped), and a count that included absent threads
   * never reached zero -- a collection that never ended. */
  if (n > tracer_spawned + 1)
    n = tracer_spawned + 1;
  atomic_store(&trace_active, (int)n);
  atomic_store(&job_done, 0);
  trace_round_threads = n;
  trace_racy = n > 1 && trace_exclusive_marks;
  for (unsigned i = 0; i < n && trace_racy; i++)
    trace_racy = tracer_workers[i].own_marks != NULL;
  if (n > trace_used_threads)
    trace_used_threads = n;
  if (n > 1) {
    pthread_mutex_lock(&job_lock);
    job_generation++;
    pthread_cond_broadcast(&job_cond);
    pthread_mutex_unlock(&job_lock);
  }
  worker_trace(&tracer_workers[0]);
  if (n > 1) {
    /* Every helper wakes for every job; wait until all have left it (and
     * merged their share of a racy trace's marks). */
    unsigned spins = 0;
    while (atomic_load_explicit(&job_done, memory_order_acquire) < tracer_spawned) {
      if (++spins > 64)
        sched_yield();
    }
    trace_racy = false;
  }
  trace_stop_fn = NULL;
  return !atomic_load(&trace_stopped);
}

/* No GC thread runs now: drop the work they left (the stopping thread
 * cleared its own stack; the others' stacks, every deque and the
 * overflow list may still hold ranges). */
void pargc_tracer_abandon(void)
{
  for (unsigned i = 0; i < tracer_nthreads; i++) {
    struct worker *w = &tracer_workers[i];
    struct pargc_range r;
    w->sp = 0;
    while (pargc_deque_take(&w->deque, &r))
      ;
  }
  pthread_mutex_lock(&overflow_lock);
  overflow_len = 0;
  atomic_store(&overflow_count, 0);
  pthread_mutex_unlock(&overflow_lock);
  atomic_store(&trace_stopped, false);
}

void pargc_tracer_finish(struct pargc_trace_stats *out)
{
  memset(out, 0, sizeof *out);
  out->threads = trace_used_threads;
  for (unsigned i = 0; i < trace_used_threads; i++) {
    const struct pargc_trace_thread_stats *s = &tracer_workers[i].st;
    out->per_thread[i] = *s;
    out->marked_bytes += s->marked_bytes;
    out->marked_objects += s->marked_objects;
    out->steals += s->steals;
    out->overflows += s->overflows;
  }
}

/* ---- Verification ----------------------------------------------------- */

/* PARGC_VERIFY re-derives reachability without the marker's state: its
 * own root scan (the collector's root enumerator and root hooks, called
 * again), every marked object scanned the way its kind says -- ranges
 * conservatively, client kinds through their descriptors and mark
 * procedures -- with every pointer that the marker would have followed
 * checked against the mark bits instead of marked.  While it runs, the
 * entry points below that hooks and kinds call (push_range,
 * push_object_range, mark_word, mark_pointer, push_special) check
 * instead of mark. */
bool pargc_tracer_verifying(void) { return tracer_verifying; }

static void verify_word(uintptr_t where, uintptr_t v)
{
  if (v - pargc_region.base >= (atomic_load(&pargc_region.top) << PARGC_PAGE_SHIFT))
    return;
  struct pargc_page *pg;
  int32_t i = pargc_pagemap_object(v, &pg);
  if (i < 0 || pargc_kind_uncollectable[pg->kind])
    return;
  if (trace_base_only &&
      !pargc_tracer_valid_displacement(v - pargc_page_object_addr(pg, (uint32_t)i)))
    return; /* not a pointer the marker follows */
  if (!pargc_mark_test(pargc_page_marks(pg), (uint32_t)i)) {
    if (verify_misses++ < 10)
      pargc_warn("PARGC_VERIFY: object %p (size %u, kind %u) reachable from %p (in %p) is not marked",
                 (void *)pargc_page_object_addr(pg, (uint32_t)i), pg->size, pg->kind,
                 (void *)where, (void *)verify_where);
  }
}

static void verify_range(void *lo, void *hi, void *arg)
{
  (void)arg;
  uintptr_t l = ((uintptr_t)lo + 7) & ~(uintptr_t)7, h = (uintptr_t)hi & ~(uintptr_t)7;
  for (uintptr_t p = l; p < h; p += 8)
    verify_word(p, *(uintptr_t *)p);
}

/* A marked object: what the marker would push for it, checked. */
static void verify_object(struct pargc_page *pg, uintptr_t o)
{
  verify_where = o;
  if (pg->kind >= PARGC_KIND_FIRST_CLIENT)
    pargc_tracer_scan_special(o); /* reports back through mark_word & co */
  else
    verify_range((void *)o, (void *)(o + pg->size), NULL);
}

size_t pargc_tracer_verify(void (*each_root)(void (*fn)(void *, void *, void *), void *arg))
{
  verify_misses = 0;
  tracer_verifying = true;
  verify_where = 0;
  each_root(verify_range, NULL);
  /* Every marked (or uncollectable-allocated) object of a scanned kind
   * must point only at marked objects. */
  for (struct pargc_page *pg = NULL; (pg = pargc_pagemap_next_in_use(pg));) {
    if (!pargc_kind_scanned[pg->kind])
      continue;
    const uint64_t *marks = pargc_page_marks(pg);
    for (uint32_t i = 0; i < pg->nobjs; i++)
      if (pargc_mark_test(marks, i))
        verify_object(pg, pargc_page_object_addr(pg, i));
  }
  tracer_verifying = false;
  verify_where = 0;
  return verify_misses;
}
