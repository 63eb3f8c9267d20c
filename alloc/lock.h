/* lock.h: the allocator's and the collector's mutual-exclusion lock.
 *
 * A futex word: 0 free, 1 held, 2 held and perhaps waited for.  What it
 * does that a pthread mutex does not: releasing a lock that was waited
 * for wakes every waiter, not one.
 *
 * Why.  A lock that wakes one waiter hands that waiter the duty of
 * waking the next: once it has the lock, its own release does.  Until
 * then a thread that finds the lock free takes it (locks barge) and, the
 * word not showing waiters any more, releases it without waking anyone.
 * GC_suspend_thread parks a thread wherever its signal finds it,
 * including just after such a wake-up: the other waiters then sleep on a
 * free lock until the parked thread is resumed -- for good if the
 * program waits for one of them, the concurrent collector thread say,
 * before resuming it (tests/stress/suspend_handoff_test).  Waking every
 * waiter leaves no duty to anyone: whoever sleeps on the word sleeps on
 * a lock held by a thread that will release it and wake them all.  The
 * collector's locks are seldom contended, so the wake-ups it costs are
 * few.
 *
 * The slow path waits with a futex (alloc/os.h), which is not a
 * cancellation point; the lock is not recursive.  `owner` serves the
 * assertion that the caller holds it (pargc_assert_held). */
#ifndef PARGC_ALLOC_LOCK_H
#define PARGC_ALLOC_LOCK_H
#ifndef PARGC_BUILDING
#error "alloc/lock.h is internal to pargc"
#endif

#include <stdbool.h>
#include <stddef.h>

typedef struct pargc_lock {
  int word;
  const void *owner; /* the holder's pargc_lock_self(), NULL when free */
} pargc_lock_t;

#define PARGC_LOCK_INIT {0, NULL}

/* The slow paths (alloc/lock.c). */
void pargc_lock_wait(pargc_lock_t *l);
void pargc_lock_wake(pargc_lock_t *l);

/* A per-thread address that names the calling thread. */
extern __thread char pargc_lock_tls __attribute__((tls_model("initial-exec")));
static inline const void *pargc_lock_self(void) { return &pargc_lock_tls; }

static inline void pargc_lock_init(pargc_lock_t *l)
{
  __atomic_store_n(&l->word, 0, __ATOMIC_RELAXED);
  __atomic_store_n(&l->owner, NULL, __ATOMIC_RELAXED);
}

static inline bool pargc_trylock(pargc_lock_t *l)
{
  int free = 0;
  if (!__atomic_compare_exchange_n(&l->word, &free, 1, false, __ATOMIC_ACQUIRE,
                                   __ATOMIC_RELAXED))
    return false;
  __atomic_store_n(&l->owner, pargc_lock_self(), __ATOMIC_RELAXED);
  return true;
}

static inline void pargc_lock(pargc_lock_t *l)
{
  if (!pargc_trylock(l)) {
    pargc_lock_wait(l);
    __atomic_store_n(&l->owner, pargc_lock_self(), __ATOMIC_RELAXED);
  }
}

static inline void pargc_unlock(pargc_lock_t *l)
{
  __atomic_store_n(&l->owner, NULL, __ATOMIC_RELAXED);
  if (__atomic_exchange_n(&l->word, 0, __ATOMIC_RELEASE) == 2)
    pargc_lock_wake(l);
}

static inline bool pargc_lock_held(const pargc_lock_t *l)
{
  /* Relaxed loads: only the holder itself can find its own name here. */
  return __atomic_load_n(&l->word, __ATOMIC_RELAXED) != 0 &&
         __atomic_load_n(&l->owner, __ATOMIC_RELAXED) == pargc_lock_self();
}

#endif
