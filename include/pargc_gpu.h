/*
 * pargc_gpu.h -- the CUDA device heap: malloc and free inside kernels.
 *
 * Host side: create a heap of a given size on a given device, make it the
 * heap that device code allocates from, read its statistics, give empty
 * bins and chunks back, destroy it.  Device side: pargc_dev_malloc and
 * pargc_dev_free, callable from any thread of any kernel, from any subset
 * of a warp (the threads that arrive together are served together; no
 * full-warp assumption is made).
 *
 *   pargc_gpu_heap *h;
 *   if (pargc_gpu_heap_create(&h, (size_t)1 << 30, 0) != 0) ...error...
 *   kernel<<<...>>>();        // calls pargc_dev_malloc / pargc_dev_free
 *   pargc_gpu_stats st;
 *   pargc_gpu_heap_stats(h, &st);
 *   pargc_gpu_heap_destroy(h);
 *
 * Building: the device functions live in libpargc_gpu.a, compiled with
 * relocatable device code; compile the calling kernels with
 * `nvcc -rdc=true` and link with nvcc: `nvcc -rdc=true app.cu -lpargc_gpu`.
 *
 * Guarantees: objects are 16-byte aligned; pargc_dev_free(NULL) does
 * nothing; a pointer may be freed from any thread, block or SM; memory is
 * not initialised.  pargc_dev_malloc returns NULL only after one complete
 * pass over every place a block of that size could come from found none,
 * and a sweep that gives empty bins and chunks back (run by this thread
 * or waited for) gave nothing back.  That is weaker than "nothing is free
 * anywhere": memory that other threads free while the pass runs, or hold
 * for a moment and give back, can be missed, so near exhaustion, under
 * churn, a NULL can come while a little memory is free.  Frees of pointers
 * that are not live objects of the heap -- outside the pool, inside an
 * object, already freed -- are counted (pargc_gpu_stats.bad_frees) and
 * change nothing; a stale pointer to memory that has been handed out again
 * cannot be told from the new object.  Design: docs/gpu.md.
 */
#ifndef PARGC_GPU_H
#define PARGC_GPU_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PARGC_GPU_API extern __attribute__((visibility("default")))

typedef struct pargc_gpu_heap pargc_gpu_heap;

/* Number of bin size classes: 13 small (16 B .. 2 KiB) and 10 medium
 * (3 KiB .. 64 KiB); see docs/gpu.md. */
#define PARGC_GPU_STATS_CLASSES 23

typedef struct pargc_gpu_stats {
  uint64_t pool_bytes;        /* usable size of the pool */
  uint64_t free_bytes;        /* in free buddy blocks */
  uint64_t largest_free;      /* largest free buddy block */
  uint64_t large_bytes;       /* in buddy blocks holding large objects (> 64 KiB) */
  uint64_t large_objects;     /* live large objects (> 64 KiB) */
  uint64_t chunk_bytes;       /* in 512 KiB chunks holding bins */
  uint64_t bins;              /* bins on the bin lists (4 KiB or 512 KiB) */
  uint64_t small_bytes;       /* slot bytes of live bin objects (<= 64 KiB) */
  uint64_t small_objects;     /* live bin objects (<= 64 KiB) */
  uint64_t class_objects[PARGC_GPU_STATS_CLASSES]; /* live objects per class */
  uint64_t null_returns;      /* times pargc_dev_malloc returned NULL */
  uint64_t bad_frees;         /* pargc_dev_free calls ignored: the pointer was
                                 not a live object of the heap (outside the
                                 pool, inside an object, already freed) */
  uint32_t arenas;            /* one per SM */
  int device;
} pargc_gpu_stats;

/* Create a heap of `bytes` (rounded down to 512 KiB, at least 1 MiB) on
 * CUDA device `device` and make it the current heap.  Returns 0 or a CUDA
 * error code (cudaError_t); *heap is NULL on error. */
PARGC_GPU_API int pargc_gpu_heap_create(pargc_gpu_heap **heap, size_t bytes, int device);

/* Free the pool and its metadata.  No kernel may use the heap any more. */
PARGC_GPU_API void pargc_gpu_heap_destroy(pargc_gpu_heap *heap);

/* Make `heap` the one pargc_dev_malloc/pargc_dev_free use (heap_create
 * already does); call between kernels, on the heap's device. */
PARGC_GPU_API int pargc_gpu_heap_use(pargc_gpu_heap *heap);

/* Read statistics; waits for the device to be idle (cudaDeviceSynchronize)
 * and walks the metadata on the host: not for hot loops. */
PARGC_GPU_API int pargc_gpu_heap_stats(pargc_gpu_heap *heap, pargc_gpu_stats *stats);

/* Give every empty bin back to its chunk and every empty chunk back to
 * the buddy allocator (normally a few empty bins stay on each list to
 * avoid refill churn).  Runs a kernel; no other kernel may use the heap
 * meanwhile. */
PARGC_GPU_API int pargc_gpu_heap_trim(pargc_gpu_heap *heap);

/* Device base address and size of the pool (for tests and tools). */
PARGC_GPU_API void *pargc_gpu_heap_base(const pargc_gpu_heap *heap);
PARGC_GPU_API size_t pargc_gpu_heap_size(const pargc_gpu_heap *heap);

#ifdef __cplusplus
}
#endif

#ifdef __CUDACC__
/* Allocate `size` bytes; NULL when the heap has no block for it (see the
 * guarantee above), or when size exceeds the pool. */
extern __device__ void *pargc_dev_malloc(size_t size);
/* Free an object of the current heap; NULL is ignored. */
extern __device__ void pargc_dev_free(void *p);
#endif

#endif
