/* Unit test for gpu/sem.h, compiled as host C: threads play the part of
 * warp leaders on one bin list.  Each reserves n slots with the bulk
 * semaphore, refills the list (adds bins) when told to, claims its slots
 * from the bins' bitmaps, checks that nobody else owns them, and frees
 * them.  Checked: the semaphore invariant (no reservation ever fails to
 * find its slots), the final count equals the slots the refills added,
 * only refillers grow the list, with a bounded supply of bins
 * allocation fails only once every slot is taken, and counts beyond 2^32
 * do not spill into the other field. */
#include "config.h"
#include "gpu/sem.h"
#include "gpu/bitmap.h"
#include "gpu/sizeclass.h"
#include "check.h"

#include <pthread.h>
#include <string.h>

#define NT 8
#define MAXBINS 4096

typedef struct {
  uint32_t bits[PARGC_GPU_BIN_WORDS];
} bin;

static bin bins[MAXBINS];
static uint32_t nbins;        /* published bins (append-only list) */
static uint32_t bins_taken;   /* bins handed to refillers */
static uint32_t bin_limit;    /* supply of bins, for the exhaustion test */
static uint64_t sem;
static uint32_t slots_per_bin;
static int *owner;
static long refills, waits, failures;

/* The refill a REFILL result obliges us to do: k fresh bins.  Returns 0
 * when the supply is exhausted. */
static int refill(uint32_t k)
{
  uint32_t first = __atomic_fetch_add(&bins_taken, k, __ATOMIC_SEQ_CST);
  if (first + k > bin_limit) {
    __atomic_fetch_sub(&bins_taken, k, __ATOMIC_SEQ_CST);
    return 0;
  }
  for (uint32_t i = 0; i < k; i++)
    pargc_gpu_bitmap_init(bins[first + i].bits, PARGC_GPU_BIN_WORDS, slots_per_bin);
  /* Publish in order: the list is a prefix of bins[]. */
  while (__atomic_load_n(&nbins, __ATOMIC_SEQ_CST) != first)
    ;
  __atomic_store_n(&nbins, first + k, __ATOMIC_SEQ_CST);
  __atomic_fetch_add(&refills, 1, __ATOMIC_RELAXED);
  return 1;
}

/* Reserve and claim n slots into out[]; 0 on exhaustion. */
static int take(uint32_t n, uint32_t *out, int id)
{
  uint32_t k = (n + slots_per_bin - 1) / slots_per_bin;
  int r = pargc_gpu_sem_wait(&sem, n, k * slots_per_bin);
  if (r == PARGC_GPU_SEM_REFILL) {
    if (!refill(k)) {
      pargc_gpu_sem_abort(&sem, k * slots_per_bin);
      __atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
      return 0;
    }
    pargc_gpu_sem_refilled(&sem, k * slots_per_bin, n);
  } else {
    __atomic_fetch_add(&waits, 1, __ATOMIC_RELAXED);
  }
  /* We own n slots somewhere in the list: scan until we have them all. */
  uint32_t have = 0;
  long passes = 0;
  while (have < n) {
    uint32_t nb = __atomic_load_n(&nbins, __ATOMIC_SEQ_CST);
    for (uint32_t b = 0; b < nb && have < n; b++)
      for (int w = 0; w < PARGC_GPU_BIN_WORDS && have < n; w++) {
        uint32_t got = pargc_gpu_bitmap_claim(&bins[b].bits[w], (int)(n - have));
        for (; got; got &= got - 1)
          out[have++] = (b * PARGC_GPU_BIN_WORDS + (uint32_t)w) * 32 + (uint32_t)__builtin_ctz(got);
      }
    if (++passes > 100000000) {
      CHECK(!"a reservation never found its slots");
      return 0;
    }
  }
  for (uint32_t i = 0; i < n; i++)
    if (__atomic_exchange_n(&owner[out[i]], id, __ATOMIC_SEQ_CST) != 0)
      CHECK(!"slot handed out twice");
  return 1;
}

static void give(uint32_t n, const uint32_t *slot)
{
  for (uint32_t i = 0; i < n; i++) {
    __atomic_store_n(&owner[slot[i]], 0, __ATOMIC_SEQ_CST);
    uint32_t w = slot[i] / 32;
    pargc_gpu_bitmap_release(&bins[w / PARGC_GPU_BIN_WORDS].bits[w % PARGC_GPU_BIN_WORDS],
                             1u << (slot[i] % 32));
    pargc_gpu_fence();      /* bit clear before the count says so */
    pargc_gpu_sem_signal(&sem, 1);
  }
}

static void reset(int cls, uint32_t limit)
{
  memset(bins, 0, sizeof bins);
  nbins = bins_taken = 0;
  bin_limit = limit;
  sem = 0;
  refills = waits = failures = 0;
  slots_per_bin = pargc_gpu_class_slots(cls);
  free(owner);
  owner = calloc((size_t)MAXBINS * PARGC_GPU_BIN_WORDS * 32, sizeof *owner);
}

static void *churn(void *arg)
{
  int id = (int)(long)arg + 1;
  unsigned seed = (unsigned)id * 40503u;
  uint32_t held[16][32], heldn[16];
  int nheld = 0;
  for (int it = 0; it < 20000; it++) {
    seed = seed * 1103515245u + 12345u;
    if (nheld < 16 && (nheld == 0 || (seed >> 16) % 3 != 0)) {
      uint32_t n = 1 + (seed >> 8) % 32;   /* a coalesced group of 1..32 */
      if (take(n, held[nheld], id))
        heldn[nheld++] = n;
    } else {
      nheld--;
      give(heldn[nheld], held[nheld]);
    }
  }
  while (nheld > 0) {
    nheld--;
    give(heldn[nheld], held[nheld]);
  }
  return NULL;
}

static void test_churn(int cls)
{
  reset(cls, MAXBINS);
  pthread_t t[NT];
  for (long i = 0; i < NT; i++)
    pthread_create(&t[i], NULL, churn, (void *)i);
  for (int i = 0; i < NT; i++)
    pthread_join(t[i], NULL);
  CHECK_EQ(failures, 0);
  CHECK_EQ(pargc_gpu_sem_expected(sem), 0);
  /* Every slot the refills added is free and counted again. */
  CHECK_EQ(pargc_gpu_sem_count(sem), (uint64_t)nbins * slots_per_bin);
  uint32_t used = 0;
  for (uint32_t b = 0; b < nbins; b++)
    used += pargc_gpu_bitmap_used(bins[b].bits, PARGC_GPU_BIN_WORDS, slots_per_bin);
  CHECK_EQ(used, 0);
  /* Bulk reservation: far fewer refills than reservations. */
  CHECK(refills < waits);
  printf("class %u B: %ld reservations served from the count, %ld refills, %u bins\n",
         pargc_gpu_class_size(cls), waits, refills, nbins);
}

/* Exhaustion: single slots until NULL; a NULL may come only once every
 * slot of every bin in the supply is taken. */
static long exhaust_taken;
static void *grab(void *arg)
{
  int id = (int)(long)arg + 1;
  uint32_t s;
  long mine = 0;
  while (take(1, &s, id))
    mine++;
  __atomic_fetch_add(&exhaust_taken, mine, __ATOMIC_SEQ_CST);
  return NULL;
}

static void test_exhaustion(int cls, uint32_t limit)
{
  reset(cls, limit);
  exhaust_taken = 0;
  pthread_t t[NT];
  for (long i = 0; i < NT; i++)
    pthread_create(&t[i], NULL, grab, (void *)i);
  for (int i = 0; i < NT; i++)
    pthread_join(t[i], NULL);
  CHECK_EQ(exhaust_taken, (long)limit * slots_per_bin);
  CHECK_EQ(pargc_gpu_sem_count(sem), 0);
  CHECK_EQ(pargc_gpu_sem_expected(sem), 0);
  CHECK(failures >= NT);
}

/* A list with more than 2^32 free slots (64 GiB of 16 B slots, possible
 * on one SM's list of a 139 GiB pool) must count them all; the first
 * layout's 32-bit count carried into `expected` instead. */
static void test_wide(void)
{
  uint64_t s = 0;
  pargc_gpu_sem_signal(&s, 0xFFFFFFF0u);
  pargc_gpu_sem_signal(&s, 0x20u);
  CHECK(pargc_gpu_sem_count(s) == 0x100000010ull);
  CHECK_EQ(pargc_gpu_sem_expected(s), 0);
  CHECK_EQ(pargc_gpu_sem_wait(&s, 32, 256), PARGC_GPU_SEM_ACQUIRED);
  CHECK(pargc_gpu_sem_count(s) == 0xFFFFFFF0ull);
  CHECK_EQ(pargc_gpu_sem_expected(s), 0);
  CHECK(pargc_gpu_sem_try(&s, 0xFFFFFFF0u));
  CHECK_EQ(s, 0);
}

int main(void)
{
  test_wide();
  /* Encoding: refilled() moves a batch from expected to count. */
  uint64_t s = pargc_gpu_sem_make(5, 0);
  CHECK_EQ(pargc_gpu_sem_wait(&s, 3, 10), PARGC_GPU_SEM_ACQUIRED);
  CHECK_EQ(pargc_gpu_sem_count(s), 2);
  CHECK_EQ(pargc_gpu_sem_wait(&s, 4, 10), PARGC_GPU_SEM_REFILL);
  CHECK_EQ(pargc_gpu_sem_expected(s), 10);
  CHECK(!pargc_gpu_sem_try(&s, 3));
  pargc_gpu_sem_refilled(&s, 10, 4);
  CHECK_EQ(pargc_gpu_sem_count(s), 8);
  CHECK_EQ(pargc_gpu_sem_expected(s), 0);
  CHECK_EQ(pargc_gpu_sem_wait(&s, 9, 10), PARGC_GPU_SEM_REFILL);
  pargc_gpu_sem_abort(&s, 10);
  CHECK_EQ(s, pargc_gpu_sem_make(8, 0));
  CHECK(pargc_gpu_sem_try(&s, 8));
  CHECK_EQ(s, 0);

  test_churn(0);     /* 16 B: 256 slots per bin */
  test_churn(7);     /* 256 B: 16 slots */
  test_churn(12);    /* 2 KiB: 2 slots, groups need several bins */
  test_exhaustion(0, 40);
  test_exhaustion(12, 300);
  free(owner);
  return CHECK_SUMMARY();
}
