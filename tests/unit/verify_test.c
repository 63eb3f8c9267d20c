/* PARGC_VERIFY (gc/tracer.c, Verification) must see what the marker
 * missed.  Each case runs in a child process with PARGC_VERIFY=1 and
 * hides one object from the marker on purpose, while the verifier's own
 * scan still finds it:
 *   root-hook  a GC_push_other_roots procedure pushes the only
 *              reference's range only when the verifier asks;
 *   mark-proc  a client kind's mark procedure reports the only
 *              reference only when the verifier calls it;
 *   barrier    concurrent mode with the manual barrier: a store into an
 *              object the concurrent mark has already scanned, not
 *              reported (GC_end_stubborn_change), is the only reference
 *              to an object at the final stop;
 *   control    the same objects, nothing hidden (the store reported):
 *              no abort;
 *   free-slot  as root-hook, but the hidden reference points to an
 *              object the program freed: a free slot, no lost object,
 *              so no abort.  (The verifier once reported such slots:
 *              a garbage object kept by a stale conservative pointer,
 *              pointing into a span that was a free run while the
 *              concurrent mark scanned it and was formatted again
 *              before the final stop, failed the concurrent stress
 *              tests at random.)
 * The sabotaged children must die with SIGABRT after a "PARGC_VERIFY"
 * report; the controls and free-slot must exit 0.
 */
#include "config.h"
#include "gc/concurrent.h"
#include "gc/tracer.h"
#include <gc.h>
#include <gc/gc_mark.h>
#include "check.h"

#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

enum mode { CONTROL, ROOT_HOOK, MARK_PROC, BARRIER, BARRIER_CONTROL, FREE_SLOT };
static enum mode mode;

/* The only reference to the object under test, in memory the collector
 * does not scan (malloc'd), reported by the hook or the procedure. */
static void **outside;

static void push_outside(void)
{
  if ((mode != ROOT_HOOK && mode != FREE_SLOT) || pargc_tracer_verifying())
    GC_push_all(outside, outside + 1);
}

static struct GC_ms_entry *holder_mark(GC_word *addr, struct GC_ms_entry *msp,
                                       struct GC_ms_entry *lim, GC_word env)
{
  (void)env;
  if (addr[0] != 0x686f6c64) /* a free object of the kind */
    return msp;
  if (mode != MARK_PROC || pargc_tracer_verifying())
    msp = GC_MARK_AND_PUSH(*(void **)addr[1], msp, lim, NULL);
  return msp;
}

static void *volatile holder; /* a root */

/* The barrier case.  A holds W (reachable only from A) and, after the
 * store, V.  The collector lock, taken once the cycle marks, keeps its
 * final stop waiting until the store is made. */
static void **volatile a_obj;
static uintptr_t hidden_w, hidden_v;
static void *volatile bulk; /* live data, so that marking takes a while */

static __attribute__((noinline)) void make_barrier_objects(void)
{
  void **list = NULL;
  for (int i = 0; i < 400000; i++) { /* about 13 MB of a list */
    void **n = GC_MALLOC(2 * sizeof(void *));
    n[0] = list;
    list = n;
  }
  bulk = list;
  /* No cycle runs from here on: one that the allocation above started
   * would find A allocated black, and dirty. */
  GC_gcollect();
  /* Large: a span of its own.  A small A could share the current page
   * of its class, whose free objects a cycle's start allocates black and
   * dirties -- the final stop would then rescan A anyway. */
  a_obj = GC_MALLOC(600 << 10);
}

/* W and V afresh for each attempt: a V left unreachable by an earlier
 * cycle is freed, and may sit on a free list that the next cycle's start
 * allocates black. */
static __attribute__((noinline)) void make_w_v(void)
{
  void *w = GC_MALLOC(32), *v = GC_MALLOC(32);
  a_obj[0] = w;
  a_obj[1] = NULL;
  hidden_w = ~(uintptr_t)w;
  hidden_v = ~(uintptr_t)v;
}

static __attribute__((noinline)) int w_marked(void) { return GC_is_marked((void *)~hidden_w); }
static __attribute__((noinline)) int v_marked(void) { return GC_is_marked((void *)~hidden_v); }

static __attribute__((noinline)) void store_v(bool report)
{
  a_obj[1] = (void *)~hidden_v;
  if (report)
    GC_end_stubborn_change((void *)a_obj);
}

static int barrier_child(bool report)
{
  setenv("PARGC_MODE", "concurrent", 1);
  setenv("PARGC_CONC_MIN_LIVE", "0", 0); /* cycles however small the heap */
  setenv("PARGC_BARRIER", "manual", 1);
  setenv("PARGC_VERIFY", "1", 1);
  GC_INIT();
  make_barrier_objects();
  /* Hold the collector lock while the cycle marks, so that its final
   * stop waits for the store; a cycle that reached its final stop before
   * the lock was taken (a descheduled test thread) is let finish and
   * another one tried. */
  for (int attempt = 0; attempt < 20; attempt++) {
    make_w_v();
    check_wipe_stack();
    CHECK_CLEAR_REGISTERS();
    GC_word gc0 = GC_get_gc_no();
    while (!pargc_conc_in_cycle() && GC_get_gc_no() == gc0)
      GC_start_incremental_collection(); /* ignored while one finishes */
    GC_alloc_lock();
    if (!pargc_conc_in_cycle()) {
      GC_alloc_unlock();
      while (pargc_conc_in_cycle() || GC_get_gc_no() == gc0)
        usleep(1000);
      continue;
    }
    /* W marked: A has been scanned (nothing else points to W).  A V that
     * is marked already was found through a stray copy of its address
     * (a conservative root): the store would prove nothing, try again. */
    for (int i = 0; i < 100000 && !w_marked(); i++)
      usleep(100);
    if (v_marked()) {
      GC_alloc_unlock();
      while (pargc_conc_in_cycle() || GC_get_gc_no() == gc0)
        usleep(1000);
      continue;
    }
    store_v(report);
    /* V's address must not be found on this stack or in a register when
     * the final stop, waiting for the lock, comes. */
    check_wipe_stack();
    CHECK_CLEAR_REGISTERS();
    GC_alloc_unlock();
    while (GC_get_gc_no() == gc0)
      usleep(1000);
    return 0;
  }
  fprintf(stderr, "no concurrent cycle could be held before its final stop\n");
  return 3;
}

static void *volatile first; /* the heap's first object: GC_least_plausible_heap_addr
                      points at it, so it is not the one to hide */

static __attribute__((noinline)) void make_outside(void)
{
  first = GC_MALLOC(48);
  outside = malloc(sizeof *outside);
  *outside = GC_MALLOC(48);
  if (mode == FREE_SLOT)
    GC_FREE(*outside); /* the pointer stays: a free slot */
}


static int child(void)
{
  if (mode == BARRIER || mode == BARRIER_CONTROL)
    return barrier_child(mode == BARRIER_CONTROL);
  setenv("PARGC_VERIFY", "1", 1);
  GC_INIT();
  make_outside();
  check_wipe_stack();
  CHECK_CLEAR_REGISTERS();
  if (mode == ROOT_HOOK || mode == CONTROL || mode == FREE_SLOT)
    GC_set_push_other_roots(push_outside);
  if (mode == MARK_PROC || mode == CONTROL) {
    int kind = (int)GC_new_kind(GC_new_free_list(),
                                GC_MAKE_PROC(GC_new_proc(holder_mark), 0), 0, 1);
    GC_word *h = GC_generic_malloc(2 * sizeof(GC_word), kind);
    h[0] = 0x686f6c64;
    h[1] = (GC_word)outside;
    holder = h;
  }
  CHECK_CLEAR_REGISTERS();
  GC_gcollect();
  return 0;
}

static void run_child(void) { _exit(child()); }

/* Run the child for m: its exit status (128 + signal), its output in buf. */
static int run(enum mode m, char *buf, size_t n)
{
  mode = m;
  return check_capture(run_child, buf, n);
}

int main(void)
{
  char out[8192];
  int st = run(CONTROL, out, sizeof out);
  CHECK_EQ(st, 0);
  if (st != 0)
    fprintf(stderr, "control:\n%s", out);
  st = run(BARRIER_CONTROL, out, sizeof out);
  CHECK_EQ(st, 0);
  if (st != 0)
    fprintf(stderr, "barrier control:\n%s", out);
  st = run(FREE_SLOT, out, sizeof out);
  CHECK_EQ(st, 0);
  if (st != 0)
    fprintf(stderr, "free slot:\n%s", out);

  static const struct {
    enum mode m;
    const char *name;
  } cases[] = {{ROOT_HOOK, "root-hook"}, {MARK_PROC, "mark-proc"}, {BARRIER, "barrier"}};
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    st = run(cases[i].m, out, sizeof out);
    int aborted = st == 128 + SIGABRT;
    CHECK(aborted);
    CHECK(strstr(out, "PARGC_VERIFY") != NULL);
    if (!aborted)
      fprintf(stderr, "%s: status %#x, stderr:\n%s", cases[i].name, st, out);
  }
  return CHECK_SUMMARY();
}
