/* gpu/device.cu -- pargc_dev_malloc and pargc_dev_free, and the device
 * half of trimming.  Layout and invariants: gpu/heap.h.  The code itself
 * is gpu/alloc.h (per lane, with gpu/warp.h's intrinsics) over gpu/bins.h
 * and gpu/buddy.h: the same source the CPU tests run, with a warp of
 * threads standing in for the hardware one.
 *
 * Fast path of a small allocation, per coalesced group of lanes asking for
 * the same class on the same SM (found with __match_any_sync among the
 * lanes that are actually active -- no full-warp assumption):
 *   1 atomicAdd on the list's bulk semaphore (the leader reserves n slots),
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
#include "gpu/alloc.h"

__device__ void *pargc_dev_malloc(size_t size)
{
  return pargc_gpu_malloc((uint64_t)size);
}

__device__ void pargc_dev_free(void *p)
{
  pargc_gpu_free(p);
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
