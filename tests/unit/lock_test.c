/* Unit tests for alloc/lock.h: mutual exclusion under contention, trylock,
 * the holder check, and that a release wakes every waiter (a waiter that
 * is woken and then never takes the lock must not keep the others
 * asleep; GC_suspend_thread's version of that is
 * tests/stress/suspend_handoff_test). */
#include "config.h"
#include "alloc/lock.h"
#include "alloc/os.h"
#include "check.h"

#include <pthread.h>
#include <stdint.h>
#include <time.h>

enum { THREADS = 4, ROUNDS = 200000 };

static pargc_lock_t lock = PARGC_LOCK_INIT;
static long counter; /* under lock, deliberately non-atomic */
static int inside;   /* threads inside the critical section */
static int overlaps;

static void *hammer(void *arg)
{
  (void)arg;
  for (int i = 0; i < ROUNDS; i++) {
    pargc_lock(&lock);
    if (__atomic_add_fetch(&inside, 1, __ATOMIC_RELAXED) != 1)
      __atomic_add_fetch(&overlaps, 1, __ATOMIC_RELAXED);
    counter++;
    __atomic_sub_fetch(&inside, 1, __ATOMIC_RELAXED);
    pargc_unlock(&lock);
  }
  return NULL;
}

static void *held_elsewhere(void *arg)
{
  return (void *)(intptr_t)pargc_lock_held(arg);
}

static void *try_elsewhere(void *arg)
{
  return (void *)(intptr_t)pargc_trylock(arg);
}

static int woken;

static void sleep_ms(long ms)
{
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Sleeps on the lock's word as a waiter does, and leaves once woken. */
static void *ghost(void *arg)
{
  pargc_lock_t *l = arg;
  if (__atomic_exchange_n(&l->word, 2, __ATOMIC_ACQUIRE) != 0)
    pargc_os_wait_while(&l->word, 2);
  return NULL;
}

static void *sleeper(void *arg)
{
  pargc_lock_t *l = arg;
  pargc_lock(l);
  __atomic_add_fetch(&woken, 1, __ATOMIC_RELAXED);
  pargc_unlock(l);
  return NULL;
}

int main(void)
{
  /* Exclusion. */
  pthread_t t[THREADS];
  for (int i = 0; i < THREADS; i++)
    CHECK_EQ(pthread_create(&t[i], NULL, hammer, NULL), 0);
  for (int i = 0; i < THREADS; i++)
    CHECK_EQ(pthread_join(t[i], NULL), 0);
  CHECK_EQ(counter, (long)THREADS * ROUNDS);
  CHECK_EQ(overlaps, 0);
  CHECK_EQ(__atomic_load_n(&lock.word, __ATOMIC_RELAXED), 0);

  /* trylock and the holder. */
  pargc_lock_t l = PARGC_LOCK_INIT;
  CHECK(!pargc_lock_held(&l));
  CHECK(pargc_trylock(&l));
  CHECK(pargc_lock_held(&l));
  CHECK(!pargc_trylock(&l)); /* not recursive */
  pthread_t o;
  void *r;
  CHECK_EQ(pthread_create(&o, NULL, held_elsewhere, &l), 0);
  CHECK_EQ(pthread_join(o, &r), 0);
  CHECK(r == NULL); /* held, but not by that thread */
  CHECK_EQ(pthread_create(&o, NULL, try_elsewhere, &l), 0);
  CHECK_EQ(pthread_join(o, &r), 0);
  CHECK(r == NULL);
  pargc_unlock(&l);
  CHECK(!pargc_lock_held(&l));

  /* A release wakes every waiter.  A "ghost" sleeps on the word as a
   * waiter does, first in the queue, but never takes the lock once woken
   * (as a thread GC_suspend_thread parks right after its wake-up).  With
   * a lock that woke one waiter, the release would wake only the ghost
   * and the three real waiters would sleep on the free lock. */
  pargc_lock(&l);
  pthread_t g;
  CHECK_EQ(pthread_create(&g, NULL, ghost, &l), 0);
  sleep_ms(50); /* the ghost asleep first */
  pthread_t s[3];
  for (int i = 0; i < 3; i++)
    CHECK_EQ(pthread_create(&s[i], NULL, sleeper, &l), 0);
  sleep_ms(50);
  pargc_unlock(&l);
  for (int waited = 0; __atomic_load_n(&woken, __ATOMIC_RELAXED) < 3 && waited < 20000; waited++)
    sleep_ms(1);
  CHECK_EQ(__atomic_load_n(&woken, __ATOMIC_RELAXED), 3);
  while (__atomic_load_n(&woken, __ATOMIC_RELAXED) < 3)
    pargc_lock_wake(&l); /* after a failure: let them finish */
  for (int i = 0; i < 3; i++)
    CHECK_EQ(pthread_join(s[i], NULL), 0);
  CHECK_EQ(pthread_join(g, NULL), 0);
  CHECK(!pargc_lock_held(&l));
  return CHECK_SUMMARY();
}
