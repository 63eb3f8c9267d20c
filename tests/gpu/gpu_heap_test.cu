/* GPU test of the device heap (include/pargc_gpu.h): stress kernels with
 * sentinel patterns, mixed small, medium and large sizes, partial and divergent
 * warps, frees from other SMs than the allocating one, malloc/free churn
 * inside one kernel, and exhaustion.  Exits 77 (skipped) without a GPU.
 *
 * Overlap detection: every object is filled with a pattern naming its
 * owner; a second kernel checks every word of every object, so two live
 * objects that shared a byte would show up as a mismatch.  "All memory
 * comes back": after the frees the statistics show no live object and,
 * after pargc_gpu_heap_trim, the whole pool free in one block.
 *
 * Bad frees: a double free (one lane, and two lanes of one warp), frees
 * of pointers outside the pool, inside an object or into free memory, and
 * allocations too large to serve are counted in the statistics and change
 * nothing.
 *
 * Usage: gpu_heap_test [--small]   (--small: 1/16 of the work and a 64 MiB
 * pool, for compute-sanitizer).  Without a GPU it exits 77; with a GPU
 * that CUDA cannot use (a driver too old for the runtime) it fails and
 * says why (gpu_probe.h).  Run under compute-sanitizer: make gpu-sanitize
 * (docs/gpu.md). */
#include "pargc_gpu.h"
#include "check.h"
#include "gpu_probe.h"

#include <cuda_runtime.h>
#include <stdint.h>
#include <string.h>

#define CUDA_OK(call)                                                        \
  do {                                                                       \
    cudaError_t e_ = (call);                                                 \
    if (e_ != cudaSuccess) {                                                 \
      fprintf(stderr, "%s:%d: %s: %s\n", __FILE__, __LINE__, #call,          \
              cudaGetErrorString(e_));                                       \
      exit(1);                                                               \
    }                                                                        \
  } while (0)

static size_t POOL = (size_t)256 << 20;

__device__ static uint32_t pattern(uint32_t owner, uint32_t i)
{
  return owner * 2654435761u ^ (i * 0x9E3779B9u) ^ 0xA5A5A5A5u;
}

__device__ static size_t mixed_size(uint32_t t, int mode)
{
  uint32_t h = t * 2654435761u;
  switch (mode) {
  case 0:
    return 16;                                  /* single small class */
  case 1:
    return 1 + (h >> 7) % 1024;                 /* every small size up to 1 KiB */
  case 2:
    return (h >> 9) % 64 == 0 ? 4096u << ((h >> 3) % 6) /* 4 KiB .. 128 KiB */
                              : 1 + (h >> 7) % 2048;      /* small, medium, large */
  case 3:
    return 2048 + (h >> 5) % 4096;              /* around the small/medium border */
  default:
    return 63488 + (h >> 5) % 4096;             /* around the medium/large border */
  }
}

/* Each active thread allocates `per` objects and fills them.  Threads
 * with (t % skip) != 0 sit out, so warps are partial; the others diverge
 * on size. */
__global__ void alloc_fill(void **objs, uint32_t *sizes, uint32_t n, uint32_t per, int mode,
                           uint32_t skip, unsigned long long *nulls)
{
  uint32_t t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= n || (skip > 1 && t % skip != 0))
    return;
  for (uint32_t k = 0; k < per; k++) {
    uint32_t id = t * per + k;
    size_t sz = mixed_size(id, mode);
    uint32_t *p = (uint32_t *)pargc_dev_malloc(sz);
    objs[id] = p;
    sizes[id] = (uint32_t)sz;
    if (!p) {
      atomicAdd(nulls, 1ull);
      continue;
    }
    if (((uintptr_t)p & 15) != 0)
      atomicAdd(nulls + 1, 1ull);               /* misaligned */
    for (uint32_t i = 0; i < sz / 4; i++)
      p[i] = pattern(id, i);
  }
}

__global__ void verify(void *const *objs, const uint32_t *sizes, uint32_t n,
                       unsigned long long *bad)
{
  uint32_t id = blockIdx.x * blockDim.x + threadIdx.x;
  if (id >= n || !objs[id])
    return;
  const uint32_t *p = (const uint32_t *)objs[id];
  for (uint32_t i = 0; i < sizes[id] / 4; i++)
    if (p[i] != pattern(id, i)) {
      atomicAdd(bad, 1ull);
      return;
    }
}

/* Free object (id * stride) % n from thread id: another thread, usually
 * on another SM, than the one that allocated it. */
__global__ void free_scattered(void **objs, uint32_t n, uint32_t stride)
{
  uint32_t id = blockIdx.x * blockDim.x + threadIdx.x;
  if (id >= n)
    return;
  uint32_t j = (uint32_t)(((uint64_t)id * stride) % n);
  pargc_dev_free(objs[j]);
  objs[j] = NULL;
}

/* malloc, write, check, free, many times in one kernel. */
__global__ void churn(uint32_t n, uint32_t rounds, int mode, unsigned long long *bad)
{
  uint32_t t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= n)
    return;
  for (uint32_t r = 0; r < rounds; r++) {
    uint32_t id = t * rounds + r;
    size_t sz = mixed_size(id, mode);
    uint32_t *p = (uint32_t *)pargc_dev_malloc(sz);
    if (!p) {
      atomicAdd(bad + 1, 1ull);
      continue;
    }
    uint32_t words = (uint32_t)(sz / 4);
    for (uint32_t i = 0; i < words; i++)
      p[i] = pattern(id, i);
    for (uint32_t i = 0; i < words; i++)
      if (p[i] != pattern(id, i)) {
        atomicAdd(bad, 1ull);
        break;
      }
    pargc_dev_free(p);
  }
}

/* Allocate `sz`-byte objects until NULL; counts successes. */
__global__ void fill_up(void **objs, uint32_t cap, size_t sz, unsigned int *count)
{
  for (;;) {
    void *p = pargc_dev_malloc(sz);
    if (!p)
      return;
    uint32_t i = atomicAdd(count, 1u);
    if (i < cap)
      objs[i] = p;
    else {
      pargc_dev_free(p);
      return;
    }
  }
}

__global__ void free_all(void **objs, uint32_t n)
{
  uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n)
    pargc_dev_free(objs[i]);
}

/* Frees that must be refused (and counted), and sizes that must give
 * NULL; run by one warp. */
__global__ void bad_frees(char *base, size_t pool, unsigned long long *bad)
{
  uint32_t lane = threadIdx.x;
  char *own = (char *)pargc_dev_malloc(16);
  __shared__ char *objs[32];
  objs[lane] = own;
  __syncwarp();
  /* Lane 1 frees lane 0's object as well, in the same call: one of the
   * two frees is a double free. */
  pargc_dev_free(objs[lane == 1 ? 0 : lane]);
  __syncwarp();
  if (lane == 1)
    pargc_dev_free(objs[1]);
  if (lane != 0)
    return;
  char *p = (char *)pargc_dev_malloc(16);
  pargc_dev_free(p);
  pargc_dev_free(p);                       /* double free */
  pargc_dev_free(base - 16);               /* below the pool */
  pargc_dev_free(base + pool);             /* past it */
  char *q = (char *)pargc_dev_malloc(48);
  pargc_dev_free(q + 16);                  /* inside a slot */
  char *big = (char *)pargc_dev_malloc(64 << 10);
  pargc_dev_free(big + 4096);              /* inside a large block */
  pargc_dev_free(big);
  pargc_dev_free(big);                     /* double free, large */
  pargc_dev_free(q);
  int minus_one = -1;
  if (pargc_dev_malloc((size_t)-1) || pargc_dev_malloc((size_t)minus_one * 4096) ||
      pargc_dev_malloc(pool + 1))
    atomicAdd(bad, 1ull);                  /* must all be NULL */
}

static pargc_gpu_heap *heap;
static unsigned long long *dcount;

static unsigned long long host_counter(int i)
{
  unsigned long long v[4];
  CUDA_OK(cudaMemcpy(v, dcount, sizeof v, cudaMemcpyDeviceToHost));
  return v[i];
}

static void reset_counters(void)
{
  CUDA_OK(cudaMemset(dcount, 0, 4 * sizeof *dcount));
}

static void check_empty(const char *what)
{
  pargc_gpu_stats st;
  CHECK_EQ(pargc_gpu_heap_stats(heap, &st), 0);
  CHECK_EQ(st.small_objects, 0);
  CHECK_EQ(st.large_objects, 0);
  CHECK_EQ(pargc_gpu_heap_trim(heap), 0);
  CHECK_EQ(pargc_gpu_heap_stats(heap, &st), 0);
  CHECK_EQ(st.free_bytes, st.pool_bytes);
  CHECK_EQ(st.chunk_bytes, 0);
  CHECK_EQ(st.largest_free, st.pool_bytes);   /* everything merged back */
  printf("%s: empty after free and trim (%llu NULL so far)\n", what,
         (unsigned long long)st.null_returns);
}

static void stress(int mode, uint32_t n, uint32_t per, uint32_t skip, const char *what)
{
  uint32_t total = n * per;
  void **objs;
  uint32_t *sizes;
  CUDA_OK(cudaMalloc(&objs, total * sizeof *objs));
  CUDA_OK(cudaMalloc(&sizes, total * sizeof *sizes));
  CUDA_OK(cudaMemset(objs, 0, total * sizeof *objs));
  reset_counters();
  alloc_fill<<<(n + 255) / 256, 256>>>(objs, sizes, n, per, mode, skip, dcount);
  CUDA_OK(cudaDeviceSynchronize());
  CHECK_EQ(host_counter(0), 0);     /* no NULL: the pool is large enough */
  CHECK_EQ(host_counter(1), 0);     /* 16-byte alignment */
  pargc_gpu_stats st;
  CHECK_EQ(pargc_gpu_heap_stats(heap, &st), 0);
  CHECK_EQ(st.small_objects + st.large_objects, (uint64_t)((n + skip - 1) / skip) * per);
  reset_counters();
  verify<<<(total + 255) / 256, 256>>>(objs, sizes, total, dcount);
  CUDA_OK(cudaDeviceSynchronize());
  CHECK_EQ(host_counter(0), 0);     /* no two live objects overlap */
  free_scattered<<<(total + 255) / 256, 256>>>(objs, total, 7919);
  CUDA_OK(cudaDeviceSynchronize());
  check_empty(what);
  CUDA_OK(cudaFree(objs));
  CUDA_OK(cudaFree(sizes));
}

static void test_churn(int mode, const char *what, uint32_t div)
{
  reset_counters();
  churn<<<256 / div, 256>>>(256 * 256 / div, 16, mode, dcount);
  CUDA_OK(cudaDeviceSynchronize());
  CHECK_EQ(host_counter(0), 0);
  CHECK_EQ(host_counter(1), 0);
  check_empty(what);
}

static void test_exhaustion(size_t sz, double min_fill)
{
  uint32_t cap = (uint32_t)(POOL / sz);
  void **objs;
  unsigned int *count, n;
  CUDA_OK(cudaMalloc(&objs, cap * sizeof *objs));
  CUDA_OK(cudaMalloc(&count, sizeof *count));
  CUDA_OK(cudaMemset(count, 0, sizeof *count));
  fill_up<<<264, 256>>>(objs, cap, sz, count);
  CUDA_OK(cudaDeviceSynchronize());
  CUDA_OK(cudaMemcpy(&n, count, sizeof n, cudaMemcpyDeviceToHost));
  double fill = (double)n * (double)sz / (double)POOL;
  printf("exhaustion, %zu B objects: %u allocated, %.1f%% of the pool before NULL\n", sz, n,
         100 * fill);
  CHECK(fill >= min_fill);
  free_all<<<(n + 255) / 256, 256>>>(objs, n < cap ? n : cap);
  CUDA_OK(cudaDeviceSynchronize());
  check_empty("exhaustion");
  CUDA_OK(cudaFree(objs));
  CUDA_OK(cudaFree(count));
}

static void test_bad_frees(void)
{
  pargc_gpu_stats before, after;
  CHECK_EQ(pargc_gpu_heap_stats(heap, &before), 0);
  reset_counters();
  bad_frees<<<1, 32>>>((char *)pargc_gpu_heap_base(heap), POOL, dcount);
  CUDA_OK(cudaDeviceSynchronize());
  CHECK_EQ(host_counter(0), 0);
  CHECK_EQ(pargc_gpu_heap_stats(heap, &after), 0);
  CHECK_EQ(after.bad_frees - before.bad_frees, 7);
  CHECK_EQ(after.null_returns - before.null_returns, 3);
  printf("bad frees: %llu counted and ignored, %llu NULL for sizes too large\n",
         (unsigned long long)(after.bad_frees - before.bad_frees),
         (unsigned long long)(after.null_returns - before.null_returns));
  check_empty("bad frees");
}

int main(int argc, char **argv)
{
  int ndev = 0, small = argc > 1 && !strcmp(argv[1], "--small");
  int probe = gpu_probe(&ndev, "gpu_heap_test");
  if (probe)
    return probe;
  uint32_t div = small ? 16 : 1;
  if (small)
    POOL = (size_t)64 << 20;
  CHECK_EQ(pargc_gpu_heap_create(&heap, POOL, 0), 0);
  CUDA_OK(cudaMalloc(&dcount, 4 * sizeof *dcount));
  pargc_gpu_stats st;
  CHECK_EQ(pargc_gpu_heap_stats(heap, &st), 0);
  CHECK_EQ(st.pool_bytes, POOL);
  CHECK_EQ(st.free_bytes, POOL);
  printf("device %d: %u arenas, pool %llu MiB\n", st.device, st.arenas,
         (unsigned long long)(st.pool_bytes >> 20));

  test_bad_frees();
  stress(0, (1 << 18) / div, 4, 1, "16 B, full warps");
  /* Sizes keep the live total well under the pool (about 80, 30, 110 and
   * 100 MiB of 256, a 16th of that with --small): NULL is an error in
   * these runs. */
  stress(1, (1 << 15) / div, 4, 1, "1..1024 B mixed");
  stress(1, (1 << 15) / div, 4, 3, "partial warps");
  stress(2, (1 << 14) / div, 4, 1, "small and large mixed");
  stress(3, (1 << 13) / div, 2, 1, "around the small/medium border");
  stress(4, (1 << 9) / div, 2, 1, "around the medium/large border");
  test_churn(1, "churn, small", div);
  test_churn(2, "churn, small and large", div);
  test_exhaustion(16, 0.90);
  test_exhaustion(256, 0.90);
  test_exhaustion(1024, 0.90);
  test_exhaustion(1 << 20, 1.0);   /* buddy: every 1 MiB block */

  CUDA_OK(cudaFree(dcount));
  pargc_gpu_heap_destroy(heap);
  return CHECK_SUMMARY();
}
