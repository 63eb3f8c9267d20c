/* gpu/sem.h -- the bulk semaphore that accounts for the free slots of one
 * bin list.
 *
 * Job: let a whole coalesced group reserve n slots with one atomic
 * operation, and make exactly one thread responsible for refilling the
 * list when the slots run out, while the others wait for that refill
 * instead of refilling too.  This is the "bulk semaphore" of Gelado &
 * Garland (PPoPP 2019, sec. 4.2); the encoding and the exact protocol
 * below are ours.
 *
 * State: one 64-bit word, count in the low half and expected in the high:
 *   count    free slots in the list that nobody has reserved yet;
 *   expected slots that refills in progress have promised to add.
 *
 * Protocol (wait, for n slots, refilling by `batch` slots at a time):
 *   count >= n             take n: count -= n                 -> ACQUIRED
 *   count + expected >= n  someone's refill covers us: spin
 *   otherwise              promise a refill: expected += batch -> REFILL
 * The REFILL caller then produces `batch` slots (one new bin) and calls
 * pargc_gpu_sem_refilled(batch, n), which moves the batch from expected to
 * count minus its own n; or, when no memory is left, pargc_gpu_sem_abort,
 * which withdraws the promise so that waiters re-decide.
 *
 * Invariants (for the list's bitmaps, between operations):
 *   clear usable bits in the list's bins
 *       == count + slots reserved by callers that have not claimed yet;
 *   so a caller that holds a reservation always finds a clear bit by
 *   scanning the list (perhaps after a pass or two while others release),
 *   and count never goes negative.  A reader scanning the list therefore
 *   never blocks on a writer: it already owns its slots.
 *
 * Releasing a slot: clear its bit first, then pargc_gpu_sem_signal(1)
 * (with a fence in between), so the invariant holds at every instant.
 */
#ifndef PARGC_GPU_SEM_H
#define PARGC_GPU_SEM_H

#include "gpu/atomics.h"

enum { PARGC_GPU_SEM_ACQUIRED = 0, PARGC_GPU_SEM_REFILL = 1, PARGC_GPU_SEM_FAILED = 2 };

static inline PARGC_HD uint32_t pargc_gpu_sem_count(uint64_t s) { return (uint32_t)s; }
static inline PARGC_HD uint32_t pargc_gpu_sem_expected(uint64_t s) { return (uint32_t)(s >> 32); }
static inline PARGC_HD uint64_t pargc_gpu_sem_make(uint32_t count, uint32_t expected)
{
  return (uint64_t)expected << 32 | count;
}

/* Reserve n slots; ACQUIRED or REFILL (the caller must then refill). */
static inline PARGC_HD int pargc_gpu_sem_wait(uint64_t *sem, uint32_t n, uint32_t batch)
{
  uint64_t s = pargc_gpu_load64(sem);
  for (;;) {
    uint32_t c = pargc_gpu_sem_count(s), e = pargc_gpu_sem_expected(s);
    uint64_t want;
    int result;
    if (c >= n) {
      want = pargc_gpu_sem_make(c - n, e);
      result = PARGC_GPU_SEM_ACQUIRED;
    } else if ((uint64_t)c + e >= n) {
      pargc_gpu_relax();
      s = pargc_gpu_load64(sem);
      continue;
    } else {
      want = pargc_gpu_sem_make(c, e + batch);
      result = PARGC_GPU_SEM_REFILL;
    }
    uint64_t old = pargc_gpu_cas64(sem, s, want);
    if (old == s)
      return result;
    s = old;
  }
}

/* Reserve n slots only if they are there now; never refills, never waits.
 * Used to take slots from other arenas on the exhaustion path and to take
 * a whole empty bin out of circulation. */
static inline PARGC_HD int pargc_gpu_sem_try(uint64_t *sem, uint32_t n)
{
  uint64_t s = pargc_gpu_load64(sem);
  for (;;) {
    uint32_t c = pargc_gpu_sem_count(s);
    if (c < n)
      return 0;
    uint64_t old = pargc_gpu_cas64(sem, s, s - n);
    if (old == s)
      return 1;
    s = old;
  }
}

/* n slots became free (their bits are already clear). */
static inline PARGC_HD void pargc_gpu_sem_signal(uint64_t *sem, uint32_t n)
{
  pargc_gpu_add64(sem, n);
}

/* The promised batch exists now; keep `mine` of it for the refiller. */
static inline PARGC_HD void pargc_gpu_sem_refilled(uint64_t *sem, uint32_t batch, uint32_t mine)
{
  /* One add: expected -= batch, count += batch - mine.  The borrow from
   * the low half cannot happen because batch >= mine. */
  pargc_gpu_add64(sem, (uint64_t)(batch - mine) - ((uint64_t)batch << 32));
}

/* The promised batch will not come (no memory): withdraw the promise. */
static inline PARGC_HD void pargc_gpu_sem_abort(uint64_t *sem, uint32_t batch)
{
  pargc_gpu_add64(sem, (uint64_t)0 - ((uint64_t)batch << 32));
}

#endif
