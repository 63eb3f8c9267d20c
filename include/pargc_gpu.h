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
 * Guarantees: objects are 16-byte aligned; pargc_dev_malloc returns NULL
 * only when no block of the size asked for is free anywhere in the heap
 * (never because of contention); pargc_dev_free(NULL) does nothing; a
 * pointer may be freed from any thread, block or SM.  Memory is not
 * initialised.  Design and measurements: docs/gpu.md.
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

/* Number of small size classes (16 B .. 2 KiB); see docs/gpu.md. */
#define PARGC_GPU_STATS_CLASSES 13

typedef struct pargc_gpu_stats {
  uint64_t pool_bytes;        /* usable size of the pool */
  uint64_t free_bytes;        /* in free buddy blocks */
  uint64_t largest_free;      /* largest free buddy block */
  uint64_t large_bytes;       /* in buddy blocks holding large objects */
  uint64_t large_objects;     /* live large objects */
  uint64_t chunk_bytes;       /* in 512 KiB chunks that bins are cut from */
  uint64_t bins;              /* 4 KiB bins on the bin lists */
  uint64_t small_bytes;       /* slot bytes of live small objects */
  uint64_t small_objects;     /* live small objects */
  uint64_t class_objects[PARGC_GPU_STATS_CLASSES]; /* live objects per class */
  uint64_t null_returns;      /* times pargc_dev_malloc returned NULL */
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
/* Allocate `size` bytes; NULL on true exhaustion. */
extern __device__ void *pargc_dev_malloc(size_t size);
/* Free an object of the current heap; NULL is ignored. */
extern __device__ void pargc_dev_free(void *p);
#endif

#endif
