/* bench/gpu/gpu_bench.cu -- throughput of device-side malloc/free:
 * pargc's device heap against CUDA's device malloc (heap limit set to the
 * same pool size) and a bump-pointer baseline, in one binary.
 *
 * Output: one CSV row per measurement, `impl,op,size,threads,ops_per_s`,
 * on stdout and (--csv FILE) appended and flushed to FILE row by row, so
 * a run cut off by a time limit keeps every row it finished.  Lines that
 * start with '#' are comments (device, pool, NULL counts).
 *
 *   impl       pargc | cuda (device malloc) | bump (one atomicAdd, frees
 *              nothing: the physical limit of one atomic per malloc)
 *   op         malloc, free          one kernel of `threads` threads, one
 *                                    call each; ops/s from CUDA events
 *              malloc+free           both kernels: threads / (t_malloc + t_free)
 *              malloc_cold, ...      the same, first time at that size
 *                                    (fresh bins; the rest are warm)
 *              churn                 malloc/write/free pairs, 16 rounds in
 *                                    one kernel
 *              fill_pct              exhaustion: % of the pool handed out
 *                                    before every thread saw NULL
 *              nulls_below_90        exhaustion: NULLs returned while less
 *                                    than 90% of the pool was in use
 *   size       bytes; 0 for mixed sizes (16..1024 B)
 *
 * Parts (each can be asked for alone; default: all, in this order):
 *   --headline  16..1024 B (powers of two) with 2^20 threads, the three
 *               allocators interleaved size by size, --reps times;
 *   --mixed     mixed 16..1024 B, 2^20 threads;
 *   --churn     churn of 64 B and of mixed sizes, 2^20 threads;
 *   --large     4 KiB .. 1 MiB, as many threads as half the pool holds
 *               (at most 2^20);
 *   --exhaust   16 B, 256 B, 1 KiB, 64 KiB, 1 MiB until NULL, with every
 *               resident thread of an H200 (pargc on a 1 GiB heap of its
 *               own; CUDA's heap from 1 KiB up, 16 B would take it half a
 *               billion calls).
 * Other options: --pool BYTES (8 GiB), --device N, --reps N (3), --csv
 * FILE, --budget SECONDS (start no measurement after that many seconds),
 * --probe (only say whether a usable GPU is there: exit 0, 77 or 1). */
#include "pargc_gpu.h"
#include "gpu/gpu_probe.h"

#include <cuda_runtime.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
static const char *impl_name[] = {"pargc", "cuda", "bump"};

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
__global__ void k_alloc(void **objs, uint32_t n, size_t sz, unsigned long long *nulls)
{
  uint32_t t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= n)
    return;
  void *p = dmalloc<A>(sz ? sz : mixed(t));
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
__global__ void k_churn(uint32_t n, uint32_t rounds, size_t sz, unsigned long long *nulls)
{
  uint32_t t = blockIdx.x * blockDim.x + threadIdx.x;
  if (t >= n)
    return;
  for (uint32_t r = 0; r < rounds; r++) {
    size_t s = sz ? sz : mixed(t + r);
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

/* Exhaustion: allocate until NULL; count bytes handed out and the NULLs
 * that came while less than 90% of the pool was in use.  objs NULL: keep
 * nothing (the heap is destroyed afterwards). */
template <int A>
__global__ void k_fill(void **objs, uint32_t cap, size_t sz, unsigned long long limit90,
                       unsigned long long *st)
{
  for (;;) {
    void *p = dmalloc<A>(sz);
    if (!p) {
      if (atomicAdd(&st[1], 0ull) < limit90)
        atomicAdd(&st[2], 1ull);
      return;
    }
    atomicAdd(&st[1], (unsigned long long)sz);
    if (!objs)
      continue;
    unsigned long long i = atomicAdd(&st[0], 1ull);
    if (i < cap) {
      objs[i] = p;
    } else {
      dfree<A>(p);
      return;
    }
  }
}

static size_t pool = (size_t)8 << 30;
static int reps = 3;
static double budget = 1e9;
static FILE *csv;
static char *bump_pool;
static pargc_gpu_heap *heap;
static void **objs;
static unsigned long long *dnulls;
static struct timespec t_start;
static const uint32_t MAXT = 1u << 20;

static double seconds(void)
{
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)(t.tv_sec - t_start.tv_sec) + 1e-9 * (double)(t.tv_nsec - t_start.tv_nsec);
}

/* Is there time for another measurement? */
static int time_left(void)
{
  if (seconds() < budget)
    return 1;
  static int said;
  if (!said++)
    printf("# budget of %.0f s spent: stopping here\n", budget);
  return 0;
}

static void row(int impl, const char *op, size_t size, uint32_t threads, double v)
{
  printf("%s,%s,%zu,%u,%.6g\n", impl_name[impl], op, size, threads, v);
  fflush(stdout);
  if (csv) {
    fprintf(csv, "%s,%s,%zu,%u,%.6g\n", impl_name[impl], op, size, threads, v);
    fflush(csv);
  }
}

static float elapsed(cudaEvent_t a, cudaEvent_t b)
{
  float ms;
  CUDA_OK(cudaEventElapsedTime(&ms, a, b));
  return ms;
}

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

static void report_nulls(int impl, const char *what, size_t size, uint32_t n)
{
  unsigned long long nulls = take_nulls();
  if (nulls)
    printf("# %s %s size %zu threads %u: %llu NULL\n", impl_name[impl], what, size, n, nulls);
}

/* One malloc kernel and one free kernel of n threads. */
template <int A> static void run_pair(size_t size, uint32_t n, int cold)
{
  cudaEvent_t e0, e1, e2;
  CUDA_OK(cudaEventCreate(&e0));
  CUDA_OK(cudaEventCreate(&e1));
  CUDA_OK(cudaEventCreate(&e2));
  uint32_t blocks = (n + 255) / 256;
  if (A == BUMP)
    bump_reset();
  CUDA_OK(cudaEventRecord(e0));
  k_alloc<A><<<blocks, 256>>>(objs, n, size, dnulls);
  CUDA_OK(cudaEventRecord(e1));
  k_free<A><<<blocks, 256>>>(objs, n);
  CUDA_OK(cudaEventRecord(e2));
  CUDA_OK(cudaEventSynchronize(e2));
  CUDA_OK(cudaGetLastError());
  double ta = elapsed(e0, e1) * 1e-3, tf = elapsed(e1, e2) * 1e-3;
  row(A, cold ? "malloc_cold" : "malloc", size, n, n / ta);
  row(A, cold ? "free_cold" : "free", size, n, n / tf);
  row(A, cold ? "malloc+free_cold" : "malloc+free", size, n, n / (ta + tf));
  report_nulls(A, "malloc", size, n);
  CUDA_OK(cudaEventDestroy(e0));
  CUDA_OK(cudaEventDestroy(e1));
  CUDA_OK(cudaEventDestroy(e2));
}

static void run_pair_impl(int impl, size_t size, uint32_t n, int cold)
{
  if (impl == PARGC)
    run_pair<PARGC>(size, n, cold);
  else if (impl == CUDA)
    run_pair<CUDA>(size, n, cold);
  else
    run_pair<BUMP>(size, n, cold);
}

/* Sizes interleaved across allocators, rep by rep, so that drifting clocks
 * hit all three alike. */
static void sizes_interleaved(const size_t *sizes, int nsizes, uint32_t (*threads)(size_t))
{
  for (int si = 0; si < nsizes; si++) {
    uint32_t n = threads(sizes[si]);
    for (int r = 0; r <= reps; r++)
      for (int impl = PARGC; impl <= BUMP; impl++) {
        if (!time_left())
          return;
        run_pair_impl(impl, sizes[si], n, r == 0);
      }
    pargc_gpu_heap_trim(heap);   /* the next size starts cold again */
  }
}

static uint32_t all_threads(size_t size)
{
  (void)size;
  return MAXT;
}

/* Large sizes: as many threads as half the pool holds, at most 2^20. */
static uint32_t half_pool_threads(size_t size)
{
  size_t n = pool / 2 / size;
  return n > MAXT ? MAXT : (uint32_t)n;
}

template <int A> static void run_churn(size_t size, uint32_t n, uint32_t rounds)
{
  cudaEvent_t e0, e1;
  CUDA_OK(cudaEventCreate(&e0));
  CUDA_OK(cudaEventCreate(&e1));
  if (A == BUMP)
    bump_reset();
  CUDA_OK(cudaEventRecord(e0));
  k_churn<A><<<(n + 255) / 256, 256>>>(n, rounds, size, dnulls);
  CUDA_OK(cudaEventRecord(e1));
  CUDA_OK(cudaEventSynchronize(e1));
  CUDA_OK(cudaGetLastError());
  row(A, "churn", size, n, (double)n * rounds / (elapsed(e0, e1) * 1e-3));
  report_nulls(A, "churn", size, n);
  CUDA_OK(cudaEventDestroy(e0));
  CUDA_OK(cudaEventDestroy(e1));
}

/* pargc fills a heap of its own (at most 1 GiB, destroyed afterwards, so
 * nothing needs keeping); CUDA's heap, which cannot be reset, is filled
 * to its limit and every object freed again. */
static int bench_device;
template <int A> static void run_fill(size_t size)
{
  unsigned long long *st, h[3];
  size_t fpool = A == PARGC && pool > ((size_t)1 << 30) ? (size_t)1 << 30 : pool;
  uint32_t cap = 0;
  void **fobjs = NULL;
  pargc_gpu_heap *fheap = NULL;
  CUDA_OK(cudaMalloc(&st, sizeof h));
  CUDA_OK(cudaMemset(st, 0, sizeof h));
  if (A == PARGC) {
    int err = pargc_gpu_heap_create(&fheap, fpool, bench_device);
    if (err) {
      fprintf(stderr, "pargc_gpu_heap_create: %s\n", cudaGetErrorString((cudaError_t)err));
      exit(1);
    }
  } else {
    cap = (uint32_t)(pool / size);
    CUDA_OK(cudaMalloc(&fobjs, (size_t)cap * sizeof *fobjs));
  }
  uint32_t n = 132 * 2048;   /* every resident thread of an H200 */
  k_fill<A><<<n / 256, 256>>>(fobjs, cap, size, (unsigned long long)(0.9 * (double)fpool), st);
  CUDA_OK(cudaDeviceSynchronize());
  CUDA_OK(cudaGetLastError());
  CUDA_OK(cudaMemcpy(h, st, sizeof h, cudaMemcpyDeviceToHost));
  row(A, "fill_pct", size, n, 100.0 * (double)h[1] / (double)fpool);
  row(A, "nulls_below_90", size, n, (double)h[2]);
  if (A == PARGC) {
    pargc_gpu_heap_destroy(fheap);
    CUDA_OK((cudaError_t)pargc_gpu_heap_use(heap));
  } else {
    uint32_t got = h[0] < cap ? (uint32_t)h[0] : cap;
    k_free<A><<<(got + 255) / 256, 256>>>(fobjs, got);
    CUDA_OK(cudaDeviceSynchronize());
    CUDA_OK(cudaFree(fobjs));
  }
  CUDA_OK(cudaFree(st));
}

int main(int argc, char **argv)
{
  int device = 0, ndev = 0, probe_only = 0, parts = 0;
  enum { HEADLINE = 1, MIXED = 2, CHURN = 4, LARGE = 8, EXHAUST = 16 };
  clock_gettime(CLOCK_MONOTONIC, &t_start);
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--pool") && i + 1 < argc)
      pool = strtoull(argv[++i], NULL, 0);
    else if (!strcmp(argv[i], "--device") && i + 1 < argc)
      device = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
      reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--budget") && i + 1 < argc)
      budget = atof(argv[++i]);
    else if (!strcmp(argv[i], "--csv") && i + 1 < argc) {
      csv = fopen(argv[++i], "a");
      if (!csv) {
        perror(argv[i]);
        return 2;
      }
    } else if (!strcmp(argv[i], "--probe"))
      probe_only = 1;
    else if (!strcmp(argv[i], "--headline"))
      parts |= HEADLINE;
    else if (!strcmp(argv[i], "--mixed"))
      parts |= MIXED;
    else if (!strcmp(argv[i], "--churn"))
      parts |= CHURN;
    else if (!strcmp(argv[i], "--large"))
      parts |= LARGE;
    else if (!strcmp(argv[i], "--exhaust"))
      parts |= EXHAUST;
    else {
      fprintf(stderr,
              "usage: %s [--probe] [--headline] [--mixed] [--churn] [--large] [--exhaust]\n"
              "          [--pool BYTES] [--device N] [--reps N] [--csv FILE] [--budget S]\n",
              argv[0]);
      return 2;
    }
  }
  if (!parts)
    parts = HEADLINE | MIXED | CHURN | LARGE | EXHAUST;
  int probe = gpu_probe(&ndev, "gpu_bench");
  if (probe)
    return probe;
  cudaDeviceProp prop;
  int rt = 0, drv = 0;
  bench_device = device;
  CUDA_OK(cudaSetDevice(device));
  CUDA_OK(cudaGetDeviceProperties(&prop, device));
  cudaRuntimeGetVersion(&rt);
  cudaDriverGetVersion(&drv);
  printf("# GPU %d: %s, %d SMs, %zu MiB, sm_%d%d; runtime %d, driver supports %d\n", device,
         prop.name, prop.multiProcessorCount, prop.totalGlobalMem >> 20, prop.major, prop.minor,
         rt, drv);
  if (probe_only)
    return 0;
  /* CUDA's heap limit must be set before the first kernel that mallocs. */
  CUDA_OK(cudaDeviceSetLimit(cudaLimitMallocHeapSize, pool));
  CUDA_OK(cudaMalloc(&objs, (size_t)MAXT * sizeof *objs));
  CUDA_OK(cudaMalloc(&dnulls, sizeof *dnulls));
  CUDA_OK(cudaMemset(dnulls, 0, sizeof *dnulls));
  CUDA_OK(cudaMalloc(&bump_pool, pool));
  int err = pargc_gpu_heap_create(&heap, pool, device);
  if (err) {
    fprintf(stderr, "pargc_gpu_heap_create: %s\n", cudaGetErrorString((cudaError_t)err));
    return 1;
  }
  printf("# pool %zu MiB for every allocator, %d reps after the first (cold) one\n", pool >> 20,
         reps);
  printf("impl,op,size,threads,ops_per_s\n");
  static const size_t headline[] = {16, 32, 64, 128, 256, 512, 1024};
  static const size_t mixed_size[] = {0};
  static const size_t large[] = {4096, 16384, 65536, 262144, 1048576};
  static const size_t exhaust[] = {16, 256, 1024, 65536, 1048576};
  if (parts & HEADLINE)
    sizes_interleaved(headline, 7, all_threads);
  if (parts & MIXED)
    sizes_interleaved(mixed_size, 1, all_threads);
  if (parts & CHURN)
    for (int s = 0; s < 2 && time_left(); s++) {
      size_t size = s ? 0 : 64;
      run_churn<PARGC>(size, MAXT, 16);
      run_churn<CUDA>(size, MAXT, 16);
      run_churn<BUMP>(size, MAXT, 16);
    }
  if (parts & LARGE)
    sizes_interleaved(large, 5, half_pool_threads);
  /* CUDA's malloc is filled only from 1 KiB up: 16 B objects would take
   * it half a billion calls. */
  if (parts & EXHAUST)
    for (int i = 0; i < 5 && time_left(); i++) {
      run_fill<PARGC>(exhaust[i]);
      if (exhaust[i] >= 1024 && time_left())
        run_fill<CUDA>(exhaust[i]);
    }
  printf("# done in %.1f s\n", seconds());
  pargc_gpu_heap_destroy(heap);
  if (csv)
    fclose(csv);
  return 0;
}
