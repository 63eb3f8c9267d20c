/* Stress test for GC_suspend_thread (gc/stop.c): three threads build and
 * check lists that only their stacks reference, allocating small and
 * large objects and freeing some, while another thread collects every
 * few milliseconds and the main thread suspends and resumes them at
 * random -- often resuming and suspending the same thread back to back,
 * which once left a thread waiting in the handler for good -- and
 * suspends threads it has just created (not registered yet) or that have
 * just returned.  A suspended thread must make no progress, lists must
 * stay whole, and nothing may hang.  No timing is measured. */
#include "config.h"
#define GC_THREADS 1
#include <gc.h>
#include <gc/javaxfc.h>
#include "check.h"

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

enum { WORKERS = 3, NODES = 400, ROUNDS = 1500 };

struct node {
  struct node *next;
  intptr_t value;
};

static long stop_all, turns[WORKERS], broken;

static void *worker(void *arg)
{
  intptr_t id = (intptr_t)arg;
  while (!__atomic_load_n(&stop_all, __ATOMIC_ACQUIRE)) {
    struct node *head = NULL;
    for (int i = 0; i < NODES; i++) {
      struct node *n = GC_MALLOC(sizeof *n + (size_t)(i % 5) * 16);
      n->next = head;
      n->value = i;
      head = n;
      if (i % 64 == 0)
        GC_FREE(GC_MALLOC(100));
      if (i % 200 == 0)
        GC_FREE(GC_MALLOC(600000)); /* a large object */
    }
    intptr_t i = NODES - 1;
    for (struct node *n = head; n; n = n->next, i--)
      if (n->value != i)
        __atomic_fetch_add(&broken, 1, __ATOMIC_RELAXED);
    __atomic_fetch_add(&turns[id], 1, __ATOMIC_RELEASE);
  }
  return NULL;
}

static void *collector(void *arg)
{
  (void)arg;
  while (!__atomic_load_n(&stop_all, __ATOMIC_ACQUIRE)) {
    GC_gcollect();
    struct timespec ts = {0, 2 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  return NULL;
}

static void *short_lived(void *arg)
{
  void **keep = NULL;
  for (intptr_t i = 0; i < (intptr_t)arg; i++) {
    void **p = GC_MALLOC(32);
    p[0] = keep;
    keep = p;
  }
  return keep;
}

/* Suspend worker k, check it stands still across a little work of ours,
 * resume it. */
static void suspend_worker(pthread_t t, int k, unsigned *seed)
{
  GC_suspend_thread(t);
  CHECK(GC_is_thread_suspended(t));
  long before = __atomic_load_n(&turns[k], __ATOMIC_ACQUIRE);
  for (int j = 0; j < 3; j++)
    (void)GC_MALLOC(64);
  if (rand_r(seed) % 4 == 0)
    GC_gcollect();
  if (rand_r(seed) % 2) {
    struct timespec ts = {0, (rand_r(seed) % 500) * 1000L};
    nanosleep(&ts, NULL);
  }
  CHECK_EQ(__atomic_load_n(&turns[k], __ATOMIC_ACQUIRE), before);
  GC_resume_thread(t);
  CHECK(!GC_is_thread_suspended(t));
}

/* A thread suspended as soon as it exists, or once it may have returned. */
static void suspend_new_thread(unsigned *seed)
{
  pthread_t t;
  CHECK_EQ(pthread_create(&t, NULL, short_lived, (void *)(intptr_t)(rand_r(seed) % 2000)), 0);
  if (rand_r(seed) % 2) {
    struct timespec ts = {0, (rand_r(seed) % 300) * 1000L};
    nanosleep(&ts, NULL);
  }
  GC_suspend_thread(t);
  CHECK(GC_is_thread_suspended(t));
  GC_resume_thread(t);
  CHECK_EQ(pthread_join(t, NULL), 0);
}

int main(void)
{
  GC_INIT();
  pthread_t w[WORKERS], c;
  for (intptr_t i = 0; i < WORKERS; i++)
    CHECK_EQ(pthread_create(&w[i], NULL, worker, (void *)i), 0);
  CHECK_EQ(pthread_create(&c, NULL, collector, NULL), 0);
  unsigned seed = 12345;
  for (int r = 0; r < ROUNDS; r++) {
    int k = rand_r(&seed) % WORKERS;
    suspend_worker(w[k], k, &seed);
    if (r % 25 == 0)
      suspend_new_thread(&seed);
  }
  __atomic_store_n(&stop_all, 1, __ATOMIC_RELEASE);
  for (int i = 0; i < WORKERS; i++)
    CHECK_EQ(pthread_join(w[i], NULL), 0);
  CHECK_EQ(pthread_join(c, NULL), 0);
  CHECK_EQ(broken, 0);
  for (int i = 0; i < WORKERS; i++)
    CHECK(turns[i] > 0);
  return CHECK_SUMMARY();
}
