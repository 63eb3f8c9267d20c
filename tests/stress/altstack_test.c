/* A thread stopped while it runs a signal handler on an alternate signal
 * stack (sigaltstack, SA_ONSTACK): what its interrupted frames on the
 * normal stack point to must survive, and so must what the handler's own
 * frames on the alternate stack point to.
 *
 * The thread builds a list held only by a local variable, then takes a
 * signal whose handler runs on the alternate stack and waits there,
 * holding a second list in its own local.  Meanwhile the main thread
 * collects, and then checks that every node of both lists was marked
 * (GC_is_marked: the freed nodes would stay intact until their owner's
 * lazy sweep, so their values prove nothing).  The lists are handed to
 * the main thread hidden, so that only the other thread's stacks hold
 * them.  Then the same thread collects by itself from a handler on the
 * alternate stack, and checks the same. */
#include "config.h"
#include <gc.h>
#include <gc/gc_mark.h>
#include "check.h"

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

enum { NODES = 20000 };

struct node {
  struct node *next;
  uintptr_t value;
};

static atomic_int in_handler, release_handler;
static atomic_long handler_bad;
/* The two lists, hidden from the scan (complemented). */
static _Atomic uintptr_t hidden_list, hidden_mine;
#define HIDE(p) (~(uintptr_t)(p))

static struct node *build(uintptr_t salt)
{
  struct node *head = NULL;
  for (uintptr_t i = 0; i < NODES; i++) {
    struct node *n = GC_MALLOC(sizeof *n);
    n->next = head;
    n->value = i * 7 + salt;
    head = n;
  }
  return head;
}

/* Mismatches along a list built by build(salt). */
static long count_unmarked(const struct node *n)
{
  long unmarked = 0;
  for (; n; n = n->next)
    unmarked += !GC_is_marked(n);
  return unmarked;
}

static long count_bad(const struct node *n, uintptr_t salt)
{
  long bad = 0;
  uintptr_t i = NODES;
  for (; n && i > 0; n = n->next)
    bad += n->value != --i * 7 + salt;
  return bad + (long)i;
}

static void on_signal(int sig)
{
  (void)sig;
  /* Runs on the alternate stack: this list is held from there only. */
  struct node *volatile mine = build(3);
  atomic_store(&hidden_mine, HIDE(mine));
  atomic_store(&in_handler, 1);
  while (!atomic_load(&release_handler))
    ;
  atomic_store(&handler_bad, count_bad(mine, 3));
}

/* The thread collects from its alternate stack: its own stack must be
 * scanned from the interrupted frames up, the alternate one from here. */
static atomic_long self_unmarked_list = -1, self_unmarked_mine = -1;

static void on_signal_collect(int sig)
{
  (void)sig;
  struct node *volatile mine = build(5);
  GC_gcollect();
  atomic_store(&self_unmarked_mine, count_unmarked(mine));
  atomic_store(&self_unmarked_list, count_unmarked((struct node *)HIDE(atomic_load(&hidden_list))));
}

static void *thread_main(void *arg)
{
  (void)arg;
  /* mmap'd, not static: data and bss are roots, this must not be. */
  size_t alt_size = 1 << 16;
  void *alt = mmap(NULL, alt_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  CHECK(alt != MAP_FAILED);
  stack_t ss = {.ss_sp = alt, .ss_size = alt_size, .ss_flags = 0};
  CHECK(sigaltstack(&ss, NULL) == 0);
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_signal;
  sa.sa_flags = SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
  sa.sa_handler = on_signal_collect;
  CHECK(sigaction(SIGUSR2, &sa, NULL) == 0);

  /* Held by this frame on the normal stack only: not in a register when
   * the signal comes (the kernel saves those on the alternate stack). */
  struct node *volatile list = build(1);
  atomic_store(&hidden_list, HIDE(list));
  CHECK_CLEAR_REGISTERS();
  raise(SIGUSR1); /* returns once the main thread lets the handler go */
  CHECK_CLEAR_REGISTERS();
  raise(SIGUSR2); /* collects from the alternate stack */
  long bad = count_bad(list, 1);
  ss.ss_flags = SS_DISABLE;
  sigaltstack(&ss, NULL);
  munmap(alt, alt_size);
  return (void *)(intptr_t)bad;
}

int main(void)
{
  GC_INIT();
  pthread_t t;
  CHECK(pthread_create(&t, NULL, thread_main, NULL) == 0);
  while (!atomic_load(&in_handler))
    ;
  for (int round = 0; round < 3; round++) {
    for (int i = 0; i < 4 * NODES; i++)
      GC_MALLOC(sizeof(struct node));
    GC_gcollect();
  }
  /* Marks are valid until the next collection. */
  CHECK_EQ(count_unmarked((struct node *)HIDE(atomic_load(&hidden_list))), 0); /* normal stack */
  CHECK_EQ(count_unmarked((struct node *)HIDE(atomic_load(&hidden_mine))), 0); /* alternate */
  atomic_store(&release_handler, 1);
  void *bad;
  CHECK(pthread_join(t, &bad) == 0);
  CHECK_EQ((long)(intptr_t)bad, 0);          /* the normal stack's list */
  CHECK_EQ(atomic_load(&handler_bad), 0);    /* the alternate stack's list */
  CHECK_EQ(atomic_load(&self_unmarked_list), 0);
  CHECK_EQ(atomic_load(&self_unmarked_mine), 0);
  return CHECK_SUMMARY();
}
