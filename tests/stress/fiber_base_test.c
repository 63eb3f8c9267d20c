/* Fibers the way Crystal's runtime runs them on Boehm GC.
 *
 * Part 1, one thread: the main thread switches between fibers, each on a
 * stack of its own (makecontext / swapcontext), and at every switch
 * writes the running fiber's stack base into GC_stackbottom -- the
 * variable, not GC_set_stackbottom.  Boehm GC reads GC_stackbottom for
 * the main thread at every collection.  pargc read it once, at GC_init:
 * a collection run from a fiber found the main thread on a stack it did
 * not know and scanned only its registers, and what the fiber's frames
 * held was freed (Crystal programs looped over their own reused lists).
 * The fiber not running is pushed from a GC_set_push_other_roots
 * callback with GC_push_all_eager, as Crystal does.
 *
 * Part 2, multi-threaded: another thread runs a fiber, and the callback
 * tells the collector that thread's fiber stack base with
 * GC_set_stackbottom -- from inside the collection, with the world
 * stopped (Crystal's -Dpreview_mt scheduler).  Boehm GC scans thread
 * stacks after the callback, so the base counts in the same collection.
 * pargc took its thread registry lock there, which the collection
 * already held (a fatal error), and scanned the stacks before the
 * callbacks.
 *
 * Part 3, the moment between a switch's two steps: Crystal writes the
 * next fiber's base, then switches stacks.  A collection that stops the
 * thread there (a concurrent cycle's stop, from the collector's thread)
 * finds it on a stack below no base it knows.  pargc scanned only its
 * registers; now it scans from the stack pointer to the end of the
 * memory that holds it, and says nothing (the program keeps its bases).
 * Here the fiber writes the other base and collects at once.
 *
 * Part 4, the same moment with the next fiber's stack just above the
 * running one, past a guard page (Crystal maps each fiber's stack with a
 * guard page at its low end): [stack pointer, next base) crosses the
 * guard page, and scanning it faulted (Crystal in concurrent mode, one
 * run in 25 on a loaded machine).  Now a base the program keeps is
 * trusted only as far as the memory that holds the stack pointer goes.
 *
 * Each part checks that every node of a list held only on a fiber's stack
 * is marked by a collection run meanwhile, and intact after. */
#include "config.h"
#include <gc.h>
#include <gc/gc_mark.h>
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

enum { NODES = 20000, FIBER_STACK = 1 << 18 };

struct node {
  struct node *next;
  uintptr_t value;
};

static char *new_stack(void)
{
  /* mmap'd, not static: data and bss are roots, a fiber stack must not be. */
  char *s = mmap(NULL, FIBER_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(s != MAP_FAILED);
  return s;
}

static struct node *build(uintptr_t seed)
{
  struct node *head = NULL;
  for (uintptr_t i = 0; i < NODES; i++) {
    struct node *n = GC_MALLOC(sizeof *n);
    n->next = head;
    n->value = seed + i;
    head = n;
  }
  return head;
}

/* Nodes of the list at ~hidden that a collection left unmarked. */
static long unmarked(uintptr_t hidden)
{
  long n = 0;
  for (struct node *p = (struct node *)~hidden; p; p = p->next)
    n += !GC_is_marked(p);
  return n;
}

/* The list is whole: NODES nodes, values seed + NODES - 1 down to seed. */
static bool intact(const struct node *p, uintptr_t seed)
{
  uintptr_t want = seed + NODES;
  for (; p; p = p->next)
    if (p->value != --want)
      return false;
  return want == seed;
}

/* ---- Part 1: fibers on the main thread, GC_stackbottom written ------- */

static ucontext_t main_ctx, fiber_ctx[2];
static char *fiber_stack[2];
static char *main_bottom;
static int running = -1;  /* the fiber on the CPU; -1: the main stack */
static char *parked_sp[2]; /* a fiber switched away from: its stack pointer */
static long part1_unmarked[2];
static bool part1_intact[2];
static _Atomic uintptr_t part1_hidden[2];

/* Crystal's Fiber.unsafe_each { push_gc_roots unless running? }. */
static void push_parked_fibers(void)
{
  for (int i = 0; i < 2; i++)
    if (i != running && parked_sp[i])
      GC_push_all_eager(parked_sp[i], fiber_stack[i] + FIBER_STACK);
}

/* Switch from the running fiber (or the main stack) to fiber `to` (-1:
 * the main stack), as Crystal does: the new base first, then the swap. */
static void switch_to(int to)
{
  int from = running;
  char here;
  if (from >= 0)
    parked_sp[from] = (char *)((uintptr_t)&here - 256); /* below this frame: swapcontext's own */
  running = to;
  GC_stackbottom = to >= 0 ? fiber_stack[to] + FIBER_STACK : main_bottom;
  swapcontext(from >= 0 ? &fiber_ctx[from] : &main_ctx, to >= 0 ? &fiber_ctx[to] : &main_ctx);
}

static void fiber_body(int me)
{
  struct node *volatile head = build((uintptr_t)me << 20);
  atomic_store(&part1_hidden[me], ~(uintptr_t)head);
  CHECK_CLEAR_REGISTERS();
  /* Let the other fiber build its list, then collect from this one. */
  switch_to(1 - me);
  GC_gcollect();
  part1_unmarked[me] = unmarked(atomic_load(&part1_hidden[me]));
  /* Garbage that would take the freed nodes' places, then look. */
  for (int i = 0; i < 4 * NODES; i++)
    GC_MALLOC(sizeof(struct node));
  GC_gcollect();
  part1_intact[me] = intact(head, (uintptr_t)me << 20);
  parked_sp[me] = NULL;
  switch_to(me == 0 ? 1 : -1);
}

static void fiber0(void) { fiber_body(0); }
static void fiber1(void) { fiber_body(1); }

static void part1(void)
{
  main_bottom = GC_stackbottom;
  CHECK(main_bottom != NULL);
  void (*bodies[2])(void) = {fiber0, fiber1};
  for (int i = 0; i < 2; i++) {
    fiber_stack[i] = new_stack();
    check_make_context(&fiber_ctx[i], fiber_stack[i], FIBER_STACK, NULL, bodies[i]);
  }
  GC_set_push_other_roots(push_parked_fibers);
  /* 0 builds, 1 builds, 0 collects and ends in 1, which collects. */
  switch_to(0);
  GC_set_push_other_roots(0);
  CHECK(GC_stackbottom == main_bottom);
  for (int i = 0; i < 2; i++) {
    CHECK_EQ(part1_unmarked[i], 0);
    CHECK(part1_intact[i]);
  }
}

/* ---- Part 2: a thread's fiber base set from the callback ------------- */

static atomic_int t_ready, t_release;
static _Atomic uintptr_t part2_hidden;
static ucontext_t thread_ctx, thread_fiber_ctx;
static char *thread_fiber_stack;
static void *_Atomic thread_handle;
static atomic_int callback_calls;
static bool part2_intact;

/* Crystal's preview_mt hook: each thread's running fiber's base. */
static void set_thread_bases(void)
{
  void *h = atomic_load(&thread_handle);
  if (h) {
    struct GC_stack_base sb = {.mem_base = thread_fiber_stack + FIBER_STACK};
    GC_set_stackbottom(h, &sb);
    atomic_fetch_add(&callback_calls, 1);
  }
}

static void thread_fiber(void)
{
  struct node *volatile head = build(7u << 20);
  atomic_store(&part2_hidden, ~(uintptr_t)head);
  CHECK_CLEAR_REGISTERS();
  atomic_store(&t_ready, 1);
  while (!atomic_load(&t_release))
    ;
  part2_intact = intact(head, 7u << 20);
  swapcontext(&thread_fiber_ctx, &thread_ctx);
}

static void *thread_main(void *arg)
{
  (void)arg;
  struct GC_stack_base own;
  atomic_store(&thread_handle, GC_get_my_stackbottom(&own));
  check_make_context(&thread_fiber_ctx, thread_fiber_stack, FIBER_STACK, &thread_ctx,
                     thread_fiber);
  swapcontext(&thread_ctx, &thread_fiber_ctx);
  /* Back on the thread's own stack: its own base again (from here, under
   * the allocation lock, as Boehm GC asks). */
  void *h = atomic_load(&thread_handle);
  atomic_store(&thread_handle, NULL);
  GC_set_stackbottom(h, &own);
  return NULL;
}

static void part2(void)
{
  thread_fiber_stack = new_stack();
  GC_set_push_other_roots(set_thread_bases);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, thread_main, NULL) == 0);
  while (!atomic_load(&t_ready))
    ;
  GC_gcollect();
  CHECK(atomic_load(&callback_calls) > 0);
  CHECK_EQ(unmarked(atomic_load(&part2_hidden)), 0);
  for (int i = 0; i < 4 * NODES; i++)
    GC_MALLOC(sizeof(struct node));
  GC_gcollect();
  atomic_store(&t_release, 1);
  CHECK(pthread_join(t, NULL) == 0);
  GC_set_push_other_roots(0);
  CHECK(part2_intact);
}

/* ---- Part 3: stopped between a switch's two steps -------------------- */

static atomic_int unknown_stack_warnings;
static long part3_unmarked = -1;

static void count_warning(char *msg, GC_word arg)
{
  (void)arg;
  if (strstr(msg, "does not know"))
    atomic_fetch_add(&unknown_stack_warnings, 1);
}

static char *window_next_base; /* the base written before the switch */
static uintptr_t window_seed;

static void window_fiber(void)
{
  struct node *volatile head = build(window_seed);
  uintptr_t hidden = ~(uintptr_t)head;
  CHECK_CLEAR_REGISTERS();
  char *own_base = GC_stackbottom;
  GC_stackbottom = window_next_base;
  GC_gcollect();
  part3_unmarked = unmarked(hidden);
  GC_stackbottom = own_base;
  CHECK(intact(head, window_seed));
  swapcontext(&fiber_ctx[0], &main_ctx);
}

/* Run window_fiber on [lo, lo + FIBER_STACK), with `next` written as the
 * base before its collection. */
static void window(char *lo, char *next, uintptr_t seed)
{
  window_next_base = next;
  window_seed = seed;
  part3_unmarked = -1;
  check_make_context(&fiber_ctx[0], lo, FIBER_STACK, NULL, window_fiber);
  GC_stackbottom = lo + FIBER_STACK;
  swapcontext(&main_ctx, &fiber_ctx[0]);
  GC_stackbottom = main_bottom;
  CHECK_EQ(part3_unmarked, 0);
}

static void part3(void)
{
  GC_set_warn_proc(count_warning);
  window(fiber_stack[0], fiber_stack[1] + FIBER_STACK, 9u << 20);
  CHECK_EQ(atomic_load(&unknown_stack_warnings), 0);
}

/* ---- Part 4: the next fiber's stack above, past a guard page --------- */

static void part4(void)
{
  size_t page = (size_t)sysconf(_SC_PAGESIZE);
  char *m = mmap(NULL, 2 * FIBER_STACK + page, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(m != MAP_FAILED);
  CHECK(mprotect(m + FIBER_STACK, page, PROT_NONE) == 0); /* the next fiber's guard */
  window(m, m + 2 * FIBER_STACK + page, 10u << 20);
  CHECK_EQ(atomic_load(&unknown_stack_warnings), 0);
  munmap(m, 2 * FIBER_STACK + page);
}

int main(void)
{
  GC_INIT();
  part1();
  part2();
  part3();
  part4();
  return CHECK_SUMMARY();
}
