/* Concurrent mode and client mark procedures.
 *
 * Boehm GC runs mark procedures with the world stopped, and runtimes
 * rely on it.  Guile 3's thread objects have a procedure that marks the
 * thread's interpreter stack -- malloc'd memory no write barrier sees --
 * and overwrites the slots that its frames' maps call dead.  Called by a
 * concurrent marker while that thread runs, it walked frames that were
 * gone and overwrote live values (with #<unspecified>), and what moved
 * into the stack after it ran was never marked.
 *
 * Here objects of a kind whose procedure marks the slots of arrays
 * outside the heap are scanned while (1) a mutator thread runs without
 * pause -- the procedure checks that the thread's counter does not move
 * while it runs, i.e. that the world is stopped -- and (2) the program
 * moves the only reference to an object V between two such arrays,
 * writing nothing in the heap, through a whole concurrent cycle.  When
 * the cycle ends V must be marked.
 */
#include "config.h"
#include <gc.h>
#include <gc/gc_mark.h>
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

struct holder {
  uintptr_t magic; /* HOLDER once set up; free objects are skipped */
  void **slots;    /* malloc'd, 4 slots */
};
#define HOLDER 0x486f6c646572ull

static int holder_kind;
static struct holder *x_obj, *y_obj; /* roots */
static _Atomic long spinner_count;
static _Atomic int spinner_stop, armed;
static _Atomic long procs_called, procs_while_running;

static void sleep_us(long us)
{
  struct timespec ts = {0, us * 1000};
  nanosleep(&ts, NULL);
}

static struct GC_ms_entry *holder_mark(GC_word *addr, struct GC_ms_entry *msp,
                                       struct GC_ms_entry *lim, GC_word env)
{
  (void)env;
  struct holder *h = (struct holder *)addr;
  if (h->magic != HOLDER || !h->slots)
    return msp;
  long before = atomic_load(&spinner_count);
  for (int i = 0; i < 4; i++)
    msp = GC_MARK_AND_PUSH(h->slots[i], msp, lim, NULL);
  if (atomic_load(&armed)) {
    sleep_us(300); /* the spinner runs a million steps meanwhile, unless stopped */
    atomic_fetch_add(&procs_called, 1);
    if (atomic_load(&spinner_count) != before)
      atomic_fetch_add(&procs_while_running, 1);
  }
  return msp;
}

/* A mutator that never stops on its own: only a stopped world stops it. */
static void *spinner(void *arg)
{
  (void)arg;
  while (!atomic_load_explicit(&spinner_stop, memory_order_relaxed))
    atomic_fetch_add_explicit(&spinner_count, 1, memory_order_relaxed);
  return NULL;
}

static __attribute__((noinline)) uintptr_t make_v(void)
{
  void **v = GC_MALLOC(64);
  v[0] = (void *)(uintptr_t)0x1234;
  x_obj->slots[0] = v;
  return ~(uintptr_t)v; /* kept hidden */
}

/* Move V to the other holder's slots; nothing written in the heap, and
 * V's address left in no register of the caller. */
static __attribute__((noinline)) void swap_slots(void)
{
  void *a = x_obj->slots[0], *b = y_obj->slots[0];
  x_obj->slots[0] = b;
  y_obj->slots[0] = a;
}

static __attribute__((noinline)) int v_marked(uintptr_t hidden)
{
  return GC_is_marked((void *)~hidden);
}

static struct holder *new_holder(void)
{
  /* Large: a span of its own, so that no free object beside it, which a
   * cycle's start allocates black and dirties, gets it rescanned. */
  struct holder *h = GC_generic_malloc(600 << 10, holder_kind);
  CHECK(h != NULL);
  h->slots = calloc(4, sizeof(void *));
  h->magic = HOLDER;
  return h;
}

int main(void)
{
  setenv("PARGC_MODE", "concurrent", 0);
  setenv("PARGC_CONC_MIN_LIVE", "0", 0); /* cycles however small the heap */
  GC_INIT();
  if (!GC_is_incremental_mode())
    SKIP("concurrent mode is off (GC_DISABLE_INCREMENTAL?)");
  holder_kind = (int)GC_new_kind(GC_new_free_list(), GC_MAKE_PROC(GC_new_proc(holder_mark), 0),
                                 0, 1);
  x_obj = new_holder();
  y_obj = new_holder();
  uintptr_t hidden_v = make_v();
  CHECK_CLEAR_REGISTERS();
  GC_gcollect(); /* a settled heap; V reachable through a holder only */
  CHECK(v_marked(hidden_v));
  CHECK_CLEAR_REGISTERS();

  pthread_t spin;
  CHECK(pthread_create(&spin, NULL, spinner, NULL) == 0);
  for (int cycle = 0; cycle < 3; cycle++) {
    atomic_store(&armed, 1);
    GC_word gc0 = GC_get_gc_no();
    for (int i = 0; i < 20000 && GC_get_gc_no() == gc0; i++) {
      /* Ignored while the previous cycle finishes: asked until it runs. */
      GC_start_incremental_collection();
      swap_slots();
      CHECK_CLEAR_REGISTERS();
      sleep_us(100);
    }
    CHECK(GC_get_gc_no() != gc0);
    atomic_store(&armed, 0);
    /* The cycle is over: V, reachable through a holder's slots, is marked. */
    CHECK(v_marked(hidden_v));
    CHECK_CLEAR_REGISTERS();
  }
  atomic_store(&spinner_stop, 1);
  pthread_join(spin, NULL);
  CHECK(atomic_load(&procs_called) > 0);
  CHECK_EQ(atomic_load(&procs_while_running), 0);
  void **v = (void **)~hidden_v;
  CHECK(v[0] == (void *)(uintptr_t)0x1234);
  return CHECK_SUMMARY();
}
