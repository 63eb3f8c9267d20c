/* gpu/device.cu -- pargc_dev_malloc and pargc_dev_free, and the device
 * half of trimming.  Layout and invariants: gpu/heap.h.
 *
 * Fast path of a small allocation, per coalesced group of lanes asking for
 * the same class on the same SM (found with __match_any_sync among the
 * lanes that are actually active -- no full-warp assumption):
 *   1 atomicCAS on the list's bulk semaphore (the leader reserves n slots),
 *   2 atomics for the RCU read section (leader),
 *   1 atomicOr per bitmap word that serves the group (up to 32 lanes),
 * i.e. about 4 atomics for a whole warp instead of one lock per thread.
 * Only when the semaphore says the list is short does the leader refill:
 * a bin from the arena's current chunk, a chunk from the buddy tree.
 * A free is one atomicAnd per bitmap word touched by the group and one
 * atomicAdd per list, plus an emptiness test that rarely takes a lock.
 */
#include "pargc_gpu.h"
#include "gpu/heap.h"

__constant__ pargc_gpu_devheap pargc_gpu_device_heap;
#define HEAP pargc_gpu_device_heap
#define PARGC_GPU_HEAP pargc_gpu_device_heap
#define PARGC_GPU_FN static __device__
#include "gpu/bins.h"

static __device__ __forceinline__ uint32_t lane_id(void)
{
  uint32_t r;
  asm volatile("mov.u32 %0, %%laneid;" : "=r"(r));
  return r;
}

static __device__ __forceinline__ uint32_t lanemask_lt(void)
{
  uint32_t r;
  asm volatile("mov.u32 %0, %%lanemask_lt;" : "=r"(r));
  return r;
}

static __device__ __forceinline__ uint32_t sm_id(void)
{
  uint32_t r;
  asm volatile("mov.u32 %0, %%smid;" : "=r"(r));
  return r;
}

/* OR of `v` over the lanes of `grp` (all of which call this). */
static __device__ __forceinline__ uint32_t group_or(uint32_t grp, uint32_t v)
{
#if __CUDA_ARCH__ >= 800
  return __reduce_or_sync(grp, v);
#else
  uint32_t r = 0;
  for (uint32_t m = grp; m; m &= m - 1)
    r |= __shfl_sync(grp, v, __ffs(m) - 1);
  return r;
#endif
}

/* ---- small objects ---------------------------------------------------- */

/* The lanes of `peers` hold one reservation each on list li: the leader
 * walks the list inside an RCU read section, claims up to popc(pending)
 * bits per atomicOr, and hands them out in lane order. */
static __device__ void *claim_group(uint32_t li, uint32_t cls, uint32_t peers, uint32_t leader,
                                    uint32_t lane)
{
  pargc_gpu_binlist *L = &HEAP.lists[li];
  uint32_t size = pargc_gpu_class_size((int)cls);
  uint32_t pending = peers, parity = 0, cur = 0;
  void *mine = NULL;
  if (lane == leader)
    parity = pargc_gpu_rcu_enter(L);
  while (pending) {
    uint32_t got = 0, gb = 0, gw = 0;
    if (lane == leader)
      got = pargc_gpu_bins_scan(li, cls, __popc(pending), &cur, &gb, &gw);
    got = __shfl_sync(peers, got, leader);
    gb = __shfl_sync(peers, gb, leader);
    gw = __shfl_sync(peers, gw, leader);
    int k = __popc(got);
    int before = __popc(pending & lanemask_lt());
    if (((pending >> lane) & 1) && before < k) {
      uint32_t slot = gw * 32 + (uint32_t)pargc_gpu_bits_nth(got, before);
      mine = HEAP.base + ((uint64_t)gb << PARGC_GPU_BIN_SHIFT) + slot * size;
    }
    pending &= ~pargc_gpu_bits_lowest(pending, k);
  }
  if (lane == leader)
    pargc_gpu_rcu_exit(L, parity);
  return mine;
}

static __device__ void count_null(void)
{
  atomicAdd(&HEAP.counters[PARGC_GPU_COUNT_NULL], 1ull);
}

/* Exhaustion path, one lane at a time: a slot from any arena's list. */
static __device__ __noinline__ void *small_steal(uint32_t cls, uint32_t a0, uint32_t lane)
{
  for (uint32_t i = 0; i < HEAP.narenas; i++) {
    uint32_t li = ((a0 + i) % HEAP.narenas) * PARGC_GPU_NCLASSES + cls;
    if (pargc_gpu_sem_try(&HEAP.lists[li].sem, 1))
      return claim_group(li, cls, 1u << lane, lane, lane);
  }
  count_null();
  return NULL;
}

static __device__ void *small_alloc(uint32_t cls)
{
  uint32_t lane = lane_id();
  uint32_t active = __activemask();
  uint32_t peers = __match_any_sync(active, cls);
  uint32_t leader = (uint32_t)__ffs((int)peers) - 1;
  uint32_t a = sm_id() % HEAP.narenas;
  uint32_t li = a * PARGC_GPU_NCLASSES + cls;
  int ok = 0;
  if (lane == leader)
    ok = pargc_gpu_bins_reserve(a, li, cls, (uint32_t)__popc(peers));
  ok = __shfl_sync(peers, ok, leader);
  if (ok)
    return claim_group(li, cls, peers, leader, lane);
  return small_steal(cls, a, lane);
}

static __device__ void small_free(uint64_t off)
{
  uint32_t b = (uint32_t)(off >> PARGC_GPU_BIN_SHIFT);
  pargc_gpu_bin *bin = &HEAP.bins[b];
  /* Volatile loads: the bin may have served another class before, and a
   * stale L1 line on this SM would still say so. */
  uint32_t li = pargc_gpu_load32(&bin->list);
  uint32_t slot = pargc_gpu_class_slot_magic(pargc_gpu_load32(&bin->magic),
                                             (uint32_t)off & (PARGC_GPU_BIN_SIZE - 1));
  uint32_t w = slot / 32, bit = 1u << (slot % 32);
  uint32_t lane = lane_id(), active = __activemask();
  /* Lanes freeing into the same bitmap word release together. */
  uint32_t grp = __match_any_sync(active, b * PARGC_GPU_BIN_WORDS + w);
  uint32_t bits = group_or(grp, bit);
  uint32_t old = 0;
  int wleader = lane == (uint32_t)__ffs((int)grp) - 1;
  if (wleader)
    old = pargc_gpu_bitmap_release(&bin->bits[w], bits);
  __syncwarp(active);
  /* Bits clear before the semaphore counts them (gpu/sem.h). */
  uint32_t lgrp = __match_any_sync(active, li);
  if (lane == (uint32_t)__ffs((int)lgrp) - 1) {
    pargc_gpu_fence();
    pargc_gpu_sem_signal(&HEAP.lists[li].sem, (uint32_t)__popc(lgrp));
  }
  if (wleader)
    pargc_gpu_bins_freed(li, b, w, bits, old);
}

/* ---- large objects ---------------------------------------------------- */

static __device__ __noinline__ void *large_alloc(size_t size)
{
  int depth = pargc_gpu_buddy_depth_for(&HEAP.buddy, size);
  if (depth >= 0) {
    /* Spread the SMs over 16 regions of the tree to cut contention on
     * the top nodes; chunks use plain first fit (hint 0). */
    uint32_t hint = (sm_id() * 0x9E3779B9u) & 0xF0000000u;
    uint64_t n = pargc_gpu_buddy_alloc(&HEAP.buddy, (uint32_t)depth, hint);
    if (!n) {
      /* Empty bins and chunks may hold what we need: reclaim, retry. */
      pargc_gpu_bins_reclaim();
      n = pargc_gpu_buddy_alloc(&HEAP.buddy, (uint32_t)depth, hint);
    }
    if (n)
      return HEAP.base + pargc_gpu_buddy_offset(&HEAP.buddy, n);
  }
  count_null();
  return NULL;
}

static __device__ __noinline__ void large_free(uint64_t off)
{
  uint64_t n = pargc_gpu_buddy_node_at(&HEAP.buddy, off);
  if (n)
    pargc_gpu_buddy_free_node(&HEAP.buddy, n);
}

/* ---- the API ---------------------------------------------------------- */

__device__ void *pargc_dev_malloc(size_t size)
{
  if (size > PARGC_GPU_SMALL_MAX)
    return large_alloc(size);
  return small_alloc((uint32_t)pargc_gpu_class_of(size ? (uint32_t)size : 1));
}

__device__ void pargc_dev_free(void *p)
{
  if (!p)
    return;
  uint64_t off = (uint64_t)((char *)p - HEAP.base);
  /* Small or large from the address alone: a live small object's chunk is
   * a bin chunk, never RETIRED, for as long as the object lives. */
  uint32_t st = pargc_gpu_load32(&HEAP.chunks[off >> PARGC_GPU_CHUNK_SHIFT].state);
  if (st & PARGC_GPU_CHUNK_RETIRED)
    large_free(off);
  else
    small_free(off);
}

/* ---- trimming (pargc_gpu_heap_trim), no other kernel running ---------- */

static __global__ void trim_lists(uint32_t nlists)
{
  uint32_t li = blockIdx.x * blockDim.x + threadIdx.x;
  if (li < nlists)
    pargc_gpu_bins_sweep_list(li);
}

static __global__ void trim_arenas(void)
{
  uint32_t a = blockIdx.x * blockDim.x + threadIdx.x;
  if (a < HEAP.narenas)
    pargc_gpu_bins_drop_current(a, 0);
}

static __global__ void trim_chunks(void)
{
  uint32_t ci = blockIdx.x * blockDim.x + threadIdx.x;
  if (ci < HEAP.nchunks)
    pargc_gpu_chunk_retire(ci);   /* only if idle */
}

/* ---- host entry points of this file ----------------------------------- */

int pargc_gpu_device_set_heap(const pargc_gpu_devheap *h)
{
  return (int)cudaMemcpyToSymbol(pargc_gpu_device_heap, h, sizeof *h);
}

int pargc_gpu_device_trim(uint32_t nlists, uint32_t narenas, uint32_t nchunks)
{
  trim_lists<<<(nlists + 127) / 128, 128>>>(nlists);
  trim_arenas<<<(narenas + 127) / 128, 128>>>();
  trim_chunks<<<(nchunks + 127) / 128, 128>>>();
  return (int)cudaDeviceSynchronize();
}
