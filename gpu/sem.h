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
 * State: one 64-bit word, expected in the low 24 bits and count, signed,
 * in the high 40:
 *   count    free slots in the list that nobody has reserved yet; below
 *            zero only for the few instructions a failed fast-path take
 *            needs to put its n back (see below);
 *   expected slots that refills in progress have promised to add.
 *
 * Widths.  count: a list's free slots are at most pool / 16 B, 2^33 for
 * the 139 GiB of an H200, far below 2^39; deficits of failed takes are at
 * most 32 per resident thread.  expected: a promise is one batch, at most
 * 256 slots (one 16 B bin), and only the leaders of one SM (at most 2048
 * threads) refill one list, so at most 2^19 < 2^24 are ever promised.
 * (The first layout had 32 bits each, and a list with more than 2^32
 * free 16 B slots, a 64 GiB pool on one SM's list, carried into expected.)
 *
 * Protocol (wait, for n slots, refilling by `batch` slots at a time):
 *   fast path: fetch-add -n to count; if the old count was >= n, done
 *              (ACQUIRED: one atomic); otherwise add n back and go on:
 *   count < 0              a failed take is undoing: spin
 *   count >= n             take n: CAS count -= n             -> ACQUIRED
 *   count + expected >= n  someone's refill covers us: spin
 *   otherwise              promise a refill: expected += batch -> REFILL
 * The REFILL caller then produces `batch` slots (one new bin) and calls
 * pargc_gpu_sem_refilled(batch, n), which moves the batch from expected to
 * count minus its own n; or, when no memory is left, pargc_gpu_sem_abort,
 * which withdraws the promise so that waiters re-decide.
 *
 * Why a failed fast-path take is harmless: it only subtracts when the
 * count is below its n, so it drives the count negative, and while the
 * count is negative no take succeeds (every take checks old count >= n);
 * a take that succeeds after slots were signalled meanwhile leaves the
 * count >= 0 once every failed take has added its n back.  Decisions of
 * the slow path (refill, give up) are never made on a negative count.
 *
 * Invariants (for the list's bitmaps, between operations):
 *   clear usable bits in the list's bins
 *       == count + slots reserved by callers that have not claimed yet;
 *   so a caller that holds a reservation always finds a clear bit by
 *   scanning the list (perhaps after a pass or two while others release).
 *   A reader scanning the list therefore never blocks on a writer: it
 *   already owns its slots.
 *
 * Orders: a take is an acquire and a signal (after the bits were cleared)
 * or a refill (after the bins were pushed) a release, so the bits and
 * bins that back a reservation are visible to the scan that follows it.
 */
#ifndef PARGC_GPU_SEM_H
#define PARGC_GPU_SEM_H

#include "gpu/atomics.h"

enum { PARGC_GPU_SEM_ACQUIRED = 0, PARGC_GPU_SEM_REFILL = 1, PARGC_GPU_SEM_FAILED = 2 };

#define PARGC_GPU_SEM_SHIFT 24
#define PARGC_GPU_SEM_EXPECTED ((1u << PARGC_GPU_SEM_SHIFT) - 1)

static inline PARGC_HD int64_t pargc_gpu_sem_count(uint64_t s)
{
  return (int64_t)s >> PARGC_GPU_SEM_SHIFT;    /* arithmetic shift: signed */
}
static inline PARGC_HD uint32_t pargc_gpu_sem_expected(uint64_t s)
{
  return (uint32_t)s & PARGC_GPU_SEM_EXPECTED;
}
static inline PARGC_HD uint64_t pargc_gpu_sem_make(int64_t count, uint32_t expected)
{
  return (uint64_t)count << PARGC_GPU_SEM_SHIFT | expected;
}
static inline PARGC_HD uint64_t pargc_gpu_sem_units(uint64_t n)
{
  return n << PARGC_GPU_SEM_SHIFT;
}

/* Reserve n slots; ACQUIRED or REFILL (the caller must then refill). */
static inline PARGC_HD int pargc_gpu_sem_wait(uint64_t *sem, uint32_t n, uint32_t batch)
{
  uint64_t s = pargc_gpu_add64(sem, (uint64_t)0 - pargc_gpu_sem_units(n), PARGC_GPU_ACQUIRE);
  if (pargc_gpu_sem_count(s) >= (int64_t)n)
    return PARGC_GPU_SEM_ACQUIRED;
  s = pargc_gpu_add64(sem, pargc_gpu_sem_units(n), PARGC_GPU_RELAXED) + pargc_gpu_sem_units(n);
  for (;;) {
    int64_t c = pargc_gpu_sem_count(s);
    uint32_t e = pargc_gpu_sem_expected(s);
    uint64_t want;
    int result;
    if (c < 0 || (c < (int64_t)n && c + e >= (int64_t)n)) {
      pargc_gpu_relax();
      s = pargc_gpu_load64(sem);
      continue;
    }
    if (c >= (int64_t)n) {
      want = s - pargc_gpu_sem_units(n);
      result = PARGC_GPU_SEM_ACQUIRED;
    } else {
      want = s + batch;
      result = PARGC_GPU_SEM_REFILL;
    }
    uint64_t old = pargc_gpu_cas64(sem, s, want, PARGC_GPU_ACQUIRE);
    if (old == s)
      return result;
    s = old;
  }
}

/* Reserve n slots only if they are there now; never refills.  Waits only
 * while the count is negative (a failed take undoing, a few instructions),
 * so a 0 means the count really was below n.  Used to take slots from
 * other arenas on the exhaustion path and to take a whole empty bin out
 * of circulation. */
static inline PARGC_HD int pargc_gpu_sem_try(uint64_t *sem, uint32_t n)
{
  uint64_t s = pargc_gpu_load64(sem);
  for (;;) {
    int64_t c = pargc_gpu_sem_count(s);
    if (c < 0) {
      pargc_gpu_relax();
      s = pargc_gpu_load64(sem);
      continue;
    }
    if (c < (int64_t)n)
      return 0;
    uint64_t old = pargc_gpu_cas64(sem, s, s - pargc_gpu_sem_units(n), PARGC_GPU_ACQUIRE);
    if (old == s)
      return 1;
    s = old;
  }
}

/* n slots became free (their bits are already clear). */
static inline PARGC_HD void pargc_gpu_sem_signal(uint64_t *sem, uint64_t n)
{
  pargc_gpu_add64(sem, pargc_gpu_sem_units(n), PARGC_GPU_RELEASE);
}

/* The promised batch exists now; keep `mine` of it for the refiller. */
static inline PARGC_HD void pargc_gpu_sem_refilled(uint64_t *sem, uint32_t batch, uint32_t mine)
{
  /* One add: expected -= batch (no borrow: expected >= batch), count +=
   * batch - mine. */
  pargc_gpu_add64(sem, pargc_gpu_sem_units(batch - mine) - batch, PARGC_GPU_RELEASE);
}

/* The promised batch will not come (no memory): withdraw the promise. */
static inline PARGC_HD void pargc_gpu_sem_abort(uint64_t *sem, uint32_t batch)
{
  pargc_gpu_add64(sem, (uint64_t)0 - batch, PARGC_GPU_RELAXED);
}

#endif
