/* roots: static root ranges; see roots.h.
 *
 * At each call the static ranges are found afresh from the loaded objects
 * (pargc_os_each_object): the writable segments of every loaded object,
 * minus
 *   - its RELRO part (read-only once relocated: no heap pointers),
 *   - libpargc.so's own segments, and, when pargc is linked statically
 *     into the program, the pargc_unscanned section and the tables given
 *     to pargc_roots_exclude_own,
 *   - the vdso (not writable anyway), and the sanitizers' run-time
 *     libraries (is_sanitizer_runtime),
 *   - the ranges given to pargc_roots_exclude (GC_exclude_static_roots).
 * The user's ranges (GC_add_roots minus GC_remove_roots) are added, and the
 * union is sorted and merged so no word is reported twice.
 *
 * Runs with the world stopped, so it must not call malloc (a stopped
 * thread may hold malloc's lock): the scratch arrays are metadata memory
 * from the OS layer.  The user tables are changed only under the registry
 * lock, which the stopper holds, so they are read here without locking.
 *
 * The walk takes the loader's lock, which a stopped thread may hold (in
 * dlopen, dlclose or dl_iterate_phdr): the collector therefore stops the
 * world from inside the walk (pargc_roots_stop_world, below).
 */
#include "config.h"
#include "gc/roots.h"
#include "gc/threads.h"
#include "alloc/report.h"

#include "alloc/os.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct range {
  uintptr_t lo, hi;
};

/* A set of disjoint, non-adjacent ranges sorted by address (malloc'd;
 * changed under the registry lock). */
struct range_set {
  struct range *r;
  size_t n, cap;
};

static struct range_set roots_user;     /* GC_add_roots - GC_remove_roots */
static struct range_set roots_excluded; /* GC_exclude_static_roots */

/* The section pargc_unscanned (see PARGC_UNSCANNED); weak, since no
 * object may use it. */
extern char __start_pargc_unscanned[] __attribute__((weak));
extern char __stop_pargc_unscanned[] __attribute__((weak));

/* Something of ours, to recognise libpargc's own object. */
static PARGC_UNSCANNED char roots_probe;

void *pargc_roots_private_probe(void)
{
  return &roots_probe;
}

/* ---- range sets ------------------------------------------------------- */

static void set_reserve(struct range_set *s, size_t n)
{
  if (n <= s->cap)
    return;
  size_t cap = s->cap ? 2 * s->cap : 16;
  while (cap < n)
    cap *= 2;
  struct range *r = realloc(s->r, cap * sizeof *r);
  if (!r)
    pargc_fatal("out of memory for %zu root ranges", n);
  s->r = r;
  s->cap = cap;
}

/* Add [lo, hi), merging with what it overlaps or touches. */
static void set_add(struct range_set *s, uintptr_t lo, uintptr_t hi)
{
  if (lo >= hi)
    return;
  size_t i = 0;
  while (i < s->n && s->r[i].hi < lo)
    i++;
  size_t j = i; /* ranges [i, j) overlap or touch [lo, hi) */
  while (j < s->n && s->r[j].lo <= hi) {
    if (s->r[j].lo < lo)
      lo = s->r[j].lo;
    if (s->r[j].hi > hi)
      hi = s->r[j].hi;
    j++;
  }
  if (j == i) {
    set_reserve(s, s->n + 1);
    memmove(&s->r[i + 1], &s->r[i], (s->n - i) * sizeof s->r[0]);
    s->n++;
  } else if (j > i + 1) {
    memmove(&s->r[i + 1], &s->r[j], (s->n - j) * sizeof s->r[0]);
    s->n -= j - i - 1;
  }
  s->r[i].lo = lo;
  s->r[i].hi = hi;
}

/* Remove [lo, hi), cutting a range in two where the hole falls inside. */
static void set_remove(struct range_set *s, uintptr_t lo, uintptr_t hi)
{
  if (lo >= hi)
    return;
  for (size_t i = 0; i < s->n;) {
    struct range *r = &s->r[i];
    if (r->hi <= lo || r->lo >= hi) {
      i++;
    } else if (r->lo < lo && r->hi > hi) {
      uintptr_t old_hi = r->hi;
      r->hi = lo;
      set_reserve(s, s->n + 1);
      memmove(&s->r[i + 2], &s->r[i + 1], (s->n - i - 1) * sizeof s->r[0]);
      s->r[i + 1].lo = hi;
      s->r[i + 1].hi = old_hi;
      s->n++;
      return;
    } else if (r->lo < lo) {
      r->hi = lo;
      i++;
    } else if (r->hi > hi) {
      r->lo = hi;
      i++;
    } else {
      memmove(r, r + 1, (s->n - i - 1) * sizeof s->r[0]);
      s->n--;
    }
  }
}

/* ---- public (internal) entry points ----------------------------------- */

void pargc_roots_init(void) {}

static void set_clear(struct range_set *s, uintptr_t lo, uintptr_t hi)
{
  (void)lo;
  (void)hi;
  s->n = 0;
}

/* Every change to a set takes the registry lock, which a collection
 * holds while it reads the sets. */
static void set_change_locked(void (*change)(struct range_set *, uintptr_t, uintptr_t),
                              struct range_set *s, void *lo, void *hi)
{
  pargc_threads_lock();
  change(s, (uintptr_t)lo, (uintptr_t)hi);
  pargc_threads_unlock();
}

void pargc_roots_add(void *lo, void *hi)
{
  if ((uintptr_t)hi < (uintptr_t)lo) {
    pargc_warn("GC_add_roots(%p, %p): the end is below the start; ignored", lo, hi);
    return;
  }
  set_change_locked(set_add, &roots_user, lo, hi);
}

void pargc_roots_remove(void *lo, void *hi) { set_change_locked(set_remove, &roots_user, lo, hi); }
void pargc_roots_clear(void) { set_change_locked(set_clear, &roots_user, NULL, NULL); }
void pargc_roots_exclude(void *lo, void *hi) { set_change_locked(set_add, &roots_excluded, lo, hi); }
void pargc_roots_clear_exclusions(void)
{
  set_change_locked(set_clear, &roots_excluded, NULL, NULL);
}

/* pargc's own large tables (pargc_roots_exclude_own), in the order
 * registered; written once each, at initialisation, under the registry
 * lock. */
enum { OWN_MAX = 4 };
static struct range roots_own[OWN_MAX];
static int roots_own_n;

void pargc_roots_exclude_own(const void *lo, size_t size)
{
  pargc_threads_lock();
  if (roots_own_n < OWN_MAX)
    roots_own[roots_own_n++] = (struct range){(uintptr_t)lo, (uintptr_t)lo + size};
  else
    pargc_warn("pargc_roots_exclude_own: more than %d tables; %p is scanned", OWN_MAX, lo);
  pargc_threads_unlock();
}

/* ---- scratch arrays (metadata memory, usable with the world stopped) -- */

struct scratch {
  struct range *r;
  size_t n, cap;
};

static void scratch_push(struct scratch *s, uintptr_t lo, uintptr_t hi)
{
  if (lo >= hi)
    return;
  if (s->n == s->cap) {
    size_t cap = s->cap ? 2 * s->cap : 256;
    void *p = pargc_os_alloc_meta(cap * sizeof(struct range));
    if (!p)
      pargc_fatal("cannot map %zu bytes for root ranges", cap * sizeof(struct range));
    if (s->r) {
      memcpy(p, s->r, s->n * sizeof(struct range));
      pargc_os_free_meta(s->r, s->cap * sizeof(struct range));
    }
    s->r = p;
    s->cap = cap;
  }
  s->r[s->n].lo = lo;
  s->r[s->n].hi = hi;
  s->n++;
}

/* Empty s but keep its memory for the next collection: an mmap and a
 * munmap per array per collection cost more than the rest of the root
 * walk -- munmap of a multi-threaded process shoots down TLB entries on
 * the other cores by interprocessor interrupts, and the fresh pages
 * fault in again -- which showed on small heaps that collect thousands
 * of times a second. */
static void scratch_reset(struct scratch *s)
{
  s->n = 0;
}

/* Sort by lo (insertion sort: the input comes mostly in address order,
 * object by object) and merge overlapping or touching ranges in place. */
static void scratch_sort_merge(struct scratch *s)
{
  for (size_t i = 1; i < s->n; i++) {
    struct range x = s->r[i];
    size_t j = i;
    while (j > 0 && s->r[j - 1].lo > x.lo) {
      s->r[j] = s->r[j - 1];
      j--;
    }
    s->r[j] = x;
  }
  size_t out = 0;
  for (size_t i = 0; i < s->n; i++) {
    if (out > 0 && s->r[i].lo <= s->r[out - 1].hi) {
      if (s->r[i].hi > s->r[out - 1].hi)
        s->r[out - 1].hi = s->r[i].hi;
    } else {
      s->r[out++] = s->r[i];
    }
  }
  s->n = out;
}

/* Push [lo, hi) minus the (at most few) holes given. */
static void push_minus(struct scratch *s, uintptr_t lo, uintptr_t hi,
                       const struct range *holes, int nholes)
{
  for (int i = 0; i < nholes && lo < hi; i++) {
    uintptr_t hlo = holes[i].lo, hhi = holes[i].hi;
    if (hhi <= lo || hlo >= hi || hlo >= hhi)
      continue;
    if (hlo > lo) {
      /* The part before the hole may still meet later holes. */
      push_minus(s, lo, hlo, holes + i + 1, nholes - i - 1);
    }
    lo = hhi;
  }
  scratch_push(s, lo, hi);
}

/* ---- the loaded objects' data ----------------------------------------- */

int (*pargc_roots_filter)(const char *name, void *start, size_t size);
const volatile int *pargc_roots_no_dls;

static bool no_dls(void)
{
  const volatile int *p = pargc_roots_no_dls;
  return p && *p;
}

/* The program's filter (GC_register_has_static_roots_callback) keeps or
 * drops each writable segment whole, as Boehm GC asks it: the object's
 * name ("" for the program itself), the segment's start and size. */
static bool segment_wanted(const struct pargc_os_object *o, uintptr_t lo, uintptr_t hi)
{
  int (*filter)(const char *, void *, size_t) = pargc_roots_filter;
  return !filter || filter(o->name, (void *)lo, hi - lo);
}

struct object_scan {
  struct scratch *out;
  uintptr_t probe; /* pargc_roots_is_scanned_static: the address asked */
  bool found;
};

/* Push [lo, hi) minus the holes, or, when the scan only looks for one
 * address, note whether it falls inside. */
static void scan_segment(struct object_scan *ps, uintptr_t lo, uintptr_t hi,
                         const struct range *holes, int nholes)
{
  if (!ps->out) {
    if (ps->probe < lo || ps->probe >= hi)
      return;
    for (int i = 0; i < nholes; i++)
      if (ps->probe >= holes[i].lo && ps->probe < holes[i].hi)
        return;
    ps->found = true;
    return;
  }
  push_minus(ps->out, lo, hi, holes, nholes);
}

/* Is o a sanitizer's run-time library (libubsan, libasan, libtsan,
 * liblsan, libhwasan)?  Their data is megabytes of the sanitizer's own
 * tables -- libubsan's alone is 6 MB of zeroed state -- and holds no
 * pointer the program can reach a heap object through; scanning it made
 * every collection of a sanitizer build 1-2 ms longer. */
static bool is_sanitizer_runtime(const char *path)
{
  const char *base = strrchr(path, '/');
  base = base ? base + 1 : path;
  static const char *const names[] = {"libubsan.so", "libasan.so", "libtsan.so",
                                      "liblsan.so", "libhwasan.so"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strncmp(base, names[i], strlen(names[i])) == 0)
      return true;
  return false;
}

static int roots_scan_object(const struct pargc_os_object *o, void *arg)
{
  struct object_scan *ps = arg;
  if (o->vdso || is_sanitizer_runtime(o->name))
    return 0;
  bool ours = false;
  for (int i = 0; i < o->nseg; i++)
    if ((uintptr_t)&roots_probe >= o->seg[i].lo && (uintptr_t)&roots_probe < o->seg[i].hi)
      ours = true;
  /* libpargc as a shared object: none of its data is a root.  Linked into
   * the program itself (name ""), only its unscanned section is left
   * out, below. */
  if (ours && o->name[0])
    return 0;
  struct range holes[2 + OWN_MAX];
  int nholes = 0;
  holes[nholes++] = (struct range){o->relro_lo, o->relro_hi};
  if (__start_pargc_unscanned && __stop_pargc_unscanned)
    holes[nholes++] = (struct range){(uintptr_t)__start_pargc_unscanned,
                                     (uintptr_t)__stop_pargc_unscanned};
  if (ours)
    for (int i = 0; i < roots_own_n; i++)
      holes[nholes++] = roots_own[i];
  /* push_minus wants them in address order. */
  for (int i = 1; i < nholes; i++)
    for (int j = i; j > 0 && holes[j - 1].lo > holes[j].lo; j--) {
      struct range t = holes[j];
      holes[j] = holes[j - 1];
      holes[j - 1] = t;
    }
  for (int i = 0; i < o->nseg; i++) {
    uintptr_t lo = o->seg[i].lo, hi = o->seg[i].hi;
    if (!o->seg[i].writable || !segment_wanted(o, lo, hi))
      continue;
    scan_segment(ps, lo, hi, holes, nholes);
  }
  return 0;
}

bool pargc_roots_is_scanned_static(const void *p)
{
  if (no_dls())
    return false;
  struct object_scan ps = {.out = NULL, .probe = (uintptr_t)p};
  pargc_os_each_object(roots_scan_object, &ps);
  if (!ps.found)
    return false;
  pargc_threads_lock();
  const struct range_set *ex = &roots_excluded;
  for (size_t i = 0; i < ex->n && ps.found; i++)
    if ((uintptr_t)p >= ex->r[i].lo && (uintptr_t)p < ex->r[i].hi)
      ps.found = false;
  pargc_threads_unlock();
  return ps.found;
}

bool pargc_roots_is_user_root(const void *p)
{
  bool in = false;
  pargc_threads_lock();
  for (size_t i = 0; i < roots_user.n && !in; i++)
    in = (uintptr_t)p >= roots_user.r[i].lo && (uintptr_t)p < roots_user.r[i].hi;
  pargc_threads_unlock();
  return in;
}

/* ---- stopping the world inside the loader's lock ---------------------
 *
 * dl_iterate_phdr holds the dynamic loader's lock while it walks the
 * loaded objects, and so do the parts of dlopen and dlclose that add an
 * object to the list or take one off it and unmap it.  A walk made with
 * the world stopped waited forever for a thread stopped in one of those
 * places (seen: the main thread in dlclose's munmap while another thread
 * collected).  So the collector stops the world from inside a walk: no
 * other thread can then be in those places -- one that wants the lock
 * waits for it, in a futex wait the stop signal interrupts -- and the
 * same walk finds the objects' ranges, which cannot change until the
 * world runs again.  The ranges of that walk serve every
 * pargc_roots_each_range of the same stop. */

/* The static ranges found at the stop that stat_stop names (the
 * registry's stop epoch, odd while stopped; 0: none).  Written with the
 * world stopped by the stopper, read in the same stop. */
static struct scratch stat;
static unsigned long stat_stop;

struct stop_walk {
  void (*stop)(void); /* NULL: the world is stopped already */
  struct object_scan ps;
};

static int stop_and_scan_object(const struct pargc_os_object *o, void *arg)
{
  struct stop_walk *w = arg;
  if (w->stop) {
    w->stop();
    w->stop = NULL;
  }
  /* GC_no_dls: no loaded object's data, the program's included (with
   * dl_iterate_phdr, Boehm GC finds the program's data the same way):
   * only the ranges given with GC_add_roots. */
  if (!no_dls())
    roots_scan_object(o, &w->ps);
  return 0;
}

/* Fill `stat` from a walk of the loaded objects, calling stop() (when
 * given) from inside it; note the stop the ranges belong to. */
static void walk_static(void (*stop)(void))
{
  scratch_reset(&stat);
  struct stop_walk w = {stop, {.out = &stat}};
  pargc_os_each_object(stop_and_scan_object, &w);
  if (w.stop) /* no object at all: cannot happen with glibc */
    stop();
  scratch_sort_merge(&stat);
  stat_stop = pargc_threads_stop_epoch();
}

void pargc_roots_stop_world(void (*stop)(void)) { walk_static(stop); }

void pargc_roots_each_range(pargc_range_fn fn, void *arg)
{
  /* Kept between calls (see scratch_reset); callers are serialised: the
   * collector calls this under its lock with the world stopped. */
  static struct scratch all;
  scratch_reset(&all);
  /* The world stopped by pargc_roots_stop_world: its walk's ranges.
   * Otherwise (a unit test's own stop) walk now. */
  if (stat_stop != pargc_threads_stop_epoch())
    walk_static(NULL);

  /* Static ranges minus exclusions: both sorted, one sweep. */
  const struct range_set *ex = &roots_excluded;
  size_t k = 0;
  for (size_t i = 0; i < stat.n; i++) {
    uintptr_t lo = stat.r[i].lo, hi = stat.r[i].hi;
    while (k < ex->n && ex->r[k].hi <= lo)
      k++;
    for (size_t j = k; j < ex->n && ex->r[j].lo < hi && lo < hi; j++) {
      if (ex->r[j].lo > lo)
        scratch_push(&all, lo, ex->r[j].lo);
      if (ex->r[j].hi > lo)
        lo = ex->r[j].hi;
    }
    scratch_push(&all, lo, hi);
  }
  for (size_t i = 0; i < roots_user.n; i++)
    scratch_push(&all, roots_user.r[i].lo, roots_user.r[i].hi);
  scratch_sort_merge(&all);

  const uintptr_t w = sizeof(void *);
  for (size_t i = 0; i < all.n; i++) {
    uintptr_t lo = (all.r[i].lo + w - 1) & ~(w - 1);
    uintptr_t hi = all.r[i].hi & ~(w - 1);
    if (lo < hi)
      fn((void *)lo, (void *)hi, arg);
  }
}
