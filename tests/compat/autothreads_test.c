/* autothreads_test.c: pargc only (not run against Boehm GC, which aborts
 * with "Collecting from unknown thread").  Threads created with the real
 * pthread_create -- no GC_THREADS, no redirects, no registration call --
 * allocate, keep lists on their own stacks, and collect; pargc registers
 * them on their first allocation, so their data must survive. */
#include <gc.h>
#include <pthread.h>
#include <stdint.h>
#include "compat.h"

#define THREADS 4
#define NODES 2000

struct node {
  struct node *next;
  intptr_t value;
};

static void *worker(void *arg) {
  intptr_t id = (intptr_t)arg;
  int bad = 0;
  for (int round = 0; round < 5; round++) {
    struct node *head = 0;
    for (int i = 0; i < NODES; i++) {
      struct node *n = (struct node *)GC_MALLOC(sizeof *n);
      n->next = head;
      n->value = id * 100000 + i;
      head = n;
    }
    GC_gcollect();
    for (int i = 0; i < NODES * 10; i++) (void)GC_MALLOC(24);
    int i = NODES - 1;
    for (struct node *n = head; n; n = n->next, i--) bad += n->value != id * 100000 + i;
    bad += i != -1;
  }
  return (void *)(intptr_t)bad;
}

int main(void) {
  GC_INIT();
  pthread_t t[THREADS];
  for (intptr_t i = 0; i < THREADS; i++) CHECK_EQ(pthread_create(&t[i], 0, worker, (void *)i), 0);
  for (int round = 0; round < 20; round++) {
    GC_gcollect(); /* from main, while the others run */
    (void)GC_MALLOC(1000);
  }
  for (int i = 0; i < THREADS; i++) {
    void *bad = (void *)1;
    CHECK_EQ(pthread_join(t[i], &bad), 0);
    CHECK_EQ((intptr_t)bad, 0);
  }
  return CHECK_SUMMARY();
}
