/* Unit test for gpu/sizeclass.h and gpu/bitmap.h, compiled as host C:
 * class boundaries of the small and medium classes for every size up to
 * 64 KiB, slot arithmetic (exhaustively, every offset of a bin), bitmap
 * claims from many threads never handing out a bit twice. */
#include "config.h"
#include "gpu/sizeclass.h"
#include "gpu/bitmap.h"
#include "check.h"

#include <pthread.h>
#include <string.h>

static void test_classes(void)
{
  uint32_t prev = 0;
  for (int c = 0; c < PARGC_GPU_NCLASSES; c++) {
    uint32_t s = pargc_gpu_class_size(c);
    CHECK(s > prev);
    CHECK_EQ(s % 16, 0);
    CHECK(pargc_gpu_class_slots(c) * s <= 1u << pargc_gpu_class_bin_shift(c));
    CHECK(pargc_gpu_class_slots(c) >= 2);
    CHECK(pargc_gpu_class_slots(c) <= 32 * PARGC_GPU_BIN_WORDS);
    prev = s;
  }
  CHECK_EQ(pargc_gpu_class_size(PARGC_GPU_NSMALL - 1), PARGC_GPU_SMALL_MAX);
  CHECK_EQ(pargc_gpu_class_size(PARGC_GPU_NCLASSES - 1), PARGC_GPU_MEDIUM_MAX);
  CHECK_EQ(pargc_gpu_class_size(11), 1024);
  CHECK_EQ(pargc_gpu_class_size(13), 3072);
  CHECK_EQ(pargc_gpu_class_bin_shift(12), PARGC_GPU_BIN_SHIFT);
  CHECK_EQ(pargc_gpu_class_bin_shift(13), PARGC_GPU_CHUNK_SHIFT);
  /* Every size maps to the smallest class that holds it. */
  int bad = 0;
  for (uint32_t size = 1; size <= PARGC_GPU_MEDIUM_MAX; size++) {
    int c = pargc_gpu_class_of(size);
    if (c < 0 || c >= PARGC_GPU_NCLASSES || pargc_gpu_class_size(c) < size ||
        (c > 0 && pargc_gpu_class_size(c - 1) >= size))
      bad++;
  }
  CHECK_EQ(bad, 0);
  CHECK_EQ(pargc_gpu_class_of(16), 0);
  CHECK_EQ(pargc_gpu_class_of(17), 1);
  CHECK_EQ(pargc_gpu_class_of(65), 4);
  CHECK_EQ(pargc_gpu_class_of(1025), 12);
  CHECK_EQ(pargc_gpu_class_of(2049), 13);
  CHECK_EQ(pargc_gpu_class_of(3073), 14);
  CHECK_EQ(pargc_gpu_class_of(65536), 22);
}

static void test_slot_division(void)
{
  int bad = 0;
  for (int c = 0; c < PARGC_GPU_NCLASSES; c++)
    for (uint32_t off = 0; off < 1u << pargc_gpu_class_bin_shift(c); off++)
      if (pargc_gpu_class_slot(c, off) != off / pargc_gpu_class_size(c))
        bad++;
  CHECK_EQ(bad, 0);
}

static void test_bits(void)
{
  CHECK_EQ(pargc_gpu_bits_lowest(0xF0F0u, 3), 0x70u);
  CHECK_EQ(pargc_gpu_bits_lowest(0xF0F0u, 5), 0x10F0u);
  CHECK_EQ(pargc_gpu_bits_lowest(0x5u, 32), 0x5u);
  CHECK_EQ(pargc_gpu_bits_lowest(0xFFFFFFFFu, 0), 0);
  CHECK_EQ(pargc_gpu_bits_nth(0x8421u, 0), 0);
  CHECK_EQ(pargc_gpu_bits_nth(0x8421u, 3), 15);

  uint32_t w[PARGC_GPU_BIN_WORDS];
  for (int c = 0; c < PARGC_GPU_NCLASSES; c++) {
    uint32_t slots = pargc_gpu_class_slots(c);
    pargc_gpu_bitmap_init(w, PARGC_GPU_BIN_WORDS, slots);
    CHECK_EQ(pargc_gpu_bitmap_used(w, PARGC_GPU_BIN_WORDS, slots), 0);
    uint32_t got = 0;
    for (int i = 0; i < PARGC_GPU_BIN_WORDS; i++)
      got += (uint32_t)__builtin_popcount(pargc_gpu_bitmap_claim(&w[i], 32));
    CHECK_EQ(got, slots);   /* exactly the usable slots, no tail bits */
    CHECK_EQ(pargc_gpu_bitmap_used(w, PARGC_GPU_BIN_WORDS, slots), slots);
    for (int i = 0; i < PARGC_GPU_BIN_WORDS; i++)
      CHECK_EQ(pargc_gpu_bitmap_claim(&w[i], 1), 0);
  }
}

/* Threads claim 1..8 bits at a time from a shared bitmap until it is
 * full, recording owners; then release; no bit may be handed out twice. */
#define NT 8
#define NWORDS 256
static uint32_t shared_words[NWORDS];
static int owner[NWORDS * 32];
static long claimed_total;

static void *claimer(void *arg)
{
  int id = (int)(long)arg + 1;
  unsigned seed = (unsigned)id * 2654435761u;
  for (int round = 0; round < 200; round++) {
    uint32_t mine[NWORDS] = {0};
    for (int i = 0; i < NWORDS; i++) {
      seed = seed * 1103515245u + 12345u;
      uint32_t got = pargc_gpu_bitmap_claim(&shared_words[(i + id * 31) % NWORDS],
                                            1 + (int)(seed >> 28) % 8);
      int wi = (i + id * 31) % NWORDS;
      for (uint32_t g = got; g; g &= g - 1) {
        int bit = wi * 32 + __builtin_ctz(g);
        if (__atomic_exchange_n(&owner[bit], id, __ATOMIC_SEQ_CST) != 0)
          CHECK(!"bit handed out twice");
      }
      mine[wi] |= got;
      __atomic_fetch_add(&claimed_total, __builtin_popcount(got), __ATOMIC_RELAXED);
    }
    for (int i = 0; i < NWORDS; i++) {
      for (uint32_t g = mine[i]; g; g &= g - 1)
        __atomic_store_n(&owner[i * 32 + __builtin_ctz(g)], 0, __ATOMIC_SEQ_CST);
      uint32_t old = pargc_gpu_bitmap_release(&shared_words[i], mine[i]);
      if ((old & mine[i]) != mine[i])
        CHECK(!"released a bit that was not set");
    }
  }
  return NULL;
}

static void test_bitmap_threads(void)
{
  pthread_t t[NT];
  for (long i = 0; i < NT; i++)
    pthread_create(&t[i], NULL, claimer, (void *)i);
  for (int i = 0; i < NT; i++)
    pthread_join(t[i], NULL);
  int left = 0;
  for (int i = 0; i < NWORDS; i++)
    left += shared_words[i] != 0;
  CHECK_EQ(left, 0);
  CHECK(claimed_total > 0);
}

int main(void)
{
  test_classes();
  test_slot_division();
  test_bits();
  test_bitmap_threads();
  return CHECK_SUMMARY();
}
