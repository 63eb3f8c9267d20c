/* gpu/heap.h -- private layout of the device heap (never installed).
 *
 * Job: the structures pargc_dev_malloc and pargc_dev_free work on, and the
 * few functions gpu/host.cu needs from gpu/device.cu.  Plain C, so that
 * the CPU test of gpu/bins.h can build a heap in host memory.
 *
 * Layout.  One pool from cudaMalloc, managed by the buddy tree
 * (gpu/buddy.h) in 4 KiB leaves.  Small objects (<= 2 KiB, 13 classes,
 * gpu/sizeclass.h) live in 4 KiB bins; bins are cut from 512 KiB chunks,
 * which are buddy blocks.  Medium objects (<= 64 KiB, 10 classes) live in
 * bins that are a whole chunk each.  All metadata lives outside the pool,
 * in arrays indexed by address: bin descriptor i describes bytes [4 KiB
 * i, 4 KiB (i+1)) (a medium bin uses the descriptor of its chunk's first
 * 4 KiB), chunk descriptor j bytes [512 KiB j, 512 KiB (j+1)).  So every
 * byte of a bin is a slot (no header), and free() finds everything from
 * the address alone: the chunk descriptor says large, small or medium,
 * the bin descriptor gives the class, the offset gives the slot.
 *
 * Arenas.  One per SM (Gelado & Garland's per-SM arenas): arena a owns
 * the bin lists lists[a * NCLASSES + c] and a current chunk.  Threads use
 * the arena of the SM they run on, so a list is shared only by the warps
 * of one SM; frees go to the list the bin belongs to, from any SM.
 *
 * Invariants:
 *  - chunk state: USED counts bins taken from the chunk plus transient
 *    claims (a medium chunk counts its one bin); CURRENT while some arena
 *    carves from it; RETIRED while the 512 KiB are not a bin chunk (free
 *    buddy memory, large objects, or never used).  `medium` says which
 *    kind of bin chunk it is; it is read only while the chunk is not
 *    RETIRED, and a medium chunk's bin bitmap is full, so that nobody
 *    carves 4 KiB bins out of it.  A chunk is retired (and its block freed to the buddy
 *    tree) only by the CAS from {USED 0, not CURRENT} to RETIRED, so a
 *    retired chunk has no bins and nobody is carving it.
 *  - a bin is on at most one list; bins[i].list and .cls do not change
 *    while the bin is on its list or in that list's grace period.
 *  - the list's bulk semaphore (gpu/sem.h) counts the clear bits of its
 *    bins that nobody has reserved.
 *  - chunk_index: every bin chunk with a free 4 KiB bin has its bit set
 *    (set when an arena fetches the chunk and when a bin is given back;
 *    cleared only by a search that then looks at the chunk again).
 *  - RCU (an SRCU-like pair of reader counts per list, as Gelado & Garland
 *    suggest to save registers): a bin unlinked from a list goes to the
 *    list's limbo; the next remover flips the list's epoch and moves limbo
 *    to pending; pending bins go back to their chunk once the readers of
 *    the old epoch are gone.  Readers never wait for writers; removers use
 *    a try-lock and skip their work rather than wait.
 */
#ifndef PARGC_GPU_HEAP_H
#define PARGC_GPU_HEAP_H

#include "gpu/atomics.h"
#include "gpu/bitmap.h"
#include "gpu/buddy.h"
#include "gpu/sem.h"
#include "gpu/sizeclass.h"

/* Chunk state word.  USED has 30 bits: it counts at most 128 bins plus
 * one transient claim per thread inside pargc_gpu_chunk_take, at most the
 * resident threads of the device (2048 per SM x 132 SMs on an H200, about
 * 2^18), so it cannot carry into CURRENT.  (It had 16 bits once, and 65 536
 * simultaneous takers would have turned a chunk RETIRED.) */
#define PARGC_GPU_CHUNK_USED 0x3FFFFFFFu
#define PARGC_GPU_CHUNK_CURRENT (1u << 30)
#define PARGC_GPU_CHUNK_RETIRED (1u << 31)
#define PARGC_GPU_NONE 0xFFFFFFFFu

/* A 4 KiB bin's descriptor. 64 bytes: one per 4 KiB costs 1.6% of the pool. */
typedef struct pargc_gpu_bin {
  uint32_t bits[PARGC_GPU_BIN_WORDS]; /* slot occupancy (gpu/bitmap.h) */
  uint32_t next;        /* next bin on the list, index + 1; 0 ends it */
  uint32_t retire_next; /* next bin in limbo/pending, index + 1 */
  uint32_t cls;         /* size class */
  uint32_t list;        /* index of its list in lists[] */
  uint32_t linked;      /* 1 while on the list (changed under the list lock) */
  uint32_t magic;       /* pargc_gpu_class_magic(cls): slot = off * magic >> 32 */
  uint32_t pad[2];
} pargc_gpu_bin;

/* A 512 KiB chunk's descriptor. */
typedef struct pargc_gpu_chunk {
  uint32_t state;       /* USED | CURRENT | RETIRED, see above */
  uint32_t bins[PARGC_GPU_BINS_PER_CHUNK / 32]; /* bins taken */
  uint32_t medium;      /* 1: one medium bin, 0: 4 KiB bins */
  uint32_t pad[2];
} pargc_gpu_chunk;

/* A bin list: one per arena and class, 64 bytes so lists do not share
 * cache lines. */
typedef struct pargc_gpu_binlist {
  uint64_t sem;         /* bulk semaphore over the list's free slots */
  uint32_t head;        /* first bin, index + 1 */
  uint32_t epoch;       /* RCU epoch; readers count in readers[epoch & 1] */
  uint32_t readers[2];
  uint32_t lock;        /* removers' try-lock */
  uint32_t limbo;       /* unlinked bins, awaiting an epoch flip */
  uint32_t pending;     /* unlinked bins, awaiting readers[pending_parity] == 0 */
  uint32_t pending_parity;
  uint32_t pad[6];
} pargc_gpu_binlist;

/* Everything device code needs, in constant memory (every thread reads
 * the same fields: the constant cache broadcasts them). */
typedef struct pargc_gpu_devheap {
  char *base;
  uint64_t size;
  pargc_gpu_buddy buddy;
  pargc_gpu_bin *bins;
  pargc_gpu_chunk *chunks;
  pargc_gpu_binlist *lists;   /* narenas * PARGC_GPU_NCLASSES */
  uint32_t *current;          /* per arena: current chunk, index + 1; the top
                                 bit while one thread fetches the next */
  uint32_t *chunk_index;      /* a bit per chunk that may have a free 4 KiB bin */
  uint64_t *counters;         /* PARGC_GPU_COUNTERS */
  uint32_t *sync;             /* PARGC_GPU_SYNC_WORDS: reclaim lock, generation, result */
  uint32_t narenas;
  uint32_t nchunks;
  uint32_t chunk_depth;       /* buddy depth of a 512 KiB block */
} pargc_gpu_devheap;

/* Event counters the host reads (pargc_gpu_heap_stats): NULL returns, and
 * frees of pointers that are not live objects of the heap (outside the
 * pool, not the start of a slot or block, already free), which are
 * counted and otherwise ignored. */
enum { PARGC_GPU_COUNT_NULL = 0, PARGC_GPU_COUNT_BAD_FREE = 1, PARGC_GPU_COUNTERS = 4 };

/* sync[]: [0] the reclaim lock, [1] the reclaim generation, [2] what the
 * last reclaim sweep gave back (bins and chunks). */
#define PARGC_GPU_SYNC_WORDS 4

/* gpu/device.cu */
int pargc_gpu_device_set_heap(const pargc_gpu_devheap *h);
int pargc_gpu_device_trim(uint32_t nlists, uint32_t narenas, uint32_t nchunks);

#endif
