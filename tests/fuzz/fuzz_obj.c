/* fuzz_obj.c: the fuzzer's objects -- allocation of every kind, the
 * pattern, the checks, the graph walk, and the callbacks the collector
 * calls (finalizers, the disclaim closure, the mark procedure, the
 * toggle-ref callback).  See fuzz.h for the layout and ownership rules. */
#define _GNU_SOURCE
#include "fuzz.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct fz_config fz_cfg;
struct fz_stats fz_stats;
volatile int fz_stop;
/* Each thread that has a row owns it; in .bss, so a static root. */
struct fz_ref fz_global_roots[FZ_ROWS][FZ_GLOBAL_ROOTS];
uint64_t fz_fork_uid;

const struct fz_kind_info fz_kinds[FZ_K_COUNT] = {
  [FZ_K_NORMAL] = {"GC_malloc", "normal", 64, FZ_HDR_BYTES, 1},
  [FZ_K_ATOMIC] = {"GC_malloc_atomic", "atomic", 0, FZ_HDR_BYTES, 1},
  [FZ_K_IOP] = {"GC_malloc_ignore_off_page", "iop", 64, FZ_HDR_BYTES, 1},
  [FZ_K_ATOMIC_IOP] = {"GC_malloc_atomic_ignore_off_page", "atomic-iop", 0, FZ_HDR_BYTES, 1},
  [FZ_K_MEMALIGN] = {"GC_memalign", "memalign", 64, FZ_HDR_BYTES, 0},
  [FZ_K_POSIX_MEMALIGN] = {"GC_posix_memalign", "posix-memalign", 64, FZ_HDR_BYTES, 0},
  [FZ_K_REALLOC] = {"GC_realloc", "realloc", 64, FZ_HDR_BYTES, 1},
  /* 6 header words, then 8 {pointer, offset} pairs described as such */
  [FZ_K_TYPED] = {"GC_malloc_explicitly_typed", "typed", 8, 22 * 8, 1},
  [FZ_K_TYPED_IOP] = {"GC_malloc_explicitly_typed_ignore_off_page", "typed-iop", 8, 22 * 8, 1},
  /* over 62 words: a descriptor Boehm GC cannot keep in one word */
  [FZ_K_TYPED_LONG] = {"GC_malloc_explicitly_typed (long)", "typed-long", 100, 206 * 8, 1},
  [FZ_K_CALLOC_TYPED] = {"GC_calloc_explicitly_typed", "calloc-typed", 64, FZ_HDR_BYTES, 1},
  [FZ_K_CUSTOM_LEN] = {"GC_new_kind (GC_DS_LENGTH)", "kind-len", 64, FZ_HDR_BYTES, 1},
  [FZ_K_CUSTOM_PROC] = {"GC_new_kind (mark proc)", "kind-proc", 64, FZ_HDR_BYTES, 1},
  /* leaves: a disclaim closure on an object with slots could hold cycles */
  [FZ_K_FINALIZED] = {"GC_finalized_malloc", "finalized", 0, FZ_HDR_BYTES, 0},
  [FZ_K_MANY] = {"GC_malloc_many", "many", 64, FZ_HDR_BYTES, 1},
  [FZ_K_MANY_LEN] = {"GC_generic_malloc_many (GC_DS_LENGTH kind)", "many-len", 64, FZ_HDR_BYTES, 1},
  [FZ_K_MANY_PROC] = {"GC_generic_malloc_many (mark proc kind)", "many-proc", 64, FZ_HDR_BYTES, 1},
  [FZ_K_UNCOLLECTABLE] = {"GC_malloc_uncollectable", "uncollectable", FZ_HOLDER_SLOTS, FZ_HDR_BYTES, 1},
};

/* Set up once, before any worker starts. */
static int fz_kind_len, fz_kind_proc;
static GC_descr fz_descr_short, fz_descr_long, fz_descr_pair;
static void GC_CALLBACK disclaimed(void *obj, void *cd);
static const struct GC_finalizer_closure fz_closure = {disclaimed, NULL};
static int being_initialized(const void *p);

/* ---- hashing, PRNG, pattern ------------------------------------------- */

uint64_t fz_mix(uint64_t x)
{
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

void fz_rng_seed(struct fz_rng *r, uint64_t seed)
{
  for (int i = 0; i < 4; i++) { /* splitmix64 */
    seed += 0x9e3779b97f4a7c15ULL;
    uint64_t z = seed;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    r->s[i] = z ^ (z >> 31);
  }
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t fz_rng_next(struct fz_rng *r)
{
  uint64_t *s = r->s;
  uint64_t result = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
  s[2] ^= s[0];
  s[3] ^= s[1];
  s[1] ^= s[2];
  s[0] ^= s[3];
  s[2] ^= t;
  s[3] = rotl(s[3], 45);
  return result;
}

/* Word w of object id's pattern.  The top bit keeps it from looking like
 * a pointer, so payloads never keep anything alive. */
static inline uint64_t pat_word(uint64_t id, size_t w)
{
  return fz_mix(id * 0x9e3779b97f4a7c15ULL + w) | FZ_TOP;
}
static inline unsigned char pat_byte(uint64_t id, size_t i)
{
  return (unsigned char)(pat_word(id, i >> 3) >> ((i & 7) * 8));
}

void fz_fill(void *p, size_t from, size_t to, uint64_t id)
{
  unsigned char *b = p;
  size_t i = from;
  for (; i < to && (i & 7); i++)
    b[i] = pat_byte(id, i);
  for (; i + 8 <= to; i += 8)
    *(uint64_t *)(b + i) = pat_word(id, i >> 3);
  for (; i < to; i++)
    b[i] = pat_byte(id, i);
}

/* The first offset in [from, to) that does not hold the pattern, or -1. */
static long first_mismatch(const void *p, size_t from, size_t to, uint64_t id)
{
  const unsigned char *b = p;
  size_t i = from;
  for (; i < to && (i & 7); i++)
    if (b[i] != pat_byte(id, i))
      return (long)i;
  for (; i + 8 <= to; i += 8)
    if (*(const uint64_t *)(b + i) != pat_word(id, i >> 3))
      break;
  for (; i < to; i++)
    if (b[i] != pat_byte(id, i))
      return (long)i;
  return -1;
}

/* Check [from, to) of p: all of it when short or `full`, else its ends
 * and some words in between (a reclaimed object is zeroed or reused from
 * its first words on, so the ends catch it; the samples catch the rest). */
static long check_range(const void *p, size_t from, size_t to, uint64_t id, int full)
{
  if (full || to - from <= 2048)
    return first_mismatch(p, from, to, id);
  long bad = first_mismatch(p, from, from + 512, id);
  if (bad < 0)
    bad = first_mismatch(p, to - 512, to, id);
  static __thread uint64_t salt;
  for (int k = 0; bad < 0 && k < 16; k++) {
    size_t at = from + (size_t)(fz_mix(id ^ ++salt) % (to - from - 8));
    bad = first_mismatch(p, at, at + 8, id);
  }
  return bad;
}

void fz_check_bytes(struct fz_thread *t, const void *p, size_t from, size_t to, uint64_t id,
                    const char *what)
{
  long bad = check_range(p, from, to, id, 0);
  if (bad >= 0)
    fz_fail(t, p, "%s %p (%zu bytes, id %#llx): byte %ld expected %#x, found %#x", what, p, to,
            (unsigned long long)id, bad, pat_byte(id, (size_t)bad),
            ((const unsigned char *)p)[bad]);
}

/* ---- reporting ---------------------------------------------------------- */

static void say(const char *s)
{
  size_t n = strlen(s);
  while (n) { /* write(2): no stdio lock, safe with the world stopped */
    ssize_t w = write(2, s, n);
    if (w <= 0 && errno != EINTR)
      return;
    if (w > 0) {
      s += w;
      n -= (size_t)w;
    }
  }
}

void fz_log(const char *fmt, ...)
{
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  say(buf);
}

/* Print what went wrong, the object's first bytes and the command that
 * reproduces the run, then exit 3 (or abort).  Only the first failure is
 * reported: others that follow from it would only confuse. */
void fz_fail(struct fz_thread *t, const void *obj, const char *fmt, ...)
{
  static int failing;
  if (__atomic_exchange_n(&failing, 1, __ATOMIC_ACQ_REL)) {
    for (;;)
      pause();
  }
  fz_stop = 1;
  char msg[1024], buf[1536];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (t)
    snprintf(buf, sizeof buf,
             "pargc-fuzz: FAILURE (seed %llu, thread %llu, its op %ld \"%s\", %ld ops in all, "
             "collection %lu): %s\n",
             (unsigned long long)fz_cfg.seed, (unsigned long long)t->uid, t->ops_done,
             t->op_name ? t->op_name : "-", fz_stats.ops, (unsigned long)GC_get_gc_no(), msg);
  else /* from a callback the collector made: no GC calls */
    snprintf(buf, sizeof buf, "pargc-fuzz: FAILURE (seed %llu, in a collector callback, %ld ops): %s\n",
             (unsigned long long)fz_cfg.seed, fz_stats.ops, msg);
  say(buf);
  if (obj) {
    const unsigned char *b = obj;
    char *o = buf;
    o += sprintf(o, "pargc-fuzz: first 64 bytes at %p:", obj);
    for (int i = 0; i < 64; i++)
      o += sprintf(o, "%s%02x", i % 8 ? "" : " ", b[i]);
    if (t)
      o += sprintf(o, "  (GC_base %p)", GC_base((void *)obj));
    sprintf(o, "\n");
    say(buf);
  }
  say("pargc-fuzz: reproduce: ");
  say(fz_cfg.cmdline);
  say("\n");
  if (fz_cfg.abort_on_fail)
    abort();
  _exit(3);
}

/* ---- header --------------------------------------------------------------- */

static uint64_t hdr_hash(const struct fz_hdr *h)
{
  return fz_mix(h->magic ^ fz_mix(h->id ^ fz_mix(h->size ^ fz_mix(h->meta + 1)))) | FZ_TOP;
}

static int hdr_ok(const struct fz_hdr *h)
{
  return h->magic == FZ_MAGIC && h->check == hdr_hash(h) && fz_kind_of(h) < FZ_K_COUNT
         && h->size <= FZ_MAX_SIZE
         && h->size >= FZ_HDR_BYTES + (uint64_t)fz_nslots(h) * FZ_SLOT_BYTES;
}

static size_t payload_start(const struct fz_hdr *h)
{
  return FZ_HDR_BYTES + (size_t)fz_nslots(h) * FZ_SLOT_BYTES;
}

/* Say which field of a broken header differs, for the report. */
static void fail_header(struct fz_thread *t, const struct fz_hdr *h, const char *where)
{
  if (h->magic != FZ_MAGIC)
    fz_fail(t, h, "%s: object %p: header magic expected %#llx, found %#llx (reclaimed or reused)",
            where, (const void *)h, (unsigned long long)FZ_MAGIC, (unsigned long long)h->magic);
  fz_fail(t, h,
          "%s: object %p: header check expected %#llx, found %#llx (id %#llx size %llu meta %#llx)",
          where, (const void *)h, (unsigned long long)hdr_hash(h), (unsigned long long)h->check,
          (unsigned long long)h->id, (unsigned long long)h->size, (unsigned long long)h->meta);
}

/* How far the damage reaches, for the report: the run of wrong bytes
 * from the first one (a zeroed word, a slot pair, a cleared object...). */
static void fail_payload(struct fz_thread *t, const struct fz_hdr *h, const char *where, long bad)
{
  const volatile unsigned char *b = (const volatile unsigned char *)h;
  unsigned char found = b[bad];
  size_t end = (size_t)bad, wrong = 0;
  for (; end < h->size; end++)
    wrong += b[end] != pat_byte(h->id, end);
  /* Someone still writing it (its owner filling it in) shows as a change. */
  struct timespec ms = {0, 20000000};
  nanosleep(&ms, NULL);
  long now = first_mismatch((const void *)b, (size_t)bad, h->size, h->id);
  fz_fail(t, h,
          "%s: object %p (%s, %llu bytes, id %#llx): payload byte %ld expected %#x, found %#x "
          "(%zu of the %zu bytes from there wrong; 20 ms later the first wrong byte is %ld%s)",
          where, (const void *)h, fz_kinds[fz_kind_of(h)].name, (unsigned long long)h->size,
          (unsigned long long)h->id, bad, pat_byte(h->id, (size_t)bad), found, wrong,
          end - (size_t)bad, now,
          being_initialized(h)   ? "; its owner is still filling it in"
          : now != bad           ? "; it was being written meanwhile"
                                 : "");
}

void fz_check_obj(struct fz_thread *t, const struct fz_hdr *h, const char *where, long index,
                  const void *parent, int full)
{
  char w[200];
  if (parent)
    snprintf(w, sizeof w, "%s %ld of object %p (%s, id %#llx)", where, index, parent,
             fz_kinds[fz_kind_of(parent) % FZ_K_COUNT].short_name,
             (unsigned long long)((const struct fz_hdr *)parent)->id);
  else
    snprintf(w, sizeof w, "%s %ld", where, index);
  if (!hdr_ok(h))
    fail_header(t, h, w);
  long bad = check_range(h, payload_start(h), h->size, h->id, full);
  if (bad >= 0)
    fail_payload(t, h, w, bad);
  FZ_COUNT(objects_checked, 1);
}

void fz_check_scratch(struct fz_thread *t, const struct fz_scratch *s, const char *where)
{
  long bad = check_range(s->p, 0, s->size, s->id, 0);
  if (bad >= 0)
    fz_fail(t, s->p, "%s: scratch object %p (%s, %zu bytes, id %#llx): byte %ld expected %#x, found %#x",
            where, s->p, fz_kinds[s->kind].name, s->size, (unsigned long long)s->id, bad,
            pat_byte(s->id, (size_t)bad), ((const unsigned char *)s->p)[bad]);
}

/* ---- allocation ---------------------------------------------------------- */

uint64_t fz_new_id(struct fz_thread *t) { return t->uid << 32 | ++t->serial; }

void fz_store_ptr(void **slot, void *value)
{
  if (fz_cfg.manual_vdb)
    GC_ptr_store_and_dirty(slot, value);
  else
    *(void *volatile *)slot = value;
}

void fz_dirty(const void *p)
{
  if (fz_cfg.manual_vdb)
    GC_end_stubborn_change(p);
}

static void *alloc_memalign(struct fz_thread *t, size_t size, int posix)
{
  size_t align = (size_t)16 << fz_below(t, 9); /* 16 B .. 4 KiB */
  if (!posix)
    return GC_memalign(align / (fz_chance(t, 200) ? 2 : 1), size);
  void *p = NULL;
  int e = GC_posix_memalign(&p, align, size);
  if (e != 0)
    fz_fail(t, NULL, "GC_posix_memalign(%zu, %zu) returned %d", align, size, e);
  if ((uintptr_t)p % align)
    fz_fail(t, p, "GC_posix_memalign(%zu, %zu) returned misaligned %p", align, size, p);
  return p;
}

/* GC_realloc(NULL, n) allocates; growing or shrinking it then may move. */
static void *alloc_realloc(struct fz_thread *t, size_t size)
{
  void *p = GC_REALLOC(NULL, fz_below(t, size) + 1);
  if (!p)
    return NULL;
  return GC_REALLOC(p, size);
}

static void *alloc_kind(struct fz_thread *t, int kind, size_t size)
{
  switch (kind) {
  case FZ_K_NORMAL: return GC_MALLOC(size);
  case FZ_K_ATOMIC: return GC_MALLOC_ATOMIC(size);
  case FZ_K_IOP: return GC_MALLOC_IGNORE_OFF_PAGE(size);
  case FZ_K_ATOMIC_IOP: return GC_MALLOC_ATOMIC_IGNORE_OFF_PAGE(size);
  case FZ_K_MEMALIGN: return alloc_memalign(t, size, 0);
  case FZ_K_POSIX_MEMALIGN: return alloc_memalign(t, size, 1);
  case FZ_K_REALLOC: return alloc_realloc(t, size);
  case FZ_K_TYPED: return GC_malloc_explicitly_typed(size, fz_descr_short);
  case FZ_K_TYPED_IOP: return GC_malloc_explicitly_typed_ignore_off_page(size, fz_descr_short);
  case FZ_K_TYPED_LONG: return GC_malloc_explicitly_typed(size, fz_descr_long);
  case FZ_K_CALLOC_TYPED: return GC_calloc_explicitly_typed(size / 16, 16, fz_descr_pair);
  case FZ_K_CUSTOM_LEN:
    return fz_chance(t, 300) ? GC_generic_malloc_ignore_off_page(size, fz_kind_len)
                             : GC_generic_malloc(size, fz_kind_len);
  case FZ_K_CUSTOM_PROC: return GC_generic_malloc(size, fz_kind_proc);
  case FZ_K_FINALIZED: return GC_finalized_malloc(size, &fz_closure);
  case FZ_K_UNCOLLECTABLE: return GC_MALLOC_UNCOLLECTABLE(size);
  default: fz_fail(t, NULL, "harness bug: no allocator for kind %d", kind);
  }
}

/* The object at p must have room for `size` bytes from p on. */
void fz_check_extent(struct fz_thread *t, void *p, size_t size, const char *how)
{
  char *base = GC_base(p);
  if (!base || base > (char *)p || GC_size(base) < size + (size_t)((char *)p - base))
    fz_fail(t, p, "%s(%zu) returned %p, but GC_base is %p and GC_size %zu", how, size, p,
            (void *)base, base ? GC_size(base) : 0);
}

/* The size the layout needs, rounded as the kind requires. */
static size_t fit_size(int kind, size_t size, unsigned nslots)
{
  size_t need = FZ_HDR_BYTES + (size_t)nslots * FZ_SLOT_BYTES;
  if (size < need)
    size = need;
  if (size < fz_kinds[kind].min_size)
    size = fz_kinds[kind].min_size;
  if (kind == FZ_K_CALLOC_TYPED)
    size = (size + 15) & ~(size_t)15; /* whole {pointer, offset} elements */
  return size;
}

/* Write the header (check word last: the mark procedure trusts a header
 * only once its check matches), clear the slots, fill the payload. */
static void init_object(struct fz_hdr *h, uint64_t id, size_t size, unsigned nslots, int kind,
                        unsigned attr)
{
  h->magic = FZ_MAGIC;
  h->id = id;
  h->size = size;
  h->meta = nslots | (uint64_t)kind << 32 | (uint64_t)attr << 48;
  __atomic_store_n(&h->flags, 0, __ATOMIC_RELAXED);
  for (unsigned i = 0; i < nslots; i++) {
    fz_slots(h)[i].ptr = NULL;
    fz_slots(h)[i].off = 0;
  }
  __atomic_thread_fence(__ATOMIC_RELEASE);
  h->check = hdr_hash(h);
  __atomic_thread_fence(__ATOMIC_RELEASE);
  fz_fill(h, payload_start(h), size, id);
  fz_dirty(h);
}

/* The object each thread is filling in, by uid: a failure report says
 * when the collector hands out (to a finalizer, say) one still being
 * written. */
#define FZ_INIT_SLOTS 1024
static const void *initializing[FZ_INIT_SLOTS];

static int being_initialized(const void *p)
{
  for (int i = 0; i < FZ_INIT_SLOTS; i++)
    if (__atomic_load_n(&initializing[i], __ATOMIC_RELAXED) == p)
      return 1;
  return 0;
}

/* Allocate and initialise a graph object of `kind`; nslots is clipped to
 * what the kind can hold.  Aborts the run on NULL. */
struct fz_hdr *fz_alloc(struct fz_thread *t, int kind, size_t size, unsigned nslots, unsigned attr)
{
  if ((int)nslots > fz_kinds[kind].max_slots)
    nslots = (unsigned)fz_kinds[kind].max_slots;
  size = fit_size(kind, size, nslots);
  void *p = alloc_kind(t, kind, size);
  if (!p)
    fz_fail(t, NULL, "%s(%zu) returned NULL", fz_kinds[kind].name, size);
  fz_check_extent(t, p, size, fz_kinds[kind].name);
  __atomic_store_n(&initializing[t->uid % FZ_INIT_SLOTS], p, __ATOMIC_RELAXED);
  init_object(p, fz_new_id(t), size, nslots, kind, attr);
  __atomic_store_n(&initializing[t->uid % FZ_INIT_SLOTS], NULL, __ATOMIC_RELAXED);
  FZ_COUNT(allocs, 1);
  t->alloc_since_walk += size;
  return p;
}

/* A typed object for the scratch list (pattern only, no header). */
void *fz_alloc_typed_scratch(size_t size) { return GC_malloc_explicitly_typed(size, fz_descr_short); }

/* Use an object popped from a GC_malloc_many list (see fuzz_ops.c). */
void fz_init_many(struct fz_thread *t, void *p, size_t lb, int kind, unsigned nslots)
{
  init_object(p, fz_new_id(t), lb, nslots, kind, 0);
  FZ_COUNT(allocs, 1);
}

void fz_set_slot(struct fz_hdr *h, unsigned i, struct fz_ref r)
{
  fz_slots(h)[i].off = r.off;
  fz_store_ptr(&fz_slots(h)[i].ptr, r.ptr);
}

static int ignore_off_page(int kind)
{
  return kind == FZ_K_IOP || kind == FZ_K_ATOMIC_IOP || kind == FZ_K_TYPED_IOP
         || kind == FZ_K_CUSTOM_LEN;
}

/* A pointer to h in one of the forms the collector must honour: the
 * object's address, an interior pointer, or the address just past its
 * end (kept alive because the collector adds a byte to each object when
 * GC_all_interior_pointers is on).  Objects from the _ignore_off_page
 * calls get pointers into their first 256 bytes only, as Boehm GC
 * requires. */
struct fz_ref fz_make_ref(struct fz_thread *t, struct fz_hdr *h)
{
  size_t size = h->size, off = 0;
  switch (fz_below(t, 4)) {
  case 0:
  case 1: break;
  case 2: off = 1 + fz_below(t, size - 1); break;
  default: off = size; break;
  }
  if (ignore_off_page(fz_kind_of(h)) && off >= 256)
    off = fz_below(t, 256);
  struct fz_ref r = {(char *)h + off, off};
  return r;
}

int fz_owned(const struct fz_thread *t, const struct fz_hdr *h) { return h->id >> 32 == t->uid; }

int fz_mutable(const struct fz_thread *t, const struct fz_hdr *h)
{
  return fz_owned(t, h) && !(fz_flags(h) & FZ_F_FROZEN) && !(fz_attr(h) & FZ_A_FIXED);
}

/* ---- the graph walk -------------------------------------------------------- */

/* Visited set: open addressing on header addresses, in malloc'd memory
 * (the collector does not see it). */
static int vis_insert(struct fz_thread *t, const void *p)
{
  if (2 * (t->vis_n + 1) > t->vis_cap) {
    size_t old = t->vis_cap;
    uintptr_t *o = t->vis;
    t->vis_cap = old ? old * 2 : 4096;
    t->vis = calloc(t->vis_cap, sizeof *t->vis);
    if (!t->vis)
      fz_fail(t, NULL, "out of malloc memory for the walk");
    t->vis_n = 0;
    for (size_t i = 0; i < old; i++)
      if (o[i])
        vis_insert(t, (const void *)o[i]);
    free(o);
  }
  size_t mask = t->vis_cap - 1, i = (size_t)fz_mix((uintptr_t)p) & mask;
  for (; t->vis[i]; i = (i + 1) & mask)
    if (t->vis[i] == (uintptr_t)p)
      return 0;
  t->vis[i] = (uintptr_t)p;
  t->vis_n++;
  return 1;
}

/* Before using an object reached some other way than the walk: its
 * header must be intact (the object was not reclaimed), and it must be
 * this thread's or frozen (the memory was not reused by another thread). */
void fz_check_reached(struct fz_thread *t, const struct fz_hdr *h, const char *where)
{
  if (!hdr_ok(h))
    fail_header(t, h, where);
  if (!fz_owned(t, h) && !(fz_flags(h) & FZ_F_FROZEN))
    fz_fail(t, h, "%s: object %p (id %#llx) belongs to another thread and was never shared: "
            "the object that was here was reclaimed and the memory reused", where, (void *)h,
            (unsigned long long)h->id);
}

static void push(struct fz_thread *t, struct fz_hdr *h, size_t *n)
{
  if (*n == t->wstack_cap) {
    t->wstack_cap = t->wstack_cap ? t->wstack_cap * 2 : 1024;
    t->wstack = realloc(t->wstack, t->wstack_cap * sizeof *t->wstack);
    if (!t->wstack)
      fz_fail(t, NULL, "out of malloc memory for the walk");
  }
  t->wstack[(*n)++] = h;
}

/* Follow one reference: the target's header must be intact and the
 * offset inside it; a target seen for the first time is checked in full
 * and queued. */
static void visit(struct fz_thread *t, struct fz_ref r, const char *where, long index,
                  const void *parent, size_t *n)
{
  struct fz_hdr *h = fz_ref_hdr(r);
  if (!h)
    return;
  if (r.off > FZ_MAX_SIZE)
    fz_fail(t, parent, "%s %ld of %p: offset %#lx is corrupt (pointer %p)", where, index, parent,
            (unsigned long)r.off, r.ptr);
  if (!hdr_ok(h)) { /* say how it was reached: the form of the pointer matters */
    char w[96];
    snprintf(w, sizeof w, "%s (pointer %p, %lu bytes into its object)", where, r.ptr,
             (unsigned long)r.off);
    fz_check_obj(t, h, w, index, parent, 0);
  }
  if (vis_insert(t, h)) {
    fz_check_obj(t, h, where, index, parent, 0);
    /* Another thread's object reaches us only frozen: an unfrozen one
     * is a new object in memory the collector reclaimed under us. */
    fz_check_reached(t, h, where);
    t->live_bytes += h->size;
    t->live_objects++;
    push(t, h, n);
  }
  if (r.off > h->size)
    fz_fail(t, h, "%s %ld: pointer %p is %lu bytes into object %p of %llu bytes", where, index,
            r.ptr, (unsigned long)r.off, (void *)h, (unsigned long long)h->size);
}

static void visit_array(struct fz_thread *t, struct fz_ref *a, int n, const char *where, size_t *sp)
{
  for (int i = 0; a && i < n; i++)
    visit(t, a[i], where, i, NULL, sp);
}

/* An object the collector keeps because it is uncollectable or a strong
 * toggle-ref: a root whose slots we follow. */
static void visit_holder(struct fz_thread *t, struct fz_hdr *h, const char *where, long i, size_t *sp)
{
  if (!h)
    return;
  struct fz_ref r = {h, 0};
  visit(t, r, where, i, NULL, sp);
}

/* GC_malloc_many lists: each element is cleared but for its link word,
 * and only the chain keeps them alive: a reused element shows. */
static void check_many(struct fz_thread *t, struct fz_many *m)
{
  long n = 0;
  for (void **p = m->head; p; p = GC_NEXT(p), n++) {
    size_t words = m->lb / sizeof(void *) < 6 ? m->lb / sizeof(void *) : 6;
    for (size_t w = 1; w < words; w++)
      if (p[w])
        fz_fail(t, p,
                "%s list element %ld at %p (%zu bytes) was overwritten: word %zu is %#lx, not 0",
                fz_kinds[m->kind].name, n, (void *)p, m->lb, w, (unsigned long)(uintptr_t)p[w]);
    if (n > 1000000)
      fz_fail(t, p, "%s list longer than a million elements: a cycle?", fz_kinds[m->kind].name);
  }
}

/* Check everything this thread can reach, and measure it. */
void fz_walk(struct fz_thread *t)
{
  size_t sp = 0;
  memset(t->vis, 0, t->vis_cap * sizeof *t->vis);
  t->vis_n = 0;
  t->live_bytes = t->live_objects = 0;
  visit_array(t, t->stack, FZ_STACK_ROOTS, "stack root", &sp);
  visit_array(t, t->tls, FZ_TLS_ROOTS, "TLS root", &sp);
  visit_array(t, t->global, FZ_GLOBAL_ROOTS, "global root", &sp);
  visit_array(t, t->added, FZ_ADDED_ROOTS, "GC_add_roots root", &sp);
  for (int i = 0; i < FZ_HOLDERS; i++)
    visit_holder(t, t->holders[i], "uncollectable holder", i, &sp);
  for (int i = 0; i < FZ_TOGGLES; i++)
    visit_holder(t, t->toggles[i], "strong toggle-ref", i, &sp);
  while (sp) {
    struct fz_hdr *h = t->wstack[--sp];
    for (unsigned i = 0; i < fz_nslots(h); i++) {
      struct fz_slot s = fz_slots(h)[i];
      struct fz_ref r = {s.ptr, s.off};
      visit(t, r, "slot", i, h, &sp);
    }
  }
  for (int i = 0; i < FZ_SCRATCH; i++)
    if (t->scratch[i].p) {
      fz_check_scratch(t, &t->scratch[i], "walk");
      t->live_bytes += t->scratch[i].size;
    }
  for (int i = 0; i < FZ_MANY_LISTS; i++)
    check_many(t, &t->many[i]);
  fz_check_links(t);
  t->last_walk = t->ops_done;
  t->alloc_since_walk = 0;
  FZ_COUNT(walks, 1);
}

/* ---- weak links ------------------------------------------------------------ */

/* An object a link still names must be intact, with the id it had. */
static void check_linked(struct fz_thread *t, struct fz_hdr *h, uint64_t id, const char *what, int i)
{
  fz_check_obj(t, h, what, i, NULL, 0);
  if (h->id != id)
    fz_fail(t, h, "%s %d names object %p with id %#llx, but was registered for id %#llx", what, i,
            (void *)h, (unsigned long long)h->id, (unsigned long long)id);
  for (unsigned k = 0; k < fz_nslots(h); k++) {
    struct fz_slot s = fz_slots(h)[k];
    struct fz_hdr *c = s.ptr ? (struct fz_hdr *)((char *)s.ptr - s.off) : NULL;
    if (c && fz_owned(t, h))
      fz_check_obj(t, c, "slot", k, h, 0);
  }
}

static void *GC_CALLBACK reveal_link(void *link)
{
  GC_hidden_pointer v = *(GC_hidden_pointer *)link;
  return v ? GC_REVEAL_POINTER(v) : NULL;
}

static void *GC_CALLBACK load_link(void *link) { return *(void **)link; }

/* The object a link names, or NULL once the collector cleared it.  Read
 * under the allocation lock, as Boehm GC asks: it clears links after
 * marking, and may do so with the world running (pargc clears them with
 * the world stopped, but a program cannot know).  Once the pointer is in
 * a register or on the stack the object is held. */
void *fz_read_link(void **link) { return GC_call_with_alloc_lock(load_link, link); }

/* Every link is NULL (cleared: its object died) or names its object,
 * intact. */
void fz_check_links(struct fz_thread *t)
{
  for (int i = 0; i < FZ_LINKS; i++) {
    struct fz_link *l = &t->links[i];
    if (!l->kind)
      continue;
    struct fz_hdr *h = fz_read_link(&l->ptr);
    if (!h) {
      FZ_COUNT(links_cleared, 1);
      l->kind = 0; /* the collector dropped the registration */
      continue;
    }
    check_linked(t, h, l->id, l->kind == 1 ? "disappearing link" : "long link", i);
    GC_reachable_here(h);
  }
  for (int i = 0; i < FZ_HLINKS; i++) {
    if (!t->hlink_ids[i])
      continue;
    struct fz_hdr *h = GC_call_with_alloc_lock(reveal_link, &t->hlinks[i]);
    if (!h) {
      FZ_COUNT(links_cleared, 1);
      t->hlink_ids[i] = 0;
      continue;
    }
    check_linked(t, h, t->hlink_ids[i], "hidden-pointer link", i);
    GC_reachable_here(h);
  }
}

/* ---- callbacks the collector makes ------------------------------------------ */

void *fz_encode_id(uint64_t id) { return (void *)(uintptr_t)(id | FZ_TOP); }

/* In a fork child only the forking thread lives on: objects the other
 * threads held only on their stacks become garbage there, some of them
 * half-initialised or in the middle of a slot update.  Callbacks check
 * those less. */
static int orphaned(const struct fz_hdr *h) { return fz_fork_uid && h->id >> 32 != fz_fork_uid; }

/* A finalizer sees its object, unreachable but intact, and the objects
 * it points to, which the collector must have kept (their headers and
 * payloads: their owners may be changing their slots). */
static void GC_CALLBACK finalizer(void *obj, void *cd)
{
  struct fz_hdr *h = obj;
  uint64_t want = (uint64_t)(uintptr_t)cd & ~FZ_TOP;
  if (GC_base(obj) != obj)
    fz_fail(NULL, obj, "finalizer: GC_base(%p) is %p, not the object", obj, GC_base(obj));
  fz_check_obj(NULL, h, "finalizer of object", 0, NULL, 1);
  if (h->id != want)
    fz_fail(NULL, obj, "finalizer registered for id %#llx called with object %p of id %#llx",
            (unsigned long long)want, obj, (unsigned long long)h->id);
  if (orphaned(h) && !(fz_flags(h) & FZ_F_FROZEN))
    return; /* its owner may have been changing a slot at the fork */
  for (unsigned i = 0; i < fz_nslots(h); i++) {
    struct fz_slot s = fz_slots(h)[i];
    if (!s.ptr)
      continue;
    struct fz_hdr *c = (struct fz_hdr *)((char *)s.ptr - s.off);
    fz_check_obj(NULL, c, "finalizer: slot", i, h, 0);
    if (s.off > c->size)
      fz_fail(NULL, c, "finalizer: slot %u of %p points %lu bytes into an object of %llu", i, obj,
              (unsigned long)s.off, (unsigned long long)c->size);
  }
  FZ_COUNT(finalizers_run, 1);
}

GC_finalization_proc fz_finalizer_proc(void) { return finalizer; }

/* The GC_finalized_malloc closure runs while the object is reclaimed,
 * possibly with the collector's lock held: it checks memory only. */
static void GC_CALLBACK disclaimed(void *obj, void *cd)
{
  (void)cd;
  struct fz_hdr *h = obj;
  if (fz_fork_uid && (!hdr_ok(h) || orphaned(h)))
    return; /* perhaps half-made by a thread the fork left behind */
  if (!hdr_ok(h))
    fail_header(NULL, h, "GC_finalized_malloc closure");
  long bad = check_range(h, payload_start(h), h->size, h->id, 1);
  if (bad >= 0)
    fail_payload(NULL, h, "GC_finalized_malloc closure", bad);
  FZ_COUNT(disclaims_run, 1);
}

/* The mark procedure of the custom kind: word 0 (the link while the
 * object waits on a GC_malloc_many list) and, once the header is
 * complete, each slot.  Runs in the collector's threads, perhaps while
 * the owner initialises the object (concurrent mode): a header whose
 * check does not match yet has no slots set either. */
static struct GC_ms_entry *mark_proc(GC_word *addr, struct GC_ms_entry *msp,
                                     struct GC_ms_entry *lim, GC_word env)
{
  (void)env;
  msp = GC_MARK_AND_PUSH((void *)addr[0], msp, lim, (void **)addr);
  struct fz_hdr *h = (struct fz_hdr *)addr;
  if (h->magic != FZ_MAGIC || h->check != hdr_hash(h))
    return msp;
  __atomic_thread_fence(__ATOMIC_ACQUIRE);
  unsigned n = fz_nslots(h);
  for (unsigned i = 0; i < n; i++) {
    struct fz_slot *s = &fz_slots(h)[i];
    msp = GC_MARK_AND_PUSH(s->ptr, msp, lim, &s->ptr);
  }
  return msp;
}

/* Strong toggle-refs stay strong until their owner sets the drop flag;
 * weak ones stay weak.  Called during collections: memory checks only. */
static GC_ToggleRefStatus GC_CALLBACK toggle_cb(void *obj)
{
  struct fz_hdr *h = obj;
  FZ_COUNT(toggle_calls, 1);
  if (!hdr_ok(h))
    fail_header(NULL, h, "toggle-ref callback");
  if (fz_flags(h) & FZ_F_TOGGLE_DROP)
    return GC_TOGGLE_REF_DROP;
  return fz_attr(h) & FZ_A_TOGGLE_STRONG ? GC_TOGGLE_REF_STRONG : GC_TOGGLE_REF_WEAK;
}

/* Kinds, descriptors and callbacks; after GC_INIT, before the workers. */
void fz_init_collector_extras(void)
{
  GC_word bm[4] = {0};
  for (int w = 6; w < 22; w += 2)
    GC_set_bit(bm, w);
  fz_descr_short = GC_make_descriptor(bm, 22);
  GC_word bml[(206 + GC_WORDSZ - 1) / GC_WORDSZ] = {0};
  for (int w = 6; w < 206; w += 2)
    GC_set_bit(bml, w);
  fz_descr_long = GC_make_descriptor(bml, 206);
  GC_word bmp[1] = {1};
  fz_descr_pair = GC_make_descriptor(bmp, 2);
  fz_kind_len = (int)GC_new_kind(GC_new_free_list(), GC_DS_LENGTH, 1, 1);
  fz_kind_proc = (int)GC_new_kind(GC_new_free_list(), GC_MAKE_PROC(GC_new_proc(mark_proc), 0), 0, 1);
  GC_init_finalized_malloc();
  if (fz_cfg.toggles)
    GC_set_toggleref_func(toggle_cb);
}

int fz_custom_kind(int kind) { return kind == FZ_K_MANY_LEN ? fz_kind_len : fz_kind_proc; }
