/* fuzz_ops.c: the operations a fuzzer thread chooses from, and the
 * helpers that find objects and places in its graph.  Every choice comes
 * from the thread's PRNG, so a seed replays a thread's sequence (what
 * other threads, finalizers and the collector do in between varies). */
#define _GNU_SOURCE
#include "fuzz.h"

#include <string.h>

const char *const fz_op_names[FZ_OP_COUNT] = {
  "alloc", "link", "drop", "scratch-alloc", "scratch-free", "scratch-realloc",
  "malloc-many", "publish", "take", "finalizer", "weak-link", "weak-check",
  "toggle-ref", "holder", "api-check", "collect", "invoke-finalizers", "verify",
  "spawn", "fork",
};
/* Relative frequencies.  Allocation and linking dominate, as in a real
 * program; collections come both from allocation and, rarely, from
 * explicit calls. */
static const unsigned op_weight[FZ_OP_COUNT] = {
  [FZ_OP_ALLOC] = 300, [FZ_OP_LINK] = 120, [FZ_OP_DROP] = 100,
  [FZ_OP_SCRATCH_ALLOC] = 70, [FZ_OP_SCRATCH_FREE] = 50, [FZ_OP_SCRATCH_REALLOC] = 40,
  [FZ_OP_MANY] = 50, [FZ_OP_PUBLISH] = 15, [FZ_OP_TAKE] = 30, [FZ_OP_FINALIZER] = 30,
  [FZ_OP_WEAK] = 30, [FZ_OP_WEAK_CHECK] = 25, [FZ_OP_TOGGLE] = 10, [FZ_OP_HOLDER] = 10,
  [FZ_OP_API_CHECK] = 20, [FZ_OP_COLLECT] = 8, [FZ_OP_INVOKE] = 10, [FZ_OP_VERIFY] = 3,
  [FZ_OP_SPAWN] = 2, [FZ_OP_FORK] = 1,
};

/* The table other threads take frozen objects from; in .bss, a root. */
#define FZ_SHARED 64
static struct fz_ref shared[FZ_SHARED];
static pthread_mutex_t shared_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- random choices --------------------------------------------------------- */

uint64_t fz_rand(struct fz_thread *t) { return fz_rng_next(&t->rng); }
size_t fz_below(struct fz_thread *t, size_t n) { return n ? (size_t)(fz_rand(t) % n) : 0; }
int fz_chance(struct fz_thread *t, unsigned per_mille) { return fz_below(t, 1000) < per_mille; }

static int kind_allowed(int kind) { return !(fz_cfg.disabled_kinds >> kind & 1); }

int fz_op_allowed(const struct fz_thread *t, int op)
{
  if (fz_cfg.disabled_ops >> op & 1)
    return 0;
  switch (op) {
  case FZ_OP_SPAWN: return fz_cfg.spawn && !t->depth && !t->in_fork_child;
  case FZ_OP_FORK: return fz_cfg.fork && !t->depth && !t->in_fork_child;
  case FZ_OP_TOGGLE: return fz_cfg.toggles;
  /* the shared table's lock may have been held by another thread at fork */
  case FZ_OP_PUBLISH:
  case FZ_OP_TAKE: return !t->in_fork_child;
  default: return 1;
  }
}

int fz_pick_op(struct fz_thread *t)
{
  unsigned total = 0;
  for (int op = 0; op < FZ_OP_COUNT; op++)
    total += fz_op_allowed(t, op) ? op_weight[op] : 0;
  size_t r = fz_below(t, total);
  for (int op = 0; op < FZ_OP_COUNT; op++) {
    unsigned w = fz_op_allowed(t, op) ? op_weight[op] : 0;
    if (r < w)
      return op;
    r -= w;
  }
  return FZ_OP_ALLOC;
}

static size_t per_thread_cap(void)
{
  return fz_cfg.max_live / (size_t)(fz_cfg.threads > 0 ? fz_cfg.threads : 1);
}

/* Sizes skewed toward small, with a bump around 4 KiB (size-class and
 * page boundaries) and, while the thread is under its memory cap, large
 * objects (> 512 KiB: runs of whole pages) up to 4.5 MiB. */
static size_t pick_size(struct fz_thread *t)
{
  unsigned r = (unsigned)fz_below(t, 1000);
  if (r < 500)
    return fz_below(t, 129);
  if (r < 780)
    return 129 + fz_below(t, 896);
  if (r < 880)
    return 3968 + fz_below(t, 256);
  if (r < 940)
    return 1024 + fz_below(t, 7168);
  if (r < 985)
    return 8192 + fz_below(t, 57344);
  if (r < 997)
    return 65536 + fz_below(t, 458752);
  if (t->live_bytes + t->alloc_since_walk < per_thread_cap() / 4 * 3)
    return (512 << 10) + 1 + fz_below(t, 4 << 20);
  return fz_below(t, 129);
}

static unsigned pick_nslots(struct fz_thread *t)
{
  unsigned r = (unsigned)fz_below(t, 100);
  if (r < 40)
    return (unsigned)fz_below(t, 3);
  if (r < 80)
    return 3 + (unsigned)fz_below(t, 6);
  if (r < 95)
    return 9 + (unsigned)fz_below(t, 8);
  return 17 + (unsigned)fz_below(t, 48);
}

static int pick_kind(struct fz_thread *t)
{
  static const unsigned char w[FZ_K_COUNT] = {
    [FZ_K_NORMAL] = 30, [FZ_K_ATOMIC] = 10, [FZ_K_IOP] = 5, [FZ_K_ATOMIC_IOP] = 3,
    [FZ_K_MEMALIGN] = 4, [FZ_K_POSIX_MEMALIGN] = 2, [FZ_K_REALLOC] = 4, [FZ_K_TYPED] = 5,
    [FZ_K_TYPED_IOP] = 2, [FZ_K_TYPED_LONG] = 3, [FZ_K_CALLOC_TYPED] = 4, [FZ_K_CUSTOM_LEN] = 5,
    [FZ_K_CUSTOM_PROC] = 8, [FZ_K_FINALIZED] = 3,
  };
  unsigned total = 0;
  for (int k = 0; k < FZ_K_COUNT; k++)
    total += kind_allowed(k) ? w[k] : 0;
  size_t r = fz_below(t, total);
  for (int k = 0; k < FZ_K_COUNT; k++) {
    unsigned wk = kind_allowed(k) ? w[k] : 0;
    if (r < wk)
      return k;
    r -= wk;
  }
  return FZ_K_NORMAL;
}

/* A kind whose objects start at their base (finalizers, links and
 * toggle-refs need GC_base(obj) == obj). */
static int pick_base_kind(struct fz_thread *t)
{
  static const int k[] = {FZ_K_NORMAL, FZ_K_NORMAL, FZ_K_ATOMIC, FZ_K_TYPED, FZ_K_REALLOC,
                          FZ_K_CUSTOM_LEN, FZ_K_CUSTOM_PROC, FZ_K_CALLOC_TYPED, FZ_K_IOP};
  for (int tries = 0; tries < 8; tries++) {
    int kind = k[fz_below(t, sizeof k / sizeof *k)];
    if (kind_allowed(kind))
      return kind;
  }
  return FZ_K_NORMAL;
}

/* ---- places and objects ---------------------------------------------------- */

/* Somewhere a reference can be kept: a root pair, or a slot of a heap
 * object this thread may change. */
struct place {
  struct fz_ref *root;
  struct fz_hdr *obj;
  unsigned slot;
};

static struct fz_ref place_get(struct place p)
{
  if (p.root)
    return *p.root;
  struct fz_slot s = fz_slots(p.obj)[p.slot];
  struct fz_ref r = {s.ptr, s.off};
  return r;
}

static void place_set(struct place p, struct fz_ref r)
{
  if (p.root) {
    p.root->off = r.off;
    *(void *volatile *)&p.root->ptr = r.ptr;
  } else {
    fz_set_slot(p.obj, p.slot, r);
  }
}

static struct fz_hdr *random_entry(struct fz_thread *t, struct fz_hdr **a, int n)
{
  struct fz_hdr *h = a[fz_below(t, (size_t)n)];
  return h;
}

/* A root place; heap slots of holders and strong toggle-refs count as
 * roots (only their owner uses them). */
static struct place pick_root_place(struct fz_thread *t)
{
  struct place p = {NULL, NULL, 0};
  unsigned r = (unsigned)fz_below(t, 100);
  struct fz_hdr *h;
  if (r >= 60 && r < 70 && (h = random_entry(t, t->holders, FZ_HOLDERS))) {
    p.obj = h;
    p.slot = (unsigned)fz_below(t, fz_nslots(h));
  } else if (r >= 70 && r < 75 && (h = random_entry(t, t->toggles, FZ_TOGGLES))) {
    p.obj = h;
    p.slot = (unsigned)fz_below(t, fz_nslots(h));
  } else if (r >= 30 && r < 40) {
    p.root = &t->tls[fz_below(t, FZ_TLS_ROOTS)];
  } else if (r >= 40 && r < 50 && t->global) {
    p.root = &t->global[fz_below(t, FZ_GLOBAL_ROOTS)];
  } else if (r >= 50 && r < 60) {
    p.root = &t->added[fz_below(t, FZ_ADDED_ROOTS)];
  } else {
    p.root = &t->stack[fz_below(t, FZ_STACK_ROOTS)];
  }
  return p;
}

/* An object reachable from this thread: a random root, then up to three
 * random slots.  NULL when the walk starts at an empty root eight times. */
struct fz_hdr *fz_pick_object(struct fz_thread *t, struct fz_ref *out)
{
  struct fz_ref r = {NULL, 0};
  for (int tries = 0; tries < 8 && !r.ptr; tries++)
    r = place_get(pick_root_place(t));
  if (!r.ptr)
    return NULL;
  struct fz_hdr *h = fz_ref_hdr(r);
  fz_check_reached(t, h, "random walk: root");
  for (size_t steps = fz_below(t, 4); steps > 0 && fz_nslots(h); steps--) {
    struct fz_slot s = fz_slots(h)[fz_below(t, fz_nslots(h))];
    if (!s.ptr)
      break;
    r.ptr = s.ptr;
    r.off = s.off;
    h = fz_ref_hdr(r);
    fz_check_reached(t, h, "random walk: slot");
  }
  if (fz_attr(h) & (FZ_A_HOLDER | FZ_A_TOGGLE_STRONG))
    fz_fail(t, h, "harness bug: holder %p is referenced from the graph", (void *)h);
  if (out)
    *out = r;
  return h;
}

/* A place to store into: a root, or a slot of an object this thread may
 * change. */
static struct place pick_place(struct fz_thread *t)
{
  if (fz_chance(t, 450)) {
    struct fz_hdr *h = fz_pick_object(t, NULL);
    if (h && fz_mutable(t, h) && fz_nslots(h)) {
      struct place p = {NULL, h, (unsigned)fz_below(t, fz_nslots(h))};
      return p;
    }
  }
  return pick_root_place(t);
}

void fz_store_somewhere(struct fz_thread *t, struct fz_hdr *h)
{
  place_set(pick_place(t), fz_make_ref(t, h));
}

/* Point some of h's slots at objects this thread reaches (h is new or
 * mutable). */
static void fill_slots(struct fz_thread *t, struct fz_hdr *h, unsigned per_mille)
{
  for (unsigned i = 0; i < fz_nslots(h); i++) {
    if (!fz_chance(t, per_mille))
      continue;
    /* Holders and strong toggle-refs stay outside the graph (a holder is
     * freed explicitly; a toggle-ref's slots change even if the graph
     * froze it): nothing may point to them, not even themselves. */
    int self = fz_chance(t, 50) && !(fz_attr(h) & (FZ_A_HOLDER | FZ_A_TOGGLE_STRONG));
    struct fz_hdr *c = self ? h : fz_pick_object(t, NULL);
    if (c)
      fz_set_slot(h, i, fz_make_ref(t, c));
  }
}

/* Freeze h and every object of this thread it reaches, so that other
 * threads may read them: all or nothing, at most 64 objects and 256 KiB
 * (a frozen object must never point to a mutable one). */
int fz_freeze(struct fz_thread *t, struct fz_hdr *h)
{
  struct fz_hdr *set[64];
  size_t n = 0, done = 0, bytes = 0;
  if (fz_flags(h) & FZ_F_FROZEN)
    return 1;
  set[n++] = h;
  while (done < n) {
    struct fz_hdr *x = set[done++];
    if (!fz_owned(t, x))
      fz_fail(t, x, "harness bug: object %p of another thread is reachable but not frozen", (void *)x);
    bytes += x->size;
    for (unsigned i = 0; i < fz_nslots(x); i++) {
      struct fz_slot s = fz_slots(x)[i];
      struct fz_hdr *c = s.ptr ? (struct fz_hdr *)((char *)s.ptr - s.off) : NULL;
      if (!c || (fz_flags(c) & FZ_F_FROZEN))
        continue;
      size_t k = 0;
      while (k < n && set[k] != c)
        k++;
      if (k < n)
        continue;
      if (n == 64)
        return 0;
      set[n++] = c;
    }
  }
  if (bytes > (256 << 10))
    return 0;
  for (size_t i = 0; i < n; i++)
    __atomic_fetch_or(&set[i]->flags, FZ_F_FROZEN, __ATOMIC_RELEASE);
  return 1;
}

/* ---- graph operations ------------------------------------------------------ */

/* Boehm GC 8.2.2, with several threads, sometimes runs the closure of a
 * large GC_finalized_malloc object (over 2 KiB: whole heap blocks) while
 * the thread that allocated it is still filling it in; the Boehm build
 * keeps those objects small. */
static size_t fit_boehm(int kind, size_t size)
{
  return kind == FZ_K_FINALIZED && fz_boehm_quirks && size > 2000 ? size % 2000 : size;
}

static void op_alloc(struct fz_thread *t)
{
  int kind = pick_kind(t);
  struct fz_hdr *h = fz_alloc(t, kind, fit_boehm(kind, pick_size(t)), pick_nslots(t), 0);
  fill_slots(t, h, 600);
  fz_store_somewhere(t, h);
}

static void op_link(struct fz_thread *t)
{
  struct fz_hdr *h = fz_pick_object(t, NULL);
  if (h)
    fz_store_somewhere(t, h);
}

static void op_drop(struct fz_thread *t)
{
  struct fz_ref none = {NULL, 0};
  if (fz_chance(t, 30)) { /* a whole root array at once */
    memset(t->stack, 0, sizeof t->stack);
    return;
  }
  place_set(pick_place(t), none);
}

static void op_publish(struct fz_thread *t)
{
  struct fz_hdr *h;
  if (fz_chance(t, 300)) { /* a fresh small tree */
    h = fz_alloc(t, pick_kind(t), fz_below(t, 512), 1 + (unsigned)fz_below(t, 4), 0);
    for (unsigned i = 0; i < fz_nslots(h); i++)
      if (fz_chance(t, 700))
        fz_set_slot(h, i, fz_make_ref(t, fz_alloc(t, pick_kind(t), fz_below(t, 256), 0, 0)));
  } else {
    h = fz_pick_object(t, NULL);
  }
  if (!h || !fz_freeze(t, h))
    return;
  struct fz_ref r = fz_make_ref(t, h);
  pthread_mutex_lock(&shared_lock);
  shared[fz_below(t, FZ_SHARED)] = r;
  pthread_mutex_unlock(&shared_lock);
  FZ_COUNT(published, 1);
}

static void op_take(struct fz_thread *t)
{
  pthread_mutex_lock(&shared_lock);
  struct fz_ref r = shared[fz_below(t, FZ_SHARED)];
  pthread_mutex_unlock(&shared_lock);
  struct fz_hdr *h = fz_ref_hdr(r);
  if (!h)
    return;
  fz_check_obj(t, h, "shared table entry", 0, NULL, 0);
  if (!(fz_flags(h) & FZ_F_FROZEN))
    fz_fail(t, h, "harness bug: shared object %p is not frozen", (void *)h);
  fz_store_somewhere(t, h);
  FZ_COUNT(taken, 1);
}

/* ---- scratch objects: free and realloc ---------------------------------- */

static void scratch_release(struct fz_thread *t, struct fz_scratch *s, int must_free)
{
  fz_check_scratch(t, s, "scratch object before release");
  if (must_free || s->kind == FZ_K_UNCOLLECTABLE || fz_chance(t, 500)) {
    GC_FREE(s->p);
    FZ_COUNT(frees, 1);
  }
  s->p = NULL;
}

static void *scratch_strdup(struct fz_thread *t, size_t *size)
{
  char buf[301];
  size_t n = fz_below(t, 300);
  for (size_t i = 0; i < n; i++)
    buf[i] = (char)('a' + fz_below(t, 26));
  buf[n] = 0;
  size_t keep = fz_chance(t, 500) ? fz_below(t, n + 2) : n;
  char *p = keep == n ? GC_STRDUP(buf) : GC_STRNDUP(buf, keep);
  size_t len = keep < n ? keep : n;
  if (p && (memcmp(p, buf, len) || p[len]))
    fz_fail(t, p, "GC_strdup/GC_strndup of %zu characters (keeping %zu) gave a different string", n, keep);
  *size = len + 1;
  return p;
}

/* A scratch object of the kind r (0..99) picks, any size from 0 up. */
static void *scratch_new(struct fz_thread *t, unsigned r, struct fz_scratch *s, size_t *size)
{
  s->atomic_uncollectable = r >= 65 && r < 70;
  s->kind = r < 30   ? FZ_K_NORMAL
            : r < 50 ? FZ_K_ATOMIC
            : r < 55 ? FZ_K_IOP
            : r < 70 ? FZ_K_UNCOLLECTABLE
            : r < 80 ? FZ_K_CUSTOM_LEN
            : r < 90 ? FZ_K_TYPED
                     : FZ_K_ATOMIC;
  if (!kind_allowed(s->kind))
    return NULL;
  switch (s->kind) {
  case FZ_K_NORMAL: return GC_MALLOC(*size);
  case FZ_K_IOP: return GC_MALLOC_IGNORE_OFF_PAGE(*size);
  case FZ_K_UNCOLLECTABLE:
    return s->atomic_uncollectable ? GC_MALLOC_ATOMIC_UNCOLLECTABLE(*size)
                                   : GC_MALLOC_UNCOLLECTABLE(*size);
  case FZ_K_CUSTOM_LEN: return GC_generic_malloc(*size, fz_custom_kind(FZ_K_MANY_LEN));
  case FZ_K_TYPED: /* pattern words where pointers may be: never look like one */
    *size = *size < 22 * 8 ? 22 * 8 : *size;
    return fz_alloc_typed_scratch(*size);
  default: return r < 90 ? GC_MALLOC_ATOMIC(*size) : scratch_strdup(t, size);
  }
}

static void op_scratch_alloc(struct fz_thread *t)
{
  struct fz_scratch *s = &t->scratch[fz_below(t, FZ_SCRATCH)];
  if (s->p)
    scratch_release(t, s, 0);
  size_t size = pick_size(t);
  void *p = scratch_new(t, (unsigned)fz_below(t, 100), s, &size);
  if (!p) {
    if (kind_allowed(s->kind))
      fz_fail(t, NULL, "scratch allocation (%s) of %zu bytes returned NULL",
              fz_kinds[s->kind].name, size);
    return;
  }
  if (GC_base(p) != p)
    fz_fail(t, p, "GC_base(%p) of a new %zu-byte %s object is %p", p, size, fz_kinds[s->kind].name,
            GC_base(p));
  fz_check_extent(t, p, size, fz_kinds[s->kind].name);
  s->id = fz_new_id(t);
  s->size = size;
  fz_fill(p, 0, size, s->id);
  s->p = p;
  FZ_COUNT(allocs, 1);
  t->alloc_since_walk += size;
}

static void op_scratch_free(struct fz_thread *t)
{
  struct fz_scratch *s = &t->scratch[fz_below(t, FZ_SCRATCH)];
  if (s->p)
    scratch_release(t, s, 1);
}

/* GC_realloc keeps the old contents up to the smaller size, and the kind. */
static void op_scratch_realloc(struct fz_thread *t)
{
  struct fz_scratch *s = &t->scratch[fz_below(t, FZ_SCRATCH)];
  if (!s->p || s->kind == FZ_K_TYPED || s->kind == FZ_K_CUSTOM_LEN)
    return;
  fz_check_scratch(t, s, "scratch object before GC_realloc");
  size_t n;
  unsigned r = (unsigned)fz_below(t, 100);
  if (r < 5)
    n = 0;
  else if (r < 40)
    n = s->size + fz_below(t, 64);
  else if (r < 60)
    n = fz_below(t, s->size + 1);
  else
    n = pick_size(t);
  void *q = GC_REALLOC(s->p, n);
  FZ_COUNT(reallocs, 1);
  if (n == 0) { /* frees */
    s->p = NULL;
    return;
  }
  if (!q)
    fz_fail(t, s->p, "GC_realloc(%p, %zu) returned NULL", s->p, n);
  fz_check_extent(t, q, n, "GC_realloc");
  struct fz_scratch moved = *s;
  moved.p = q;
  moved.size = n < s->size ? n : s->size;
  fz_check_scratch(t, &moved, "contents kept by GC_realloc");
  fz_fill(q, moved.size, n, s->id);
  s->p = q;
  s->size = n;
  t->alloc_since_walk += n;
}

/* ---- GC_malloc_many lists -------------------------------------------------- */

/* GC_malloc_many takes any size and adds the byte that keeps a pointer
 * past the end inside the object; GC_generic_malloc_many is the inline
 * allocators' refill and takes whole granules, the extra byte included
 * (the client's job): so its objects are used for one byte less. */
static void many_refill(struct fz_thread *t, struct fz_many *m)
{
  m->lb = FZ_HDR_BYTES + fz_below(t, 2000);
  if (m->kind == FZ_K_MANY) {
    m->head = GC_malloc_many(m->lb);
  } else {
    size_t bytes = (m->lb + 1 + GC_GRANULE_BYTES - 1) & ~(size_t)(GC_GRANULE_BYTES - 1);
    m->lb = bytes - 1;
    GC_generic_malloc_many(bytes, fz_custom_kind(m->kind), &m->head);
  }
  if (!m->head)
    fz_fail(t, NULL, "%s(%zu) returned an empty list", fz_kinds[m->kind].name, m->lb);
}

/* Take objects off the list as a client's allocator would: unlink,
 * initialise, use. */
static void op_many(struct fz_thread *t)
{
  struct fz_many *m = &t->many[fz_below(t, FZ_MANY_LISTS)];
  if (!kind_allowed(m->kind))
    return;
  if (!m->head) {
    many_refill(t, m);
    return;
  }
  if (fz_chance(t, 50)) { /* drop the rest of the list */
    m->head = NULL;
    return;
  }
  for (size_t k = 1 + fz_below(t, 4); k > 0 && m->head; k--) {
    void **p = m->head;
    m->head = GC_NEXT(p);
    size_t words = m->lb / sizeof(void *) < 6 ? m->lb / sizeof(void *) : 6;
    for (size_t w = 1; w < words; w++)
      if (p[w])
        fz_fail(t, p, "%s object %p (%zu bytes) taken off the list is not clear: word %zu is %#lx",
                fz_kinds[m->kind].name, (void *)p, m->lb, w, (unsigned long)(uintptr_t)p[w]);
    fz_store_ptr(p, NULL);
    unsigned nslots = pick_nslots(t);
    if (nslots > (m->lb - FZ_HDR_BYTES) / FZ_SLOT_BYTES)
      nslots = (unsigned)((m->lb - FZ_HDR_BYTES) / FZ_SLOT_BYTES);
    fz_init_many(t, p, m->lb, m->kind, nslots);
    struct fz_hdr *h = (struct fz_hdr *)p;
    fill_slots(t, h, 500);
    fz_store_somewhere(t, h);
  }
}

/* ---- finalizers ---------------------------------------------------------- */

typedef void(GC_CALL *register_fn)(void *, GC_finalization_proc, void *, GC_finalization_proc *,
                                   void **);

static void register_finalizer(struct fz_thread *t, struct fz_hdr *h, register_fn fn, int remove)
{
  GC_finalization_proc ofn = NULL;
  void *ocd = NULL, *cd = fz_encode_id(h->id);
  fn(h, remove ? NULL : fz_finalizer_proc(), remove ? NULL : cd, &ofn, &ocd);
  /* A previous registration can only be ours, for this very object: a
   * stale one would mean a reclaimed object's entry survived. */
  if (ofn && (ofn != fz_finalizer_proc() || ocd != cd))
    fz_fail(t, h, "registering a finalizer on %p (id %#llx) found an old one: fn %p data %p",
            (void *)h, (unsigned long long)h->id, (void *)ofn, ocd);
  if (!remove)
    FZ_COUNT(finalizers_registered, 1);
}

/* Boehm GC 8.2.2 does not keep what a finalizable GC_calloc_explicitly_typed
 * object points to (its array mark procedure is not used when marking from
 * finalizable objects: the children are reclaimed before the finalizer
 * runs, and ordered finalizers report a cycle), so the Boehm build of the
 * driver leaves those out; pargc gets them. */

static int finalizable_kind(int kind)
{
  if (kind == FZ_K_CALLOC_TYPED && fz_boehm_quirks)
    return 0;
  return fz_kinds[kind].ref_is_base;
}

/* Ordered, _ignore_self and _unreachable finalizers go on objects whose
 * slots never change and point nowhere but to themselves: a cycle of
 * ordered finalizable objects is never finalized, and the leak would
 * grow without bound.  _no_order fits any object. */
static void op_finalizer(struct fz_thread *t)
{
  static const register_fn flavours[4] = {GC_register_finalizer, GC_register_finalizer_ignore_self,
                                          GC_register_finalizer_no_order,
                                          GC_register_finalizer_unreachable};
  int flavour = (int)fz_below(t, 4);
  if (fz_chance(t, 600)) {
    unsigned nslots = flavour == 1 ? 1 + (unsigned)fz_below(t, 4) : flavour == 2 ? pick_nslots(t) : 0;
    size_t size = pick_size(t);
    int kind = pick_base_kind(t);
    if (!finalizable_kind(kind))
      kind = FZ_K_NORMAL;
    struct fz_hdr *h = fz_alloc(t, kind, size > 65536 ? size % 65536 : size, nslots,
                                flavour == 2 ? 0 : FZ_A_FIXED);
    for (unsigned i = 0; i < fz_nslots(h); i++)
      if (flavour == 1)
        fz_set_slot(h, i, fz_make_ref(t, h));
    if (flavour == 2)
      fill_slots(t, h, 600);
    register_finalizer(t, h, flavours[flavour], 0);
    fz_store_somewhere(t, h);
    return;
  }
  struct fz_hdr *h = fz_pick_object(t, NULL);
  if (!h || !fz_owned(t, h) || (fz_flags(h) & FZ_F_FROZEN) || !finalizable_kind(fz_kind_of(h)))
    return;
  int leaf = (fz_attr(h) & FZ_A_FIXED) && !fz_nslots(h);
  register_finalizer(t, h, flavours[leaf ? flavour : 2], fz_chance(t, 200));
}

/* ---- weak links ------------------------------------------------------------ */

static void link_forget(struct fz_link *l)
{
  if (l->kind == 1)
    GC_unregister_disappearing_link(&l->ptr);
  else if (l->kind == 2)
    GC_unregister_long_link(&l->ptr);
  l->kind = 0;
  l->ptr = NULL;
}

static void expect_rc(struct fz_thread *t, const void *h, int rc, int want, const char *call)
{
  if (rc != want)
    fz_fail(t, h, "%s returned %d, expected %d", call, rc, want);
}

static void link_register(struct fz_thread *t, struct fz_link *l, struct fz_hdr *h, int kind)
{
  link_forget(l);
  l->ptr = h;
  l->id = h->id;
  l->kind = kind;
  if (kind == 1) {
    expect_rc(t, h, GC_general_register_disappearing_link(&l->ptr, h), GC_SUCCESS,
              "GC_general_register_disappearing_link");
    if (fz_chance(t, 100))
      expect_rc(t, h, GC_general_register_disappearing_link(&l->ptr, h), GC_DUPLICATE,
                "GC_general_register_disappearing_link (again)");
  } else {
    expect_rc(t, h, GC_register_long_link(&l->ptr, h), GC_SUCCESS, "GC_register_long_link");
  }
  FZ_COUNT(links_registered, 1);
}

/* Move a registration to another link.  Holding the object in a local
 * keeps the link from being cleared in between. */
static void link_move(struct fz_thread *t, struct fz_link *from, struct fz_link *to)
{
  void *p = fz_read_link(&from->ptr);
  if (!p || to->kind)
    return;
  to->ptr = p;
  int rc = from->kind == 1 ? GC_move_disappearing_link(&from->ptr, &to->ptr)
                           : GC_move_long_link(&from->ptr, &to->ptr);
  expect_rc(t, p, rc, GC_SUCCESS, from->kind == 1 ? "GC_move_disappearing_link" : "GC_move_long_link");
  to->kind = from->kind;
  to->id = from->id;
  from->kind = 0;
  from->ptr = NULL;
  GC_reachable_here(p);
}

static void hlink_register(struct fz_thread *t, int i, struct fz_hdr *h)
{
  if (t->hlink_ids[i])
    GC_unregister_disappearing_link((void **)&t->hlinks[i]);
  t->hlinks[i] = GC_HIDE_POINTER(h);
  t->hlink_ids[i] = h->id;
  expect_rc(t, h, GC_general_register_disappearing_link((void **)&t->hlinks[i], h), GC_SUCCESS,
            "GC_general_register_disappearing_link (hidden pointer)");
  FZ_COUNT(links_registered, 1);
}

static void op_weak(struct fz_thread *t)
{
  unsigned r = (unsigned)fz_below(t, 100);
  struct fz_link *l = &t->links[fz_below(t, FZ_LINKS)];
  if (r < 10) {
    if (l->kind)
      link_move(t, l, &t->links[fz_below(t, FZ_LINKS)]);
    return;
  }
  if (r < 15) {
    link_forget(l);
    return;
  }
  struct fz_hdr *h = fz_pick_object(t, NULL);
  if (!h || !fz_kinds[fz_kind_of(h)].ref_is_base)
    return;
  if (r < 25)
    hlink_register(t, (int)fz_below(t, FZ_HLINKS), h);
  else
    link_register(t, l, h, r < 65 ? 1 : 2);
  GC_reachable_here(h);
}

/* Check the links; an object a disappearing link still names may be
 * linked back into the graph (it was not yet found unreachable, and from
 * now on it is reachable). */
static void op_weak_check(struct fz_thread *t)
{
  fz_check_links(t);
  struct fz_link *l = &t->links[fz_below(t, FZ_LINKS)];
  if (l->kind != 1)
    return;
  struct fz_hdr *h = fz_read_link(&l->ptr);
  if (h && fz_chance(t, 500)) {
    fz_check_obj(t, h, "disappearing link", 0, NULL, 0);
    fz_store_somewhere(t, h);
  }
}

/* ---- toggle-refs, holders ---------------------------------------------------- */

static void op_toggle(struct fz_thread *t)
{
  int i = (int)fz_below(t, FZ_TOGGLES);
  if (fz_chance(t, 500)) { /* weak: a graph object the toggle-ref does not hold */
    struct fz_hdr *h = fz_alloc(t, pick_base_kind(t), fz_below(t, 256), pick_nslots(t), FZ_A_TOGGLE_WEAK);
    fill_slots(t, h, 500);
    expect_rc(t, h, GC_toggleref_add(h, 0), GC_SUCCESS, "GC_toggleref_add(weak)");
    fz_store_somewhere(t, h);
  } else if (t->toggles[i]) { /* the callback drops it next time */
    __atomic_fetch_or(&t->toggles[i]->flags, FZ_F_TOGGLE_DROP, __ATOMIC_RELEASE);
    t->toggles[i] = NULL;
  } else { /* strong: held by nothing else (its pointer is in malloc'd memory) */
    struct fz_hdr *h = fz_alloc(t, FZ_K_NORMAL, fz_below(t, 512), FZ_TOGGLE_SLOTS, FZ_A_TOGGLE_STRONG);
    fill_slots(t, h, 700);
    expect_rc(t, h, GC_toggleref_add(h, 1), GC_SUCCESS, "GC_toggleref_add(strong)");
    t->toggles[i] = h;
  }
}

/* Uncollectable holders: roots the collector finds only by their kind. */
static void op_holder(struct fz_thread *t)
{
  int i = (int)fz_below(t, FZ_HOLDERS);
  struct fz_hdr *h = t->holders[i];
  if (!h && !kind_allowed(FZ_K_UNCOLLECTABLE))
    return;
  if (h) {
    fz_check_obj(t, h, "uncollectable holder", i, NULL, 1);
    t->holders[i] = NULL;
    GC_FREE(h);
    FZ_COUNT(frees, 1);
    return;
  }
  h = fz_alloc(t, FZ_K_UNCOLLECTABLE, fz_below(t, 1024), FZ_HOLDER_SLOTS, FZ_A_HOLDER);
  fill_slots(t, h, 700);
  t->holders[i] = h;
}

/* ---- API consistency ---------------------------------------------------------- */

static void op_api_check(struct fz_thread *t)
{
  struct fz_ref r;
  struct fz_hdr *h = fz_pick_object(t, &r);
  if (!h)
    return;
  char *base = GC_base(r.ptr);
  int want_base = fz_kinds[fz_kind_of(h)].ref_is_base;
  if (!base || (want_base && base != (char *)h) || base > (char *)h)
    fz_fail(t, h, "GC_base(%p), %lu bytes into object %p (%s, %llu bytes), is %p", r.ptr,
            (unsigned long)r.off, (void *)h, fz_kinds[fz_kind_of(h)].name,
            (unsigned long long)h->size, (void *)base);
  size_t need = h->size + (size_t)((char *)h - base), have = GC_size(base);
  if (have < need)
    fz_fail(t, h, "GC_size(%p) is %zu, less than the %zu bytes allocated", (void *)base, have, need);
  if (!GC_is_heap_ptr(r.ptr))
    fz_fail(t, h, "GC_is_heap_ptr(%p) is 0 for a live object", r.ptr);
  if (GC_is_heap_ptr(&r))
    fz_fail(t, NULL, "GC_is_heap_ptr(%p), a stack address, is not 0", (void *)&r);
  int k = fz_kind_of(h);
  if (k == FZ_K_NORMAL || k == FZ_K_ATOMIC) {
    size_t sz = 0;
    int kind = GC_get_kind_and_size(base, &sz);
    int want = k == FZ_K_NORMAL ? GC_I_NORMAL : GC_I_PTRFREE;
    if (kind != want || sz != have)
      fz_fail(t, h, "GC_get_kind_and_size(%p) gives kind %d size %zu, expected %d and %zu",
              (void *)base, kind, sz, want, have);
  }
}

/* ---- collections -------------------------------------------------------------- */

static int GC_CALLBACK never_stop(void) { return 0; }

static void op_collect(struct fz_thread *t)
{
  unsigned r = (unsigned)fz_below(t, 100);
  if (r < 25)
    GC_gcollect();
  else if (r < 30)
    GC_gcollect_and_unmap();
  else if (r < 40)
    GC_try_to_collect(never_stop);
  else if (r < 45)
    GC_start_incremental_collection(); /* a cycle, whatever the heap */
  else
    for (size_t n = fz_below(t, 4); n > 0; n--)
      GC_collect_a_little();
  FZ_COUNT(collections, 1);
}

static void op_invoke(struct fz_thread *t)
{
  (void)t;
  if (GC_should_invoke_finalizers() || fz_chance(t, 100))
    GC_invoke_finalizers();
}

/* ---- dispatch ------------------------------------------------------------------- */

void fz_run_op(struct fz_thread *t, int op)
{
  t->op_name = fz_op_names[op];
  switch (op) {
  case FZ_OP_ALLOC: op_alloc(t); break;
  case FZ_OP_LINK: op_link(t); break;
  case FZ_OP_DROP: op_drop(t); break;
  case FZ_OP_SCRATCH_ALLOC: op_scratch_alloc(t); break;
  case FZ_OP_SCRATCH_FREE: op_scratch_free(t); break;
  case FZ_OP_SCRATCH_REALLOC: op_scratch_realloc(t); break;
  case FZ_OP_MANY: op_many(t); break;
  case FZ_OP_PUBLISH: op_publish(t); break;
  case FZ_OP_TAKE: op_take(t); break;
  case FZ_OP_FINALIZER: op_finalizer(t); break;
  case FZ_OP_WEAK: op_weak(t); break;
  case FZ_OP_WEAK_CHECK: op_weak_check(t); break;
  case FZ_OP_TOGGLE: op_toggle(t); break;
  case FZ_OP_HOLDER: op_holder(t); break;
  case FZ_OP_API_CHECK: op_api_check(t); break;
  case FZ_OP_COLLECT: op_collect(t); break;
  case FZ_OP_INVOKE: op_invoke(t); break;
  case FZ_OP_VERIFY: fz_walk(t); break;
  case FZ_OP_SPAWN: fz_spawn_child(t); break;
  case FZ_OP_FORK: fz_fork_check(t); break;
  default: break;
  }
}

/* Drop references until the thread is back under its share of the
 * memory cap (or everything, when `all`): each root with probability
 * 3/4, half the holders, toggle-refs and scratch objects. */
void fz_trim(struct fz_thread *t, int all)
{
  size_t max_objects = 200000 / (size_t)(fz_cfg.threads > 0 ? fz_cfg.threads : 1);
  if (max_objects < 5000)
    max_objects = 5000;
  if (!all && t->live_bytes <= per_thread_cap() && t->live_objects <= max_objects)
    return;
  struct fz_ref none = {NULL, 0};
  for (int i = 0; i < FZ_STACK_ROOTS; i++)
    if (all || fz_chance(t, 750))
      t->stack[i] = none;
  for (int i = 0; i < FZ_TLS_ROOTS; i++)
    if (all || fz_chance(t, 750))
      t->tls[i] = none;
  for (int i = 0; t->global && i < FZ_GLOBAL_ROOTS; i++)
    if (all || fz_chance(t, 750))
      t->global[i] = none;
  for (int i = 0; i < FZ_ADDED_ROOTS; i++)
    if (all || fz_chance(t, 750))
      t->added[i] = none;
  for (int i = 0; i < FZ_HOLDERS; i++)
    if (t->holders[i] && (all || fz_chance(t, 500))) {
      GC_FREE(t->holders[i]);
      t->holders[i] = NULL;
    }
  for (int i = 0; i < FZ_TOGGLES; i++)
    if (t->toggles[i] && (all || fz_chance(t, 500))) {
      __atomic_fetch_or(&t->toggles[i]->flags, FZ_F_TOGGLE_DROP, __ATOMIC_RELEASE);
      t->toggles[i] = NULL;
    }
  for (int i = 0; i < FZ_SCRATCH; i++)
    if (t->scratch[i].p && (all || fz_chance(t, 500)))
      scratch_release(t, &t->scratch[i], all);
  for (int i = 0; i < FZ_MANY_LISTS; i++)
    if (all || fz_chance(t, 500))
      t->many[i].head = NULL;
}

/* Walk every 256 operations or 8 MiB of allocation, then trim. */
void fz_after_op(struct fz_thread *t)
{
  if (t->ops_done - t->last_walk >= 256 || t->alloc_since_walk > ((size_t)8 << 20)) {
    fz_walk(t);
    fz_trim(t, 0);
  }
}
