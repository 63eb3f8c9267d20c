/* gpu/sizeclass.h -- size classes of the device heap's bin objects.
 *
 * Job: map a request size to a class, a class to its slot size, its bin
 * size and number of slots per bin, and turn an offset inside a bin into a
 * slot index.  Host and device share this code.
 *
 * Small classes (13), in 4 KiB bins cut from 512 KiB chunks:
 *   16 32 48 64 | 96 128 192 256 384 512 768 1024 | 2048 bytes.
 * Up to 64 B they step by 16; from 64 B to 1 KiB they step by 1.5x / 2x
 * (at most 33% internal waste, 4 classes per doubling would have doubled
 * the number of bin lists for little gain); 2048 is the last small class
 * because a 4 KiB bin must hold at least two slots.
 * Medium classes (10), one bin per 512 KiB chunk:
 *   3072 4096 6144 8192 12288 16384 24576 32768 49152 65536 bytes,
 * the same 1.5x / 2x steps, so that objects up to 64 KiB stay off the
 * buddy tree (gpu/buddy.h), where they would cost a tree search each and
 * up to 50% rounding to a power of two.  Anything larger goes to the tree.
 *
 * Invariants:
 *  - every slot size is a multiple of 16, so every object is 16-aligned
 *    (what CUDA's malloc guarantees);
 *  - slots(c) * size(c) <= bin size and 2 <= slots(c) <= 256, so a bin's
 *    occupancy fits PARGC_GPU_BIN_WORDS 32-bit bitmap words;
 *  - pargc_gpu_class_slot(c, off) == off / size(c) for every off in the
 *    bin (checked exhaustively by gpu_sizeclass_test): a multiply for the
 *    small classes, a division for the medium ones (rare, and the 32-bit
 *    magic is not exact over 512 KiB).
 */
#ifndef PARGC_GPU_SIZECLASS_H
#define PARGC_GPU_SIZECLASS_H

#include "gpu/atomics.h"

#define PARGC_GPU_BIN_SHIFT 12                       /* 4 KiB bins */
#define PARGC_GPU_BIN_SIZE (1u << PARGC_GPU_BIN_SHIFT)
#define PARGC_GPU_CHUNK_SHIFT 19                     /* 512 KiB chunks */
#define PARGC_GPU_CHUNK_SIZE (1u << PARGC_GPU_CHUNK_SHIFT)
#define PARGC_GPU_BINS_PER_CHUNK (1u << (PARGC_GPU_CHUNK_SHIFT - PARGC_GPU_BIN_SHIFT))
#define PARGC_GPU_BIN_WORDS 8                        /* 256 slots of 16 B */
#define PARGC_GPU_NSMALL 13                          /* classes in 4 KiB bins */
#define PARGC_GPU_NCLASSES 23                        /* and in 512 KiB bins */
#define PARGC_GPU_SMALL_MAX 2048u
#define PARGC_GPU_MEDIUM_MAX 65536u

/* Class of a request of `size` bytes, 1 <= size <= PARGC_GPU_MEDIUM_MAX
 * (callers map 0 to 1).  Pure arithmetic, no table: a table in constant
 * memory is serialised when the lanes of a warp ask for different sizes. */
static inline PARGC_HD int pargc_gpu_class_of(uint32_t size)
{
  if (size <= 64)
    return (int)((size + 15) >> 4) - 1;
  int b = pargc_gpu_log2_64(size - 1);      /* 2^b < size <= 2^(b+1) */
  int up = size > (3u << (b - 1));          /* above 1.5 * 2^b? */
  if (size <= 1024)
    return 4 + 2 * (b - 6) + up;            /* b = 6..9 */
  if (size <= PARGC_GPU_SMALL_MAX)
    return 12;
  return PARGC_GPU_NSMALL + 2 * (b - 11) + up;   /* b = 11..15 */
}

static inline PARGC_HD uint32_t pargc_gpu_class_size(int c)
{
  if (c < 4)
    return 16u * (uint32_t)(c + 1);
  if (c == 12)
    return 2048u;
  if (c >= PARGC_GPU_NSMALL) {
    int m = c - PARGC_GPU_NSMALL, b = 11 + m / 2;
    return (m & 1) ? 2u << b : 3u << (b - 1);
  }
  return (c & 1) ? 1u << (7 + (c - 5) / 2) : 3u << (5 + (c - 4) / 2);
}

/* log2 of the bin size of class c: a 4 KiB bin or a whole chunk. */
static inline PARGC_HD uint32_t pargc_gpu_class_bin_shift(int c)
{
  return c < PARGC_GPU_NSMALL ? PARGC_GPU_BIN_SHIFT : PARGC_GPU_CHUNK_SHIFT;
}

static inline PARGC_HD uint32_t pargc_gpu_class_slots(int c)
{
  return (1u << pargc_gpu_class_bin_shift(c)) / pargc_gpu_class_size(c);
}

/* ceil(2^32 / size): offset * magic >> 32 is the exact quotient for every
 * offset below 2^32 / (magic * size - 2^32), far above the 4 KiB that the
 * small classes need. */
static inline PARGC_HD uint32_t pargc_gpu_class_magic(int c)
{
  uint32_t s = pargc_gpu_class_size(c);
  return (uint32_t)((((uint64_t)1 << 32) + s - 1) / s);
}

static inline PARGC_HD uint32_t pargc_gpu_class_slot_magic(uint32_t magic, uint32_t off)
{
  return (uint32_t)(((uint64_t)off * magic) >> 32);
}

/* Slot of offset off in a bin of class c. */
static inline PARGC_HD uint32_t pargc_gpu_class_slot(int c, uint32_t off)
{
  if (c >= PARGC_GPU_NSMALL)
    return off / pargc_gpu_class_size(c);
  return pargc_gpu_class_slot_magic(pargc_gpu_class_magic(c), off);
}

#endif
