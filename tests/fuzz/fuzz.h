/* fuzz.h: the random API-sequence driver's shared parts.
 *
 * The driver (fuzz_main.c, or fuzz_libfuzzer.c) runs threads that call
 * the public Boehm GC API in an order a seeded PRNG chooses, keep a graph
 * of objects whose contents they can predict, and walk that graph now and
 * then: an object that is reachable but no longer holds what was written
 * into it means the collector reclaimed it.  Only the public headers are
 * used, so the same sources build against pargc and against Boehm GC (the
 * latter checks the harness itself).
 *
 * Object layout (every graph object, whatever allocated it):
 *
 *   ref -> struct fz_hdr   6 words, immutable after initialisation except
 *                          `flags`
 *          struct fz_slot  nslots pairs {pointer, offset}: the pointer is
 *                          the base of another object, an interior pointer
 *                          or the address just past its end; the offset
 *                          says where that object's header is (ptr - off)
 *          payload         up to `size` bytes of a pattern derived from id
 *
 * `ref` is what the allocator returned (GC_base(ref) may lie below it for
 * GC_memalign and GC_finalized_malloc).  Pattern words have their top bit
 * set and offsets are small, so neither ever looks like a heap pointer:
 * only slots keep objects alive.
 *
 * Ownership rules (they keep the harness free of data races, so that a
 * mismatch is the collector's fault):
 *   - a thread mutates (slots, flags) only objects it allocated and has
 *     not frozen;
 *   - frozen objects are immutable and point only to frozen objects; only
 *     frozen objects cross threads (shared table, child arguments);
 *   - finalizers, toggle-ref callbacks and other threads read only the
 *     immutable parts (header, payload) of objects they do not own;
 *   - GC_free and GC_realloc are used only on "scratch" objects, which
 *     one thread holds in one place and never links anywhere.
 */
#ifndef PARGC_FUZZ_H
#define PARGC_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <gc.h>
#include <gc/gc_mark.h>
#include <gc/gc_typed.h>
#include <gc/gc_disclaim.h>
#include <gc/gc_inline.h>
#include <gc/javaxfc.h>

/* ---- settings and statistics ------------------------------------------ */

struct fz_config {
  uint64_t seed;
  int threads;         /* worker slots */
  long ops;            /* operations per worker slot (0: use seconds) */
  double seconds;      /* run time (0: use ops) */
  int verbose;
  int manual_vdb;      /* report every pointer store (GC_ptr_store_and_dirty) */
  int incremental;     /* call GC_enable_incremental */
  int fork;            /* allow the fork operation */
  int spawn;           /* allow child threads */
  int toggles;         /* use toggle-refs */
  int abort_on_fail;   /* abort() instead of _exit(3), for a debugger */
  int watchdog_s;      /* no progress for this long: report a hang */
  uint64_t disabled_ops, disabled_kinds; /* bit masks, from --disable */
  size_t max_live;     /* cap on reachable bytes, all threads together */
  char cmdline[2048];  /* how to reproduce this run */
};
extern struct fz_config fz_cfg;

struct fz_stats {
  long ops, allocs, frees, reallocs, collections, walks, objects_checked;
  long finalizers_registered, finalizers_run, disclaims_run;
  long links_registered, links_cleared, toggle_calls;
  long threads_started, forks, published, taken;
};
extern struct fz_stats fz_stats;
#define FZ_COUNT(field, n) __atomic_fetch_add(&fz_stats.field, (n), __ATOMIC_RELAXED)

/* In a fork child: the uid of the thread that forked (0 elsewhere). */
extern uint64_t fz_fork_uid;

/* Set once a run must end (deadline reached or a failure reported). */
extern volatile int fz_stop;

/* ---- the PRNG (xoshiro256**, seeded by splitmix64) --------------------- */

struct fz_rng {
  uint64_t s[4];
};
uint64_t fz_mix(uint64_t x);
void fz_rng_seed(struct fz_rng *r, uint64_t seed);
uint64_t fz_rng_next(struct fz_rng *r);

/* ---- objects ----------------------------------------------------------- */

#define FZ_MAGIC 0xf22ab1ec0de5a11dULL
#define FZ_TOP (1ULL << 63) /* set in every non-pointer word that could be large */
#define FZ_HDR_BYTES 48
#define FZ_SLOT_BYTES 16
#define FZ_MAX_SIZE ((size_t)6 << 20)

/* attr: immutable properties chosen at allocation. */
#define FZ_A_FIXED 1         /* slots never change (ordered finalizers) */
#define FZ_A_TOGGLE_STRONG 2 /* held only by a strong toggle-ref */
#define FZ_A_TOGGLE_WEAK 4   /* registered as a weak toggle-ref */
#define FZ_A_HOLDER 8        /* uncollectable holder of slots */
/* flags: the only mutable header word, always accessed atomically. */
#define FZ_F_FROZEN 1
#define FZ_F_TOGGLE_DROP 2

struct fz_hdr {
  uint64_t magic;
  uint64_t id;    /* owner uid << 32 | serial: also the pattern's seed */
  uint64_t size;  /* bytes from ref that belong to the object */
  uint64_t meta;  /* nslots | kind << 32 | attr << 48 */
  uint64_t check; /* hash of the four words above, top bit set */
  uint64_t flags;
};
struct fz_slot {
  void *ptr;
  uintptr_t off;
};
/* A reference as roots hold it: the same pair as a slot. */
struct fz_ref {
  void *ptr;
  uintptr_t off;
};

/* How an object was allocated; the header records it. */
enum fz_kind {
  FZ_K_NORMAL,
  FZ_K_ATOMIC,
  FZ_K_IOP,
  FZ_K_ATOMIC_IOP,
  FZ_K_MEMALIGN,
  FZ_K_POSIX_MEMALIGN,
  FZ_K_REALLOC,
  FZ_K_TYPED,
  FZ_K_TYPED_IOP,
  FZ_K_TYPED_LONG,
  FZ_K_CALLOC_TYPED,
  FZ_K_CUSTOM_LEN,
  FZ_K_CUSTOM_PROC,
  FZ_K_FINALIZED,
  FZ_K_MANY,
  FZ_K_MANY_LEN,
  FZ_K_MANY_PROC,
  FZ_K_UNCOLLECTABLE,
  FZ_K_COUNT
};
struct fz_kind_info {
  const char *name;
  const char *short_name; /* for --disable */
  int max_slots;   /* 0: pointer-free or a leaf by design */
  size_t min_size; /* the layout needs at least this */
  int ref_is_base; /* GC_base(ref) == ref */
};
extern const struct fz_kind_info fz_kinds[FZ_K_COUNT];

/* Built against Boehm GC's headers rather than pargc's: the driver then
 * steers around two Boehm GC 8.2.2 bugs it found (see fuzz_ops.c), so
 * that the Boehm build checks the harness and nothing else. */
#ifdef PARGC_GC_H
#define fz_boehm_quirks 0
#else
#define fz_boehm_quirks 1
#endif

static inline unsigned fz_nslots(const struct fz_hdr *h) { return (unsigned)(h->meta & 0xffffffffu); }
static inline unsigned fz_kind_of(const struct fz_hdr *h) { return (unsigned)(h->meta >> 32) & 0xffff; }
static inline unsigned fz_attr(const struct fz_hdr *h) { return (unsigned)(h->meta >> 48); }
static inline struct fz_slot *fz_slots(struct fz_hdr *h) { return (struct fz_slot *)(h + 1); }
static inline uint64_t fz_flags(const struct fz_hdr *h)
{
  return __atomic_load_n(&h->flags, __ATOMIC_RELAXED);
}
static inline struct fz_hdr *fz_ref_hdr(struct fz_ref r)
{
  return r.ptr ? (struct fz_hdr *)((char *)r.ptr - r.off) : NULL;
}

/* ---- a thread's state --------------------------------------------------- */

#define FZ_STACK_ROOTS 32
#define FZ_TLS_ROOTS 16
#define FZ_GLOBAL_ROOTS 16
#define FZ_ADDED_ROOTS 16
#define FZ_SCRATCH 24
#define FZ_HOLDERS 4
#define FZ_HOLDER_SLOTS 16
#define FZ_TOGGLES 4
#define FZ_TOGGLE_SLOTS 8
#define FZ_LINKS 24
#define FZ_HLINKS 4
#define FZ_MANY_LISTS 3
#define FZ_ROWS 256

/* An object held in exactly one place, so it may be freed or resized.
 * Its bytes are all pattern (no header). */
struct fz_scratch {
  void *p;
  size_t size;
  uint64_t id;
  int kind; /* FZ_K_NORMAL, _ATOMIC, _IOP, _TYPED, _CUSTOM_LEN, _UNCOLLECTABLE, ... */
  int atomic_uncollectable;
};
/* A weak link, in memory the collector does not scan. */
struct fz_link {
  void *ptr;
  uint64_t id;
  int kind; /* 0 unused, 1 disappearing, 2 long */
};
/* A client free list from GC_malloc_many / GC_generic_malloc_many. */
struct fz_many {
  void *head;
  size_t lb;
  int kind; /* FZ_K_MANY, FZ_K_MANY_LEN, FZ_K_MANY_PROC */
};

/* Lives on its thread's stack, so the arrays in it are stack roots. */
struct fz_thread {
  uint64_t uid;     /* owner part of ids; unique per thread */
  uint64_t serial;  /* next object serial */
  uint64_t seed;    /* this thread's stream */
  int depth;        /* 0 worker, 1 child */
  int row;          /* global root row, -1 if none */
  int in_fork_child;
  int nkids;        /* joinable children not joined yet */
  pthread_t kids[2];
  long ops_done;
  long last_walk;
  size_t alloc_since_walk;
  size_t live_bytes, live_objects; /* at the last walk */
  const char *op_name;
  struct fz_rng rng;
  struct fz_ref stack[FZ_STACK_ROOTS];
  struct fz_scratch scratch[FZ_SCRATCH];
  struct fz_many many[FZ_MANY_LISTS];
  GC_hidden_pointer hlinks[FZ_HLINKS]; /* disappearing links holding hidden pointers */
  uint64_t hlink_ids[FZ_HLINKS];
  struct fz_ref *tls;      /* this thread's TLS array */
  struct fz_ref *global;   /* a row of fz_global_roots, or NULL */
  struct fz_ref *added;    /* malloc'd, registered with GC_add_roots */
  struct fz_hdr **holders; /* malloc'd: uncollectable objects, hidden from the scan */
  struct fz_hdr **toggles; /* malloc'd: strong toggle-ref objects */
  struct fz_link *links;   /* malloc'd */
  /* walk scratch space (malloc'd) */
  uintptr_t *vis;
  size_t vis_cap, vis_n;
  struct fz_hdr **wstack;
  size_t wstack_cap;
};

/* ---- fuzz_obj.c: objects, checks, walks, callbacks ------------------- */

void fz_init_collector_extras(void);
uint64_t fz_new_id(struct fz_thread *t);
struct fz_hdr *fz_alloc(struct fz_thread *t, int kind, size_t size, unsigned nslots, unsigned attr);
void fz_init_many(struct fz_thread *t, void *p, size_t lb, int kind, unsigned nslots);
int fz_custom_kind(int kind);
void *fz_alloc_typed_scratch(size_t size);
void fz_check_extent(struct fz_thread *t, void *p, size_t size, const char *how);
void fz_store_ptr(void **slot, void *value);
void fz_dirty(const void *p);
void fz_set_slot(struct fz_hdr *h, unsigned i, struct fz_ref r);
struct fz_ref fz_make_ref(struct fz_thread *t, struct fz_hdr *h);
int fz_mutable(const struct fz_thread *t, const struct fz_hdr *h);
int fz_owned(const struct fz_thread *t, const struct fz_hdr *h);
void fz_fill(void *p, size_t from, size_t to, uint64_t id);
void fz_check_bytes(struct fz_thread *t, const void *p, size_t from, size_t to, uint64_t id,
                    const char *what);
void fz_check_obj(struct fz_thread *t, const struct fz_hdr *h, const char *where, long index,
                  const void *parent, int full);
void fz_check_scratch(struct fz_thread *t, const struct fz_scratch *s, const char *where);
void fz_check_reached(struct fz_thread *t, const struct fz_hdr *h, const char *where);
void fz_walk(struct fz_thread *t);
void fz_check_links(struct fz_thread *t);
void *fz_read_link(void **link);
__attribute__((noreturn, format(printf, 3, 4))) void fz_fail(struct fz_thread *t, const void *obj,
                                                            const char *fmt, ...);
void fz_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
GC_finalization_proc fz_finalizer_proc(void);
void *fz_encode_id(uint64_t id);
extern struct fz_ref fz_global_roots[FZ_ROWS][FZ_GLOBAL_ROOTS];

/* ---- fuzz_ops.c: the operations ------------------------------------- */

enum fz_op {
  FZ_OP_ALLOC,
  FZ_OP_LINK,
  FZ_OP_DROP,
  FZ_OP_SCRATCH_ALLOC,
  FZ_OP_SCRATCH_FREE,
  FZ_OP_SCRATCH_REALLOC,
  FZ_OP_MANY,
  FZ_OP_PUBLISH,
  FZ_OP_TAKE,
  FZ_OP_FINALIZER,
  FZ_OP_WEAK,
  FZ_OP_WEAK_CHECK,
  FZ_OP_TOGGLE,
  FZ_OP_HOLDER,
  FZ_OP_API_CHECK,
  FZ_OP_COLLECT,
  FZ_OP_INVOKE,
  FZ_OP_VERIFY,
  FZ_OP_SPAWN,
  FZ_OP_FORK,
  FZ_OP_COUNT
};
extern const char *const fz_op_names[FZ_OP_COUNT];
uint64_t fz_rand(struct fz_thread *t);
size_t fz_below(struct fz_thread *t, size_t n);
int fz_chance(struct fz_thread *t, unsigned per_mille);
int fz_op_allowed(const struct fz_thread *t, int op);
int fz_pick_op(struct fz_thread *t);
void fz_run_op(struct fz_thread *t, int op);
void fz_after_op(struct fz_thread *t);
void fz_trim(struct fz_thread *t, int all);
struct fz_hdr *fz_pick_object(struct fz_thread *t, struct fz_ref *out);
int fz_freeze(struct fz_thread *t, struct fz_hdr *h);
void fz_store_somewhere(struct fz_thread *t, struct fz_hdr *h);

/* ---- fuzz_thread.c: thread life, children, fork --------------------- */

void fz_thread_init(struct fz_thread *t, uint64_t seed, int depth);
void fz_thread_fini(struct fz_thread *t);
void fz_thread_run(struct fz_thread *t, long ops, double deadline);
void fz_spawn_child(struct fz_thread *t);
void fz_fork_check(struct fz_thread *t);
double fz_now(void);
extern int fz_children_running;

/* ---- fuzz_raw.c: threads made without the GC's pthread redirects ----- */

int fz_raw_create(pthread_t *thread, void *(*fn)(void *), void *arg);
int fz_raw_join(pthread_t thread);

#endif
