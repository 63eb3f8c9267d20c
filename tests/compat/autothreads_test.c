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
int main(void) {
  GC_INIT();
  pthread_t t[THREADS];
  for (intptr_t i = 0; i < THREADS; i++) CHECK_EQ(pthread_create(&t[i], 0, compat_list_worker, (void *)i), 0);
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
