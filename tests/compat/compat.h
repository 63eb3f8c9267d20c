/* compat.h: helpers shared by the Boehm API compatibility programs.
 *
 * These programs are written against Boehm GC's API only (no pargc.h),
 * so that each one can be compiled against either header set and linked
 * against either library.  A conservative collector may keep an object
 * alive through a stale copy of its address on the stack or in a
 * register, so tests never require ONE particular object to be
 * collected; they allocate many and require most of them to go
 * (COMPAT_MOSTLY), or they hide the address (GC_HIDE_POINTER) and
 * create objects in separate, non-inlined functions whose frames are
 * wiped afterwards (compat_wipe_stack). */
#ifndef PARGC_TESTS_COMPAT_H
#define PARGC_TESTS_COMPAT_H

#include <stdint.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

#define COMPAT_NOINLINE __attribute__((noinline, unused))

/* At least 80% of n: what "most objects were collected" means here. */
#define COMPAT_MOSTLY(count, n) ((count) * 5 >= (n) * 4)

/* Overwrite a chunk of stack below the caller, where earlier callees left
 * copies of pointers. */
static COMPAT_NOINLINE void compat_wipe_stack(void) {
  volatile char buf[16384];
  memset((char *)buf, 0, sizeof buf);
  __asm__ __volatile__("" : : "r"(buf) : "memory");
}

/* Collect and run finalizers a few times: finalization of chains needs
 * one cycle per link, and finalizers may run lazily. */
static COMPAT_NOINLINE void compat_collect(int rounds) {
  for (int i = 0; i < rounds; i++) {
    compat_wipe_stack();
    GC_gcollect();
    GC_invoke_finalizers();
  }
}

/* A thread's part of the multi-threaded programs: five rounds of
 * building a 2000-node list held only by this thread's stack, letting
 * others collect (GC_gcollect, then churn), and checking every node.
 * Returns the number of bad nodes as the thread's result. */
struct compat_node {
  struct compat_node *next;
  intptr_t value;
};

static COMPAT_NOINLINE void *compat_list_worker(void *arg) {
  enum { COMPAT_LIST_NODES = 2000 };
  intptr_t id = (intptr_t)arg;
  int bad = 0;
  for (int round = 0; round < 5; round++) {
    struct compat_node *head = 0;
    for (int i = 0; i < COMPAT_LIST_NODES; i++) {
      struct compat_node *n = (struct compat_node *)GC_MALLOC(sizeof *n);
      n->next = head;
      n->value = id * 100000 + i;
      head = n;
    }
    GC_gcollect();
    for (int i = 0; i < COMPAT_LIST_NODES * 10; i++) (void)GC_MALLOC(24); /* churn */
    int i = COMPAT_LIST_NODES - 1;
    for (struct compat_node *n = head; n; n = n->next, i--) bad += n->value != id * 100000 + i;
    bad += i != -1;
  }
  return (void *)(intptr_t)bad;
}

/* A GC_malloc'd object whose address links[slot] holds as a disappearing
 * link (links: atomic uncollectable, so the link alone keeps nothing). */
static COMPAT_NOINLINE void *compat_tracked(int slot, void **links) {
  void *t = GC_malloc(32);
  links[slot] = t;
  GC_general_register_disappearing_link(&links[slot], t);
  return t;
}

#endif
