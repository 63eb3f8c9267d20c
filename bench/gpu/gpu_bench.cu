/* bench/gpu/gpu_bench.cu -- throughput of device-side malloc/free:
 * pargc's device heap against CUDA's device malloc (heap limit set to the
 * same pool size) and a bump-pointer baseline, in one binary.
 *
 * Workloads (every row reports allocation and free rates in millions of
 * operations per second, and the number of NULL returns):
 *   fixed  every thread allocates one object of S bytes (kernel 1), then
 *          frees it (kernel 2); S from 16 B to 16 MiB, T threads from
 *          2^16 to 2^24; "cold" is the first run on a fresh heap, "warm"
 *          the second (bins and chunks already made);
 *   mixed  sizes 16..1024 B chosen per thread;
 *   churn  malloc/write/free R times inside one kernel.
 * Combinations whose total request exceeds 4x the pool run only at 2^16
 * threads, where they measure exhaustion (NULL counts).
 * The bump allocator is one atomicAdd per malloc and frees nothing; it is
 * the ceiling of what any allocator can do with one atomic.
 *
 * Usage: gpu_bench [--pool BYTES] [--quick] [--device N]
 * Output: a Markdown table on stdout (docs/gpu.md). */
#include "pargc_gpu.h"

#include <cuda_runtime.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
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

enum { PARGC, CUDA, BUMP };
static const char *alloc_name[] = {"pargc", "cuda-malloc", "bump"};

__device__ char *bump_base;
__device__ unsigned long long bump_next, bump_size;

template <int A> __device__ __forceinline__ void *dmalloc(size_t sz)
{
  if (A == PARGC)
    return pargc_dev_malloc(sz);
  if (A == CUDA)
    return malloc(sz);
  unsigned long long off = atomicAdd(&bump_next, (unsigned long long)((sz + 15) & ~(size_t)15));
  return off + sz <= bump_size ? bump_base + off : NULL;
}

template <int A> __device__ __forceinline__ void dfree(void *p)
{
  if (A == PARGC)
    pargc_dev_free(p);
  else if (A == CUDA)
    free(p);
}

__device__ static size_t mixed(uint32_t t)
{
  return 16u << ((t * 2654435761u >> 13) % 7);   /* 16 .. 1024 */
}

template <int A>
__global__ void k_alloc(void **objs, uint32_t n, size_t sz, int mix, unsigned long long *nulls)
{
  uint32_t t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= n)
    return;
  void *p = dmalloc<A>(mix ? mixed(t) : sz);
  objs[t] = p;
  if (!p)
    atomicAdd(nulls, 1ull);
}

template <int A> __global__ void k_free(void **objs, uint32_t n)
{
  uint32_t t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t < n)
    dfree<A>(objs[t]);
}

template <int A>
__global__ void k_churn(uint32_t n, uint32_t rounds, size_t sz, int mix, unsigned long long *nulls)
{
  uint32_t t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= n)
    return;
  for (uint32_t r = 0; r < rounds; r++) {
    size_t s = mix ? mixed(t + r) : sz;
    uint32_t *p = (uint32_t *)dmalloc<A>(s);
    if (!p) {
      atomicAdd(nulls, 1ull);
      continue;
    }
    p[0] = t;
    p[s / 4 - 1] = r;
    dfree<A>(p);
  }
}

static float elapsed(cudaEvent_t a, cudaEvent_t b)
{
  float ms;
  CUDA_OK(cudaEventElapsedTime(&ms, a, b));
  return ms;
}

static size_t pool = (size_t)8 << 30;
static char *bump_pool;
static pargc_gpu_heap *heap;
static void **objs;
static unsigned long long *dnulls;

static void bump_reset(void)
{
  unsigned long long zero = 0, size = pool;
  CUDA_OK(cudaMemcpyToSymbol(bump_base, &bump_pool, sizeof bump_pool));
  CUDA_OK(cudaMemcpyToSymbol(bump_next, &zero, sizeof zero));
  CUDA_OK(cudaMemcpyToSymbol(bump_size, &size, sizeof size));
}

static unsigned long long take_nulls(void)
{
  unsigned long long v;
  CUDA_OK(cudaMemcpy(&v, dnulls, sizeof v, cudaMemcpyDeviceToHost));
  CUDA_OK(cudaMemset(dnulls, 0, sizeof v));
  return v;
}

template <int A>
static void run_fixed(const char *what, uint32_t n, size_t sz, int mix, const char *temp)
{
  cudaEvent_t e0, e1, e2;
  CUDA_OK(cudaEventCreate(&e0));
  CUDA_OK(cudaEventCreate(&e1));
  CUDA_OK(cudaEventCreate(&e2));
  uint32_t blocks = (n + 255) / 256;
  if (A == BUMP)
    bump_reset();
  CUDA_OK(cudaEventRecord(e0));
  k_alloc<A><<<blocks, 256>>>(objs, n, sz, mix, dnulls);
  CUDA_OK(cudaEventRecord(e1));
  k_free<A><<<blocks, 256>>>(objs, n);
  CUDA_OK(cudaEventRecord(e2));
  CUDA_OK(cudaEventSynchronize(e2));
  CUDA_OK(cudaGetLastError());
  float ta = elapsed(e0, e1), tf = elapsed(e1, e2);
  printf("| %s | %s | %s | %s | 2^%d | %.1f | %.1f | %llu |\n", alloc_name[A], what, temp,
         mix ? "16-1024" : "", __builtin_ctz(n), n / (ta * 1e3), n / (tf * 1e3), take_nulls());
  fflush(stdout);
}

template <int A> static void run_churn(uint32_t n, uint32_t rounds, size_t sz, int mix)
{
  cudaEvent_t e0, e1;
  CUDA_OK(cudaEventCreate(&e0));
  CUDA_OK(cudaEventCreate(&e1));
  if (A == BUMP)
    bump_reset();
  CUDA_OK(cudaEventRecord(e0));
  k_churn<A><<<(n + 255) / 256, 256>>>(n, rounds, sz, mix, dnulls);
  CUDA_OK(cudaEventRecord(e1));
  CUDA_OK(cudaEventSynchronize(e1));
  CUDA_OK(cudaGetLastError());
  float t = elapsed(e0, e1);
  printf("| %s | churn x%u | warm | %s | 2^%d | %.1f (malloc+free pairs) | | %llu |\n",
         alloc_name[A], rounds, mix ? "16-1024" : "", __builtin_ctz(n),
         (double)n * rounds / (t * 1e3), take_nulls());
  fflush(stdout);
}

static void size_label(char *buf, size_t sz)
{
  if (sz >= (1u << 20))
    sprintf(buf, "%zu MiB", sz >> 20);
  else if (sz >= 1024)
    sprintf(buf, "%zu KiB", sz >> 10);
  else
    sprintf(buf, "%zu B", sz);
}

template <int A> static void suite(int quick)
{
  static const size_t sizes[] = {16, 64, 256, 1024, 4096, 65536, 1 << 20, 16 << 20};
  int min_log = 16, max_log = quick ? 20 : 24;
  for (size_t si = 0; si < sizeof sizes / sizeof *sizes; si++)
    for (int lg = min_log; lg <= max_log; lg += 2) {
      uint32_t n = 1u << lg;
      /* Requests far beyond the pool only measure the NULL path: keep one
       * such row per size (the smallest thread count) to count NULLs. */
      if ((double)sizes[si] * n > 4.0 * (double)pool && lg > min_log)
        continue;
      char what[32];
      size_label(what, sizes[si]);
      run_fixed<A>(what, n, sizes[si], 0, "cold");
      run_fixed<A>(what, n, sizes[si], 0, "warm");
      if (A == PARGC)
        pargc_gpu_heap_trim(heap);   /* next size starts cold again */
    }
  for (int lg = min_log; lg <= max_log; lg += 2) {
    run_fixed<A>("mixed", 1u << lg, 0, 1, "cold");
    run_fixed<A>("mixed", 1u << lg, 0, 1, "warm");
  }
  run_churn<A>(1u << 20, 16, 64, 0);
  run_churn<A>(1u << 20, 16, 0, 1);
}

int main(int argc, char **argv)
{
  int quick = 0, device = 0, ndev = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--pool") && i + 1 < argc)
      pool = strtoull(argv[++i], NULL, 0);
    else if (!strcmp(argv[i], "--quick"))
      quick = 1;
    else if (!strcmp(argv[i], "--device") && i + 1 < argc)
      device = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: %s [--pool BYTES] [--quick] [--device N]\n", argv[0]);
      return 2;
    }
  }
  if (cudaGetDeviceCount(&ndev) != cudaSuccess || ndev == 0) {
    printf("SKIP: no CUDA device present\n");
    return 77;
  }
  CUDA_OK(cudaSetDevice(device));
  /* CUDA's heap limit must be set before the first kernel that mallocs. */
  CUDA_OK(cudaDeviceSetLimit(cudaLimitMallocHeapSize, pool));
  cudaDeviceProp prop;
  CUDA_OK(cudaGetDeviceProperties(&prop, device));
  CUDA_OK(cudaMalloc(&objs, ((size_t)1 << 24) * sizeof *objs));
  CUDA_OK(cudaMalloc(&dnulls, sizeof *dnulls));
  CUDA_OK(cudaMemset(dnulls, 0, sizeof *dnulls));
  CUDA_OK(cudaMalloc(&bump_pool, pool));
  if (pargc_gpu_heap_create(&heap, pool, device) != 0) {
    fprintf(stderr, "pargc_gpu_heap_create failed\n");
    return 1;
  }
  printf("GPU: %s (%d SMs), pool %zu MiB for every allocator\n\n", prop.name,
         prop.multiProcessorCount, pool >> 20);
  printf("| allocator | size | run | sizes | threads | malloc Mops/s | free Mops/s | NULL |\n");
  printf("|---|---|---|---|---|---|---|---|\n");
  suite<PARGC>(quick);
  suite<BUMP>(quick);
  suite<CUDA>(quick);
  pargc_gpu_heap_destroy(heap);
  return 0;
}
