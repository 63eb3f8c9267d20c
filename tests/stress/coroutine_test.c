/* A thread that runs a coroutine on a stack of its own (makecontext /
 * swapcontext) is on a stack pargc does not know: it says so once, and
 * scans the registers and the stack's mapping from the stack pointer up
 * (the frames; the rest of a mapping up to 64 MiB).  Told the
 * coroutine stack's base with
 * GC_set_stackbottom (Boehm GC's way), pargc scans that stack, and what
 * the coroutine's frames point to survives a collection run meanwhile
 * by another thread. */
#include "config.h"
#include <gc.h>
#include <gc/gc_mark.h>
#include "check.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>

enum { NODES = 20000, CO_STACK = 1 << 18 };

struct node {
  struct node *next;
  uintptr_t value;
};

static atomic_int co_ready, co_release;
static _Atomic uintptr_t hidden_list; /* complemented: not a root */
static ucontext_t thread_ctx, co_ctx;
static char *co_stack;
static int with_stackbottom;

static atomic_int unknown_stack_warnings;

static void count_warning(char *msg, GC_word arg)
{
  (void)arg;
  if (strstr(msg, "does not know"))
    atomic_fetch_add(&unknown_stack_warnings, 1);
}

static void coroutine(void)
{
  struct GC_stack_base saved, sb;
  void *me = GC_get_my_stackbottom(&saved);
  if (with_stackbottom) {
    sb.mem_base = co_stack + CO_STACK;
    GC_set_stackbottom(me, &sb);
  }
  struct node *volatile head = NULL;
  for (uintptr_t i = 0; i < NODES; i++) {
    struct node *n = GC_MALLOC(sizeof *n);
    n->next = head;
    n->value = i;
    head = n;
  }
  atomic_store(&hidden_list, ~(uintptr_t)head);
  /* Held by the coroutine's stack only, not by a register. */
  CHECK_CLEAR_REGISTERS();
  atomic_store(&co_ready, 1);
  while (!atomic_load(&co_release))
    ;
  if (with_stackbottom)
    GC_set_stackbottom(me, &saved); /* back to the thread's own stack */
  swapcontext(&co_ctx, &thread_ctx);
}

static void *thread_main(void *arg)
{
  (void)arg;
  check_make_context(&co_ctx, co_stack, CO_STACK, &thread_ctx, coroutine);
  swapcontext(&thread_ctx, &co_ctx);
  return NULL;
}

/* Run the coroutine on a thread, collect from here while it waits;
 * returns how many of its list's nodes were left unmarked. */
static long run(int stackbottom)
{
  with_stackbottom = stackbottom;
  atomic_store(&co_ready, 0);
  atomic_store(&co_release, 0);
  pthread_t t;
  CHECK(pthread_create(&t, NULL, thread_main, NULL) == 0);
  while (!atomic_load(&co_ready))
    ;
  GC_gcollect();
  long unmarked = 0;
  for (struct node *n = (struct node *)~atomic_load(&hidden_list); n; n = n->next)
    unmarked += !GC_is_marked(n);
  atomic_store(&co_release, 1);
  CHECK(pthread_join(t, NULL) == 0);
  return unmarked;
}

int main(void)
{
  GC_INIT();
  GC_set_warn_proc(count_warning);
  /* mmap'd, not static: data and bss are roots, this must not be. */
  co_stack = mmap(NULL, CO_STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(co_stack != MAP_FAILED);

  /* Unknown stack: scanned to the end of its mapping, and said once. */
  CHECK_EQ(run(0), 0);
  CHECK_EQ(atomic_load(&unknown_stack_warnings), 1);
  CHECK_EQ(run(1), 0); /* with GC_set_stackbottom, it must */
  CHECK_EQ(atomic_load(&unknown_stack_warnings), 1); /* said once */
  return CHECK_SUMMARY();
}
