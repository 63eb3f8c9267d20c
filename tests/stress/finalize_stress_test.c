/* Stress: finalizers under collections started by other threads.  Four
 * threads allocate objects of about 4 KiB, write a pattern into each,
 * register a finalizer (ordered or not) and drop it -- some point at the
 * thread's previous one (at its base, inside it or just past its end),
 * some are watched by a disappearing link -- while they also allocate
 * and drop objects of other size classes (so an emptied span is soon
 * formatted again for another class), call GC_gcollect and
 * GC_invoke_finalizers, and read their links.  The finalizer checks that
 * its object is still its own: GC_base(obj) is obj, GC_size covers it,
 * the pattern is intact, what it points at is still an object; then it
 * overwrites the pattern, so a second finalization of one object shows
 * too.  A link not yet cleared must lead to an intact object.  A first
 * round runs the finalizers after collections as usual, a second with
 * GC_set_finalize_on_demand(1), every thread calling
 * GC_invoke_finalizers.
 *
 * GC_invoke_finalizers once took the object off the queue and released
 * the collection lock before copying it to a local: a collection woken by
 * that unlock saw the object only hidden in the queue's node, and freed
 * it before its finalizer ran (broken patterns, GC_base NULL or another
 * object's base; nearly every run, in both modes). */
#include "config.h"
#include <gc.h>
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { T = 4, OPS = 12000, KEEP = 64 };

#define MAGIC ((uintptr_t)0x5eed0f1a11ce5eedull)
#define DEAD ((uintptr_t)0xdeadf1a1deadf1a1ull)

/* Static: the collector sees them as roots.  links[] holds hidden
 * pointers, registered as disappearing links. */
static void *keep[T][KEEP];
static GC_hidden_pointer links[T][KEEP];
static _Atomic long registered, finalized, links_seen, broken;

/* Word i (i >= 1) of a finalizable object; word 0 points at another
 * finalizable object (its base, inside it or just past its end) or is 0. */
static uintptr_t word_at(uintptr_t obj, size_t i)
{
  return (obj ^ MAGIC) + i * 0x9E3779B97F4A7C15ull;
}

static void fill(void *obj, size_t n, void *other)
{
  uintptr_t *w = obj;
  w[0] = (uintptr_t)other;
  for (size_t i = 1; i < n / sizeof *w; i++)
    w[i] = word_at((uintptr_t)obj, i);
}

/* Is obj a finalizable object of n bytes whose pattern is intact? */
static bool intact(void *obj, size_t n)
{
  const uintptr_t *w = obj;
  if (GC_base(obj) != obj || GC_size(obj) < n)
    return false;
  for (size_t i = 1; i < n / sizeof *w; i++)
    if (w[i] != word_at((uintptr_t)obj, i))
      return false;
  return true;
}

static void report(const char *what, void *obj, size_t n)
{
  const uintptr_t *w = obj;
  if (atomic_fetch_add(&broken, 1) < 5)
    fprintf(stderr, "%s: object %p (%zu bytes) reclaimed: base %p, size %zu, words %#lx %#lx\n",
            what, obj, n, GC_base(obj), GC_size(obj), (unsigned long)w[0], (unsigned long)w[1]);
}

static void finalizer(void *obj, void *cd)
{
  size_t n = (size_t)(uintptr_t)cd;
  uintptr_t *w = obj;
  if (!intact(obj, n)) {
    report("finalizer", obj, n);
  } else {
    /* What word 0 points at is still an object: the same one, or one
     * whose finalizer ran already (no-order) -- not reclaimed either way,
     * since this object kept it reachable. */
    void *other = (void *)w[0];
    if (other) {
      const uintptr_t *o = GC_base(other);
      if (!o || (o[1] != word_at((uintptr_t)o, 1) && o[1] != DEAD))
        report("finalizer's referent", other, 0);
    }
    for (size_t i = 0; i < n / sizeof *w; i++)
      w[i] = DEAD;
  }
  atomic_fetch_add(&finalized, 1);
}

/* Under the allocation lock: a link not cleared yet leads to an object
 * that no collection found unreachable, so its finalizer has not run. */
static void *read_link(void *slot)
{
  GC_hidden_pointer h = *(GC_hidden_pointer *)slot;
  return h ? GC_REVEAL_POINTER(h) : NULL;
}

static void *worker(void *arg)
{
  uintptr_t id = (uintptr_t)arg;
  uint64_t x = 0x9E3779B97F4A7C15ull * (id + 1);
  char *last = NULL; /* the last finalizable object of this thread */
  size_t last_n = 0;
  for (int op = 0; op < OPS; op++) {
    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
    unsigned r = (unsigned)(x >> 32) % 64;
    size_t s = (x >> 16) % KEEP;
    if (r < 28) {
      /* An object of about 4 KiB with a finalizer, dropped at once or
       * kept for a while in a slot; some point at the previous one. */
      size_t n = (3968 + (size_t)((x >> 8) % 256)) & ~(size_t)7;
      void *p = GC_MALLOC(n);
      if (!p) {
        broken++;
        continue;
      }
      unsigned how = (unsigned)(x >> 24) % 4;
      char *other = !last || how == 0 ? NULL
                    : how == 1        ? last
                    : how == 2        ? last + 8 * ((x >> 40) % (last_n / 8))
                                      : last + last_n;
      fill(p, n, other);
      if (r & 1)
        GC_REGISTER_FINALIZER(p, finalizer, (void *)(uintptr_t)n, NULL, NULL);
      else
        GC_REGISTER_FINALIZER_NO_ORDER(p, finalizer, (void *)(uintptr_t)n, NULL, NULL);
      registered++;
      if (r < 8)
        keep[id][s] = p;
      /* Registered before the store: until then the link follows its
       * old object, and a collection that found that one dead would clear
       * the slot that already held p. */
      if (r % 4 == 3 &&
          GC_GENERAL_REGISTER_DISAPPEARING_LINK((void **)&links[id][s], p) != GC_NO_MEMORY)
        links[id][s] = GC_HIDE_POINTER(p);
      last = p;
      last_n = n;
    } else if (r < 54) {
      /* Other size classes: small, medium and 8-16 KiB, pointer-free
       * or not, mostly dropped at once. */
      size_t n = r < 40 ? 16 + (x >> 12) % 600 : r < 48 ? 1024 + (x >> 12) % 2048
                                                        : 8192 + (x >> 12) % 8192;
      void *p = r & 1 ? GC_MALLOC_ATOMIC(n) : GC_MALLOC(n);
      if (!p) {
        broken++;
        continue;
      }
      memset(p, (int)(id + 1), n);
      if (r % 8 == 0)
        keep[id][s] = p;
    } else if (r < 57) {
      GC_invoke_finalizers();
    } else if (r < 58 || (id == 0 && r < 60)) {
      GC_gcollect();
    } else if (r < 62) {
      void *p = GC_call_with_alloc_lock(read_link, &links[id][s]);
      if (p) {
        links_seen++;
        if (!intact(p, 3968))
          report("disappearing link", p, 3968);
      }
    } else {
      keep[id][s] = NULL;
      if (r == 63)
        last = NULL;
    }
  }
  return NULL;
}

int main(void)
{
  GC_INIT();
  check_run_threads(T, worker);
  GC_set_finalize_on_demand(1);
  check_run_threads(T, worker);
  memset(keep, 0, sizeof keep);
  for (int i = 0; i < 4; i++) {
    GC_gcollect();
    GC_invoke_finalizers();
  }
  printf("%ld registered, %ld finalized, %ld links read, %lu collections\n", (long)registered,
         (long)finalized, (long)links_seen, (unsigned long)GC_get_gc_no());
  CHECK_EQ(broken, 0);
  CHECK(finalized > registered / 2);
  CHECK(finalized <= registered);
  return CHECK_SUMMARY();
}
