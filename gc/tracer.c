/* tracer: parallel marking with work stealing; see tracer.h. */
#include "config.h"
#include "gc/tracer.h"
#include "gc/roots.h"
#include "gc/deque.h"
#include "gc/model.h"
#include "gc/threads.h"
#include "alloc/options.h"
#include "alloc/os.h"
#include "alloc/page.h"
#include "alloc/pagemap.h"
#include "alloc/report.h"
#include "alloc/thread.h"

#include <pthread.h>
#include <sched.h>
#include <string.h>
#include <unistd.h>

/* Each GC thread marks from a private stack (plain loads and stores, no
 * fences) and shares through its Chase-Lev deque: a take from a Chase-Lev
 * deque needs a full fence (deque.h, (2)), which on x86 is a locked
 * instruction that waits for the store buffer to drain -- once per object
 * it was the largest single cost of the mark loop (docs/performance.md,
 * "The tracer's design figures").  Work moves to the deque only
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


/* Abandoning a trace (pargc_tracer_trace_until): the collecting thread
 * asks the stop function every TRACE_STOP_PERIOD ranges it scans and sets
 * `stopped` when it says so; every GC thread then drops its work and
 * goes idle, so the termination count reaches zero as usual.  The check
 * costs a branch on a local flag per range while no stop function is
 * set. */
#define TRACE_STOP_PERIOD 256
/* Interior pointers: see pargc_tracer_register_displacement. */
#define PARGC_MAX_DISPLACEMENT 65536

/* The tracer's state, one instance, T.  Each field says how long it
 * lives:
 *   [once]   set at start-up or by the program's settings, kept;
 *   [trace]  set by pargc_tracer_begin (and the collector's set_* calls
 *            around it) for one collection, whose traces all use it;
 *   [round]  set by pargc_tracer_trace_until for one round of marking
 *            (a mostly-concurrent collection runs several);
 *   [fork]   reset by pargc_tracer_after_fork_child as well.
 * [round] fields are read by every GC thread during the round and
 * written only by the collecting thread between rounds, except the
 * termination count and the stop flag, which are atomic. */
struct tracer {
  /* ---- [once] ---- */
  struct worker *workers;   /* PARGC_MAX_GC_THREADS, from the first prepare */
  unsigned nthreads;        /* configured (GC_set_markers_count, environment) */
  unsigned spawned;         /* helper threads running, the caller not counted [fork] */
  pid_t pid;                /* the process they run in [fork] */
  size_t l2_size;           /* one core's L2 cache (the candidate ring) */
  /* Offsets registered with GC_register_displacement: a bit each. */
  _Atomic uint64_t displacements[PARGC_MAX_DISPLACEMENT / 64];
  /* Helper threads wait for a new job generation under job_lock [fork]. */
  pthread_mutex_t job_lock;
  pthread_cond_t job_cond;
  uint64_t job_generation;  /* one per round with helpers */
  _Atomic uint64_t helpers_cpu_ns; /* CPU time of the helpers' traces, ever */
  /* Shared overflow list: ranges that did not fit in a deque, under
   * overflow_lock [fork]; empty between traces, the buffer kept. */
  pthread_mutex_t overflow_lock;
  struct pargc_range *overflow_buf;
  size_t overflow_len, overflow_cap;
  _Atomic size_t overflow_count; /* overflow_len, readable without the lock */

  /* ---- [trace] ---- */
  /* Heap bounds, read at begin.  The heap grows while a mostly-concurrent
   * mark runs with the world started, so they move:
   * pargc_tracer_refresh_bounds extends them between that cycle's
   * rounds.  Words above the handed-out pages are black-listed only up
   * to blacklist_limit, twice the heap (plus 64 MiB): the heap grows
   * there next, and the list stays small enough to clear at every
   * collection. */
  uintptr_t base, limit, blacklist_limit;
  size_t piece;             /* the longest range scanned at once (PARGC_MARK_PIECE) */
  bool base_only;           /* interior pointers off: see candidate_resolve */
  bool exclusive_marks;     /* only GC threads set mark bits (world stopped) */
  bool ring;                /* use the candidate ring (drain_body) */
  unsigned used_threads;    /* the most GC threads any round used */
  unsigned expected_threads; /* by the live data (set_expected_live) */
  /* PARGC_GC_THREADS=auto [once]: choose each collection's threads from
   * what the last one showed (model.h, the online form). */
  bool auto_threads;
  struct pargc_model_online online;
  unsigned active_threads;  /* asked for by the collector; 0: all */
  bool eager;               /* mark roots as they are pushed (first stop) */
  _Atomic bool world_running; /* marking beside the program */

  /* ---- [round] ---- */
  unsigned round_threads;   /* GC threads taking part */
  bool racy;                /* plain mark stores and own bitmaps: see mark_set */
  _Atomic int active;       /* GC threads not idle; the round ends at 0 */
  _Atomic unsigned job_done; /* helpers done with this round's job */
  int (*stop_fn)(void);     /* the stop function, or NULL */
  _Atomic bool stopped;     /* the stop function said stop */

  /* ---- PARGC_VERIFY (see Verification), for one check ---- */
  bool verifying;
  size_t verify_misses;
};

static struct tracer T = {
    .job_lock = PTHREAD_MUTEX_INITIALIZER,
    .job_cond = PTHREAD_COND_INITIALIZER,
    .overflow_lock = PTHREAD_MUTEX_INITIALIZER,
};

/* The worker running on this thread (descriptor-scanned objects and mark
 * procedures reach the marker through it). */
static __thread struct worker *tracer_self;
void (*pargc_tracer_scan_special)(uintptr_t obj);


unsigned pargc_tracer_threads(void)
{
  if (!T.nthreads) {
    int64_t n = pargc_opt.gc_threads;
    if (n < 0) { /* auto: up to the number the rest of the rules give */
      T.auto_threads = true;
      n = 0;
    }
    if (!n)
      n = pargc_opt.gc_markers;
    if (!n)
      n = pargc_opt.gc_nprocs;
    if (!n)
      n = pargc_os_ncpus();
    if (n > PARGC_MAX_GC_THREADS)
      n = PARGC_MAX_GC_THREADS;
    T.nthreads = (unsigned)n;
  }
  return T.nthreads;
}

void pargc_tracer_set_threads(unsigned n)
{
  if (n < 1)
    n = 1;
  if (n > PARGC_MAX_GC_THREADS)
    n = PARGC_MAX_GC_THREADS;
  /* Only grows the pool; extra helpers simply sit out when n shrinks. */
  T.nthreads = n;
}

static void overflow_push(struct pargc_range r)
{
  pthread_mutex_lock(&T.overflow_lock);
  if (T.overflow_len == T.overflow_cap) {
    size_t cap = T.overflow_cap ? T.overflow_cap * 2 : 4096;
    struct pargc_range *nb = pargc_os_alloc_meta(cap * sizeof *nb);
    if (!nb)
      pargc_fatal("out of memory for the mark overflow list");
    if (T.overflow_buf) {
      memcpy(nb, T.overflow_buf, T.overflow_len * sizeof *nb);
      pargc_os_free_meta(T.overflow_buf, T.overflow_cap * sizeof *nb);
    }
    T.overflow_buf = nb;
    T.overflow_cap = cap;
  }
  T.overflow_buf[T.overflow_len++] = r;
  atomic_store_explicit(&T.overflow_count, T.overflow_len, memory_order_release);
  pthread_mutex_unlock(&T.overflow_lock);
}

static bool overflow_take(struct pargc_range *out)
{
  if (!atomic_load_explicit(&T.overflow_count, memory_order_acquire))
    return false;
  bool got = false;
  pthread_mutex_lock(&T.overflow_lock);
  if (T.overflow_len) {
    *out = T.overflow_buf[--T.overflow_len];
    got = true;
  }
  atomic_store_explicit(&T.overflow_count, T.overflow_len, memory_order_release);
  pthread_mutex_unlock(&T.overflow_lock);
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
  pargc_assert(w->sp >= 1 && w->sp <= w->stack_size);
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
  /* A range of words, or a descriptor-scanned object (hi == 0). */
  pargc_assert(hi == 0 || lo < hi);
  if (PARGC_UNLIKELY(w->sp == w->stack_size))
    stack_spill(w);
  w->stack[w->sp++] = (struct pargc_range){lo, hi};
}

/* Is another GC thread looking for work while this one has none to
 * offer in its deque?  Two loads of lines that stay in this core's cache
 * until a thief changes state, so cheap enough after every object. */
static inline bool others_hungry(struct worker *w)
{
  return atomic_load_explicit(&T.active, memory_order_relaxed) < (int)T.round_threads &&
         pargc_deque_size_hint(&w->deque) <= 0;
}

/* Racy marking (T.racy).  When several GC threads mark a stopped world (no one
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
 * merged when it ended.  It traces faster than the locked OR (with its
 * deferral, see mark_set) on large heaps, and no slower on small ones.
 * The merge reads every own bitmap over the heap's head pages: each
 * thread's share of it is one whole bitmap's worth (a 1/n slice of n
 * bitmaps) however many threads there are, while the trace shrinks with
 * more, so it weighs more on many cores.  The own bitmaps cost up to
 * 1/128 of the heap each in resident memory.  (Figures:
 * docs/performance.md.) */

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
 * order make runs of marks in one word, so 16 words save most of the
 * locked ORs.  The price: until its word is written, a mark is this
 * thread's alone, and
 * another GC thread reaching the object meanwhile marks and scans it as
 * well -- work done twice, and counted twice in the live bytes, never a
 * mark lost.  With `own` (racy marking, see T.racy) the plain store
 * is used by several threads, and the bit also goes to the thread's own
 * bitmap.  (An enum for the three ways, tested at compile time instead of
 * `own`, was slower, likely by code layout; so the test stays.) */
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
     * certain in this thread's own bitmap (see T.racy). */
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
int (*pargc_tracer_interior_pointers)(void);

void pargc_tracer_register_displacement(size_t offset)
{
  if (offset < PARGC_MAX_DISPLACEMENT)
    atomic_fetch_or_explicit(&T.displacements[offset / 64], (uint64_t)1 << (offset % 64),
                             memory_order_relaxed);
}

bool pargc_tracer_valid_displacement(size_t offset)
{
  return offset == 0 ||
         (offset < PARGC_MAX_DISPLACEMENT &&
          (atomic_load_explicit(&T.displacements[offset / 64], memory_order_relaxed) >>
           (offset % 64) & 1));
}

bool pargc_tracer_base_only(void)
{
  int (*interior)(void) = pargc_tracer_interior_pointers;
  return interior && !interior();
}

/* v is inside [base, base + limit): find its object, if there is one and
 * it is collectable -- its span's head in *pgp, its index in *ip.  A word
 * that hits a page not in use black-lists the page.  `interior`: v is a
 * word of a stack or of saved registers, which keeps the object it points
 * into even with interior pointers off (see pargc_tracer_push_stack_range). */
static inline __attribute__((always_inline)) bool candidate_resolve(uintptr_t v,
                                                                    struct pargc_page **pgp,
                                                                    uint32_t *ip, bool interior)
{
  struct pargc_page *pg = &pargc_region.pages[(v - T.base) >> PARGC_PAGE_SHIFT];
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
    pargc_blacklist_page((v - T.base) >> PARGC_PAGE_SHIFT);
    return false;
  }
  if (PARGC_UNLIKELY(pargc_kind_uncollectable[pg->kind]))
    return false; /* scanned as roots at the start of every collection */
  if (!interior && PARGC_UNLIKELY(T.base_only) &&
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
  return candidate_resolve(v, &pg, &i, false) &&
         candidate_mark(pg, i, atomic, pd, own, out, objs, bytes);
}

/* Mark one word from outside the mark loop (hooks, the collector).
 * `stack`: a word of a stack or of saved registers, which keeps the
 * object it points into even with interior pointers off. */
static void mark_word_on(struct worker *w, uintptr_t v, bool stack)
{
  pargc_assert(v - T.base < T.limit); /* the callers check: a word inside the heap */
  struct pargc_page *pg;
  uint32_t i;
  struct pargc_range r;
  if (candidate_resolve(v, &pg, &i, stack) &&
      candidate_mark(pg, i, true, NULL, T.racy ? own_offset(w) : 0, &r, &w->st.marked_objects,
                     &w->st.marked_bytes))
    push_local(w, r.lo, r.hi);
}

/* Every word of [lo, hi) is a candidate pointer, marked now (the eager
 * roots of a concurrent collection's first stop; stacks when interior
 * pointers are off).  `stack`: the words are a stack's or registers'. */
static void scan_words_now(struct worker *w, uintptr_t lo, uintptr_t hi, bool stack)
{
  const uintptr_t base = T.base, limit = T.limit;
  for (const uintptr_t *p = (const uintptr_t *)lo; p < (const uintptr_t *)hi; p++) {
    uintptr_t v = *p;
    if (v - base < limit)
      mark_word_on(w, v, stack);
    else if (PARGC_UNLIKELY(v - base < T.blacklist_limit))
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
  unsigned n = T.round_threads;
  unsigned start = (unsigned)(rng_next(&w->rng) % n);
  for (unsigned k = 0; k < n; k++) {
    struct worker *v = &T.workers[(start + k) % n];
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
  if (atomic_load_explicit(&T.overflow_count, memory_order_relaxed))
    return true;
  for (unsigned k = 0; k < T.round_threads; k++)
    if (pargc_deque_size_hint(&T.workers[k].deque) > 0)
      return true;
  return false;
}

/* Should this worker abandon the trace?  Worker 0 (the collecting
 * thread, which may run the program's code) asks the stop function every
 * TRACE_STOP_PERIOD ranges; the others only read the flag. */
static PARGC_NOINLINE bool stop_check(struct worker *w, unsigned *countdown)
{
  if (atomic_load_explicit(&T.stopped, memory_order_relaxed))
    return true;
  if (w->id != 0 || --*countdown)
    return false;
  *countdown = TRACE_STOP_PERIOD;
  if (!T.stop_fn())
    return false;
  atomic_store_explicit(&T.stopped, true, memory_order_relaxed);
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
 * scanned in a few nanoseconds, so 8 entries hid only part of a miss;
 * 64 did best, and stay well inside L1, as do the lines they prefetch.
 *
 * When several GC threads mark a large heap, candidate pointers pass
 * through a second ring on their way to being marked: a word that points
 * into the heap has its page descriptor prefetched and waits CAND_DEPTH
 * candidates before mark_candidate reads that descriptor and the mark
 * word.  With one GC thread those loads mostly hit in cache and the ring
 * only costs; with two they do not, and the trace waits on them once the
 * descriptors and bitmaps of the heap outgrow a core's L2, which is when
 * pargc_tracer_begin turns the ring on.  (Figures for the depth and the
 * ring: docs/performance.md.)
 *
 * One body, instantiated for each choice of mark-bit update and of the
 * candidate ring that drain makes, so those choices cost no branch per
 * word. */
#define PREFETCH_DEPTH 64
#define CAND_DEPTH 32
/* How far ahead a long range is read (docs/performance.md, "The
 * tracer's design figures"). */
#define SCAN_AHEAD 4096

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
  const bool sharing = T.round_threads > 1;
  const uintptr_t base = T.base, limit = T.limit;
  const size_t piece = T.piece;
  const bool stoppable = T.stop_fn != NULL;
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
/* One word of a range being scanned: a heap candidate goes to
 * mark_candidate, now or (ring) after CAND_DEPTH more. */
#define SCAN_WORD(word)                                                     \
  do {                                                                      \
    uintptr_t v_ = (word);                                                  \
    if (v_ - base < limit) {                                                \
      struct pargc_range o_;                                                \
      if (!ring) {                                                          \
        if (mark_candidate(v_, atomic, &pd, own, &o_, &objs, &bytes))       \
          PUSH(o_);                                                         \
      } else {                                                              \
        __builtin_prefetch(&pages[(v_ - base) >> PARGC_PAGE_SHIFT]);        \
        if (cn < CAND_DEPTH) {                                              \
          cand[(chead + cn++) % CAND_DEPTH] = v_;                           \
        } else {                                                            \
          uintptr_t u_ = cand[chead];                                       \
          cand[chead] = v_;                                                 \
          chead = (chead + 1) % CAND_DEPTH;                                 \
          if (mark_candidate(u_, atomic, &pd, own, &o_, &objs, &bytes))     \
            PUSH(o_);                                                       \
        }                                                                   \
      }                                                                     \
    } else if (PARGC_UNLIKELY(v_ - base < T.blacklist_limit)) {             \
      pargc_blacklist_page((v_ - base) >> PARGC_PAGE_SHIFT); /* not handed out yet */ \
    }                                                                       \
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
    const uintptr_t *p = (const uintptr_t *)lo, *const e = (const uintptr_t *)hi;
    /* A long range is read ahead one line at a time, SCAN_AHEAD bytes
     * before the scan gets there: the FIFO prefetched only its first
     * line. */
    if (hi - lo > SCAN_AHEAD)
      for (const uintptr_t *stop = e - SCAN_AHEAD / sizeof *e; p < stop;) {
        __builtin_prefetch((const char *)p + SCAN_AHEAD);
        for (const uintptr_t *line_end = p + 64 / sizeof *p; p < line_end; p++)
          SCAN_WORD(*p);
      }
    for (; p < e; p++)
      SCAN_WORD(*p);
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
#undef SCAN_WORD
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


static void drain(struct worker *w)
{
  /* Plain mark-bit updates only when one thread marks: the locked OR per
   * newly marked object is a cost worth avoiding there.
   * With several, plain stores and own bitmaps in a stopped world
   * (T.racy), locked ORs otherwise; the candidate ring on a large
   * heap (see drain_body). */
  if (T.racy && T.ring)
    drain_racy_ring(w);
  else if (T.racy)
    drain_racy(w);
  else if (T.round_threads > 1 && T.ring)
    drain_atomic_ring(w);
  else if (T.exclusive_marks && T.round_threads == 1)
    drain_plain(w);
  else
    drain_atomic(w);
}

/* The end of a racy trace (every GC thread idle): OR the GC threads' own
 * bitmaps into the shared one and clear them, for this worker's share of
 * the pages.  Only head pages carry marks; a large object has one bit. */
static void merge_own_marks(struct worker *w)
{
  /* Only in a racy round (world stopped), once no GC thread marks.  The
   * active count may be off zero for a moment all the same: an idle
   * thread that saw a stale deque hint counts itself in, finds nothing
   * to steal (every deque is empty once the count reached zero) and
   * counts itself out. */
  pargc_assert(T.racy);
  size_t npages = T.limit >> PARGC_PAGE_SHIFT, n = T.round_threads;
  size_t lo = npages * w->id / n, hi = npages * (w->id + 1) / n;
  for (size_t p = lo; p < hi; p++) {
    const struct pargc_page *pg = &pargc_region.pages[p];
    uint8_t st = atomic_load_explicit(&pg->state, memory_order_relaxed);
    size_t words = st == PARGC_PAGE_SMALL ? ((size_t)pg->nobjs + 63) / 64
                   : st == PARGC_PAGE_LARGE ? 1 : 0;
    uint64_t *shared = pargc_region.marks[p];
    for (unsigned t = 0; t < n; t++) {
      uint64_t *own = T.workers[t].own_marks[p];
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
    /* Timed only for PARGC_GC_THREADS=auto, which reads it. */
    uint64_t d0 = T.auto_threads ? pargc_os_now_ns() : 0;
    drain(w);
    if (T.auto_threads)
      w->st.work_ns += pargc_os_now_ns() - d0;
    /* Idle: leave the active count, then look for work or the end.  The
     * count is within [0, round_threads]: this thread was in it. */
    int was = atomic_fetch_sub_explicit(&T.active, 1, memory_order_acq_rel);
    pargc_assert(was >= 1 && was <= (int)T.round_threads);
    (void)was;
    unsigned spins = 0;
    for (;;) {
      /* The collecting thread asks the stop function while it waits for
       * the others too: they may be doing all the marking. */
      if (PARGC_UNLIKELY(T.stop_fn != NULL) && w->id == 0 &&
          !atomic_load_explicit(&T.stopped, memory_order_relaxed) && T.stop_fn())
        atomic_store_explicit(&T.stopped, true, memory_order_relaxed);
      if (atomic_load_explicit(&T.active, memory_order_acquire) == 0) {
        if (T.racy)
          merge_own_marks(w);
        /* Done: drain left nothing on this thread's stack. */
        pargc_assert(w->sp == 0);
        w->st.busy_ns += pargc_os_now_ns() - t0;
        return;
      }
      if (!atomic_load_explicit(&T.stopped, memory_order_relaxed) && work_visible()) {
        int idle_was = atomic_fetch_add_explicit(&T.active, 1, memory_order_acq_rel);
        pargc_assert(idle_was >= 0 && idle_was < (int)T.round_threads);
        (void)idle_was;
        if (try_steal(w, &r) || overflow_take(&r)) {
          push_local(w, r.lo, r.hi);
          break;
        }
        atomic_fetch_sub_explicit(&T.active, 1, memory_order_acq_rel);
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
  pargc_os_set_thread_name("pargc-mark");
  /* Only jobs posted after the spawn concern this thread (after fork the
   * generation counter is inherited and non-zero). */
  uint64_t seen = w->start_generation;
  for (;;) {
    pthread_mutex_lock(&T.job_lock);
    while (T.job_generation == seen)
      pthread_cond_wait(&T.job_cond, &T.job_lock);
    seen = T.job_generation;
    pthread_mutex_unlock(&T.job_lock);
    if (w->id < T.round_threads) {
      uint64_t cpu0 = pargc_os_thread_cpu_ns();
      worker_trace(w);
      atomic_fetch_add_explicit(&T.helpers_cpu_ns, pargc_os_thread_cpu_ns() - cpu0,
                                memory_order_relaxed);
    }
    atomic_fetch_add_explicit(&T.job_done, 1, memory_order_acq_rel);
  }
  return NULL;
}

uint64_t pargc_tracer_helpers_cpu_ns(void)
{
  return atomic_load_explicit(&T.helpers_cpu_ns, memory_order_relaxed);
}

/* Below this much live data (at the previous collection) waking the other
 * GC threads costs more than it saves: a few tens of microseconds against
 * marking a megabyte in well under a millisecond on one core. */
#define TRACER_PARALLEL_MIN_LIVE ((size_t)1 << 20)

/* Workers 0..n-1 ready, helpers 1..n-1 running (n at most the number of
 * GC threads). */
static void tracer_prepare_n(unsigned n)
{
  if (!T.workers) {
    T.workers = pargc_os_alloc_meta(PARGC_MAX_GC_THREADS * sizeof(struct worker));
    if (!T.workers)
      pargc_fatal("out of memory for the GC threads' state");
    T.pid = getpid();
  }
  for (unsigned i = 0; i < n; i++) {
    struct worker *w = &T.workers[i];
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
    if (!T.workers[i].own_marks)
      T.workers[i].own_marks =
          pargc_os_alloc_meta(pargc_region.max_pages * sizeof *T.workers[i].own_marks);
  /* Helpers: threads 1..n-1 (the collecting thread is thread 0). */
  while (T.spawned + 1 < n) {
    pthread_t t;
    struct worker *w = &T.workers[T.spawned + 1];
    pthread_mutex_lock(&T.job_lock);
    w->start_generation = T.job_generation;
    pthread_mutex_unlock(&T.job_lock);
    if (pargc_threads_spawn_internal(&t, helper_main, w) != 0) {
      pargc_warn("cannot start GC thread %u; marking with %u", T.spawned + 1,
                 T.spawned + 1);
      T.nthreads = T.spawned + 1;
      break;
    }
    T.spawned++; /* never exits, never joined */
  }
}

void pargc_tracer_prepare(void)
{
  tracer_prepare_n(pargc_tracer_threads());
}

void pargc_tracer_prepare_for(size_t live_bytes)
{
  unsigned n = pargc_tracer_threads();
  tracer_prepare_n(live_bytes < TRACER_PARALLEL_MIN_LIVE ? 1 : n);
}

void pargc_tracer_after_fork_child(void)
{
  /* Helper threads do not survive fork; start new ones on demand. */
  T.spawned = 0;
  T.pid = getpid();
  pthread_mutex_init(&T.job_lock, NULL);
  pthread_cond_init(&T.job_cond, NULL);
  pthread_mutex_init(&T.overflow_lock, NULL);
}

void pargc_tracer_refresh_bounds(void)
{
  T.base = pargc_region.base;
  T.limit = atomic_load(&pargc_region.top) << PARGC_PAGE_SHIFT;
  T.blacklist_limit = 2 * T.limit + ((uintptr_t)64 << 20);
  if (T.blacklist_limit > pargc_region.reserve)
    T.blacklist_limit = pargc_region.reserve;
}

void pargc_tracer_begin(void)
{
  /* Prepared, and no round or verification in progress. */
  pargc_assert(T.workers != NULL && !T.verifying);
  pargc_assert(atomic_load(&T.active) == 0);
  T.base_only = pargc_tracer_base_only();
  pargc_tracer_refresh_bounds();
  pargc_blacklist_clear();
  T.used_threads = 0;
  T.piece = (size_t)pargc_opt.mark_piece & ~(size_t)7;
  for (unsigned i = 0; i < T.nthreads; i++)
    memset(&T.workers[i].st, 0, sizeof T.workers[i].st);
  T.exclusive_marks = false;
  /* The candidate ring (drain_body) pays once the descriptors and mark
   * bitmaps of the pages handed out no longer fit in one core's L2. */
  if (!T.l2_size)
    T.l2_size = pargc_os_l2_cache_size();
  size_t meta = (T.limit >> PARGC_PAGE_SHIFT) *
                (sizeof(struct pargc_page) + PARGC_MARK_WORDS * sizeof(uint64_t));
  T.ring = meta > T.l2_size;
}

void pargc_tracer_set_exclusive_marks(bool exclusive)
{
  /* Only GC threads set marks only while the world is stopped. */
  pargc_assert(!exclusive || pargc_world_stopped_by_me);
  T.exclusive_marks = exclusive;
}

static uintptr_t verify_where PARGC_UNSCANNED; /* an address, not a root */
static void verify_word(uintptr_t where, uintptr_t v, bool stack);
static void verify_range(void *lo, void *hi, void *arg);
static void verify_stack_range(void *lo, void *hi, void *arg);

void pargc_tracer_set_eager(bool on) { T.eager = on; }


void pargc_tracer_set_world_running(bool running)
{
  atomic_store_explicit(&T.world_running, running, memory_order_relaxed);
}

bool pargc_tracer_world_running(void)
{
  return atomic_load_explicit(&T.world_running, memory_order_relaxed);
}

void pargc_tracer_push_range(void *lo, void *hi)
{
  if (PARGC_UNLIKELY(T.verifying)) {
    verify_range(lo, hi, NULL);
    return;
  }
  uintptr_t l = ((uintptr_t)lo + 7) & ~(uintptr_t)7;
  uintptr_t h = (uintptr_t)hi & ~(uintptr_t)7;
  if (l >= h)
    return;
  if (T.eager) {
    tracer_self = &T.workers[0];
    scan_words_now(&T.workers[0], l, h, false);
  } else {
    push_shared(&T.workers[0], (struct pargc_range){l, h});
  }
}

void pargc_tracer_push_stack_range(void *lo, void *hi)
{
  if (PARGC_UNLIKELY(T.verifying)) {
    verify_stack_range(lo, hi, NULL);
    return;
  }
  if (PARGC_LIKELY(!T.base_only)) {
    pargc_tracer_push_range(lo, hi); /* every word may be an interior pointer anyway */
    return;
  }
  /* Interior pointers off: the mark loop would drop a word pointing into
   * an object's middle, so the words are resolved now, as Boehm GC pushes
   * stacks eagerly. */
  uintptr_t l = ((uintptr_t)lo + 7) & ~(uintptr_t)7;
  uintptr_t h = (uintptr_t)hi & ~(uintptr_t)7;
  if (l >= h)
    return;
  tracer_self = &T.workers[0];
  scan_words_now(&T.workers[0], l, h, true);
}

void pargc_tracer_push_special(uintptr_t obj)
{
  if (PARGC_UNLIKELY(T.verifying)) {
    verify_word(verify_where, obj, false);
    return;
  }
  push_shared(&T.workers[0], (struct pargc_range){obj, 0});
}

static void mark_pointer(uintptr_t p, bool stack)
{
  if (PARGC_UNLIKELY(T.verifying)) {
    verify_word(verify_where, p, stack);
    return;
  }
  tracer_self = &T.workers[0];
  if (p - T.base < T.limit)
    mark_word_on(&T.workers[0], p, stack);
}

void pargc_tracer_mark_pointer(uintptr_t p) { mark_pointer(p, false); }
void pargc_tracer_mark_stack_pointer(uintptr_t p) { mark_pointer(p, true); }

void pargc_tracer_mark_word(uintptr_t p)
{
  if (PARGC_UNLIKELY(T.verifying)) {
    verify_word(verify_where, p, false);
    return;
  }
  if (p - T.base < T.limit)
    mark_word_on(tracer_self, p, false);
}

void pargc_tracer_push_object_range(uintptr_t lo, uintptr_t hi)
{
  if (PARGC_UNLIKELY(T.verifying)) {
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
  *lo = T.base;
  *hi = T.base + T.limit;
  return T.limit != 0;
}

/* PARGC_GC_THREADS=auto: what starting the helpers for a round costs,
 * the online form's `wake` (docs/performance.md, "The performance
 * model"). */
#define TRACER_AUTO_WAKE_NS 30000.0

void pargc_tracer_set_expected_live(size_t live_bytes)
{
  T.expected_threads = live_bytes < TRACER_PARALLEL_MIN_LIVE ? 1 : T.nthreads;
  if (T.auto_threads && T.expected_threads > 1)
    T.expected_threads = pargc_model_online_threads(&T.online, T.nthreads, TRACER_AUTO_WAKE_NS);
  T.active_threads = T.expected_threads;
}

void pargc_tracer_set_active_threads(unsigned n)
{
  if (n > T.nthreads)
    n = T.nthreads;
  T.active_threads = n ? n : T.expected_threads;
}

void pargc_tracer_trace(void)
{
  pargc_tracer_trace_until(NULL);
}

bool pargc_tracer_trace_until(int (*stop)(void))
{
  T.stop_fn = stop;
  atomic_store(&T.stopped, false);
  if (stop && stop()) {
    T.stop_fn = NULL;
    return false;
  }
  unsigned n = T.active_threads ? T.active_threads : T.nthreads;
  /* The trace ends when T.active reaches zero, so it counts only
   * threads that exist: the configured number may have grown since
   * pargc_tracer_prepare started them (GC_set_markers_count from a
   * thread not yet stopped), and a count that included absent threads
   * never reached zero -- a collection that never ended. */
  if (n > T.spawned + 1)
    n = T.spawned + 1;
  /* One round at a time, on GC threads that exist. */
  pargc_assert(n >= 1 && n <= PARGC_MAX_GC_THREADS);
  pargc_assert(atomic_load(&T.active) == 0);
  if (PARGC_ASSERT_FULL)
    for (unsigned i = 0; i < n; i++)
      pargc_deque_validate(&T.workers[i].deque);
  atomic_store(&T.active, (int)n);
  atomic_store(&T.job_done, 0);
  T.round_threads = n;
  T.racy = n > 1 && T.exclusive_marks;
  for (unsigned i = 0; i < n && T.racy; i++)
    T.racy = T.workers[i].own_marks != NULL;
  if (n > T.used_threads)
    T.used_threads = n;
  if (n > 1) {
    pthread_mutex_lock(&T.job_lock);
    T.job_generation++;
    pthread_cond_broadcast(&T.job_cond);
    pthread_mutex_unlock(&T.job_lock);
  }
  worker_trace(&T.workers[0]);
  if (n > 1) {
    /* Every helper wakes for every job; wait until all have left it (and
     * merged their share of a racy trace's marks). */
    unsigned spins = 0;
    while (atomic_load_explicit(&T.job_done, memory_order_acquire) < T.spawned) {
      if (++spins > 64)
        sched_yield();
    }
    T.racy = false;
  }
  /* The round ended: no GC thread is active, and unless it was given
   * up, every stack, deque and the overflow list is empty. */
  pargc_assert(atomic_load(&T.active) == 0);
  for (unsigned i = 0; PARGC_ASSERT_LEVEL && i < n && !atomic_load(&T.stopped); i++)
    pargc_assert(T.workers[i].sp == 0 && pargc_deque_size_hint(&T.workers[i].deque) == 0);
  pargc_assert(atomic_load(&T.stopped) || atomic_load(&T.overflow_count) == 0);
  T.stop_fn = NULL;
  return !atomic_load(&T.stopped);
}

/* No GC thread runs now: drop the work they left (the stopping thread
 * cleared its own stack; the others' stacks, every deque and the
 * overflow list may still hold ranges). */
void pargc_tracer_abandon(void)
{
  pargc_assert(atomic_load(&T.active) == 0); /* no GC thread runs */
  for (unsigned i = 0; i < T.nthreads; i++) {
    struct worker *w = &T.workers[i];
    struct pargc_range r;
    w->sp = 0;
    while (pargc_deque_take(&w->deque, &r))
      ;
  }
  pthread_mutex_lock(&T.overflow_lock);
  T.overflow_len = 0;
  atomic_store(&T.overflow_count, 0);
  pthread_mutex_unlock(&T.overflow_lock);
  atomic_store(&T.stopped, false);
}

void pargc_tracer_finish(struct pargc_trace_stats *out)
{
  pargc_assert(atomic_load(&T.active) == 0);
  pargc_assert(T.used_threads <= PARGC_MAX_GC_THREADS);
  memset(out, 0, sizeof *out);
  out->threads = T.used_threads;
  for (unsigned i = 0; i < T.used_threads; i++) {
    const struct pargc_trace_thread_stats *s = &T.workers[i].st;
    out->per_thread[i] = *s;
    out->marked_bytes += s->marked_bytes;
    out->marked_objects += s->marked_objects;
    out->steals += s->steals;
    out->overflows += s->overflows;
  }
  if (T.auto_threads && out->marked_bytes) {
    /* What this trace showed, for the next one's choice: its time, and
     * the parallelism it reached, the threads' time marking over that
     * time.  (The balance of the bytes each thread marked said less: a
     * chain's work moves from thread to thread without ever being
     * shared, and a large pointer array is credited to the thread that
     * marked it, not to those that scanned its pieces.) */
    uint64_t busiest = 0, work = 0;
    for (unsigned i = 0; i < out->threads; i++) {
      if (out->per_thread[i].busy_ns > busiest)
        busiest = out->per_thread[i].busy_ns;
      work += out->per_thread[i].work_ns;
    }
    pargc_model_online_observe(&T.online, busiest, out->threads,
                               busiest ? (double)work / (double)busiest : 0, TRACER_AUTO_WAKE_NS);
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
bool pargc_tracer_verifying(void) { return T.verifying; }

static void verify_word(uintptr_t where, uintptr_t v, bool stack)
{
  if (v - pargc_region.base >= (atomic_load(&pargc_region.top) << PARGC_PAGE_SHIFT))
    return;
  struct pargc_page *pg;
  int32_t i = pargc_pagemap_object(v, &pg);
  if (i < 0 || pargc_kind_uncollectable[pg->kind])
    return;
  if (T.base_only && !stack &&
      !pargc_tracer_valid_displacement(v - pargc_page_object_addr(pg, (uint32_t)i)))
    return; /* not a pointer the marker follows */
  if (!pargc_mark_test(pargc_page_marks(pg), (uint32_t)i)) {
    /* A free slot is no lost object.  A marked object may point to one:
     * a stale conservative pointer, which the concurrent mark followed
     * while the span was still a free run (nothing to mark) and which
     * the program's allocator then formatted into a span again -- or
     * a pointer the program kept to an object it freed. */
    if (atomic_load_explicit(&pg->state, memory_order_relaxed) == PARGC_PAGE_SMALL &&
        pargc_slot_is_free(pg, (uint32_t)i))
      return;
    if (T.verify_misses++ < 10)
      pargc_warn("PARGC_VERIFY: object %p (size %u, kind %u) reachable from %p (in %p) is not marked",
                 (void *)pargc_page_object_addr(pg, (uint32_t)i), pg->size, pg->kind,
                 (void *)where, (void *)verify_where);
  }
}

static void verify_words(void *lo, void *hi, bool stack)
{
  uintptr_t l = ((uintptr_t)lo + 7) & ~(uintptr_t)7, h = (uintptr_t)hi & ~(uintptr_t)7;
  for (uintptr_t p = l; p < h; p += 8)
    verify_word(p, *(uintptr_t *)p, stack);
}

static void verify_range(void *lo, void *hi, void *arg) { (void)arg; verify_words(lo, hi, false); }
static void verify_stack_range(void *lo, void *hi, void *arg) { (void)arg; verify_words(lo, hi, true); }

/* A marked object: what the marker would push for it, checked. */
static void verify_object(struct pargc_page *pg, uintptr_t o)
{
  verify_where = o;
  if (pg->kind >= PARGC_KIND_FIRST_CLIENT)
    pargc_tracer_scan_special(o); /* reports back through mark_word & co */
  else
    verify_range((void *)o, (void *)(o + pg->size), NULL);
}

size_t pargc_tracer_verify(void (*each_root)(pargc_tracer_range_fn fn, pargc_tracer_range_fn stack_fn,
                                            void *arg))
{
  pargc_assert(!T.verifying && atomic_load(&T.active) == 0);
  T.verify_misses = 0;
  T.verifying = true;
  verify_where = 0;
  each_root(verify_range, verify_stack_range, NULL);
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
  T.verifying = false;
  verify_where = 0;
  return T.verify_misses;
}
