/* gpu/atomics.h -- the atomics shim that lets the device heap's data
 * structures compile both as CUDA device code and as plain host C.
 *
 * Job: give the shared data-structure headers (sizeclass.h, bitmap.h,
 * sem.h, buddy.h) one small vocabulary of atomic operations, so the very
 * same code runs inside kernels (nvcc, sm_90) and in the CPU unit tests
 * under make check (gcc, pthreads), where CI has no GPU.
 *
 * Invariants:
 *  - every operation is sequentially consistent on the host (__atomic with
 *    __ATOMIC_SEQ_CST) and device-scope on the GPU (atomicXxx are relaxed
 *    device-scope RMWs; callers that need ordering call pargc_gpu_fence(),
 *    which is __threadfence(), at the points the algorithms name);
 *  - loads of shared words go through pargc_gpu_load32/64 so the compiler
 *    can neither cache them in registers nor tear them;
 *  - nothing here allocates, blocks or depends on the CUDA runtime.
 *
 * PARGC_HD marks a function as callable from both sides; PARGC_GPU_DEVICE
 * is 1 while nvcc compiles device code, 0 otherwise, so the headers can
 * test it with a plain `if` where they need a device-only fast variant.
 */
#ifndef PARGC_GPU_ATOMICS_H
#define PARGC_GPU_ATOMICS_H

#include <stdint.h>

#if defined(__CUDACC__)
#define PARGC_HD __host__ __device__
#else
#define PARGC_HD
#endif

#if defined(__CUDA_ARCH__)
#define PARGC_GPU_DEVICE 1
#else
#define PARGC_GPU_DEVICE 0
#endif

static inline PARGC_HD uint32_t pargc_gpu_load32(const uint32_t *p)
{
#if defined(__CUDA_ARCH__)
  return *(const volatile uint32_t *)p;
#else
  return __atomic_load_n(p, __ATOMIC_SEQ_CST);
#endif
}

static inline PARGC_HD uint64_t pargc_gpu_load64(const uint64_t *p)
{
#if defined(__CUDA_ARCH__)
  return *(const volatile uint64_t *)p;
#else
  return __atomic_load_n(p, __ATOMIC_SEQ_CST);
#endif
}

static inline PARGC_HD void pargc_gpu_store32(uint32_t *p, uint32_t v)
{
#if defined(__CUDA_ARCH__)
  *(volatile uint32_t *)p = v;
#else
  __atomic_store_n(p, v, __ATOMIC_SEQ_CST);
#endif
}

/* Compare-and-swap; returns the value found (success iff it equals old). */
static inline PARGC_HD uint32_t pargc_gpu_cas32(uint32_t *p, uint32_t old, uint32_t val)
{
#if defined(__CUDA_ARCH__)
  return atomicCAS((unsigned int *)p, old, val);
#else
  __atomic_compare_exchange_n(p, &old, val, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return old;
#endif
}

static inline PARGC_HD uint64_t pargc_gpu_cas64(uint64_t *p, uint64_t old, uint64_t val)
{
#if defined(__CUDA_ARCH__)
  return atomicCAS((unsigned long long *)p, (unsigned long long)old, (unsigned long long)val);
#else
  __atomic_compare_exchange_n(p, &old, val, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return old;
#endif
}

static inline PARGC_HD uint32_t pargc_gpu_add32(uint32_t *p, uint32_t v)
{
#if defined(__CUDA_ARCH__)
  return atomicAdd((unsigned int *)p, v);
#else
  return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
#endif
}

static inline PARGC_HD uint64_t pargc_gpu_add64(uint64_t *p, uint64_t v)
{
#if defined(__CUDA_ARCH__)
  return atomicAdd((unsigned long long *)p, (unsigned long long)v);
#else
  return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
#endif
}

static inline PARGC_HD uint32_t pargc_gpu_or32(uint32_t *p, uint32_t v)
{
#if defined(__CUDA_ARCH__)
  return atomicOr((unsigned int *)p, v);
#else
  return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST);
#endif
}

static inline PARGC_HD uint32_t pargc_gpu_and32(uint32_t *p, uint32_t v)
{
#if defined(__CUDA_ARCH__)
  return atomicAnd((unsigned int *)p, v);
#else
  return __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST);
#endif
}

/* Order this thread's earlier memory operations before its later ones as
 * seen by every other thread of the device (or process, on the host). */
static inline PARGC_HD void pargc_gpu_fence(void)
{
#if defined(__CUDA_ARCH__)
  __threadfence();
#elif defined(__SANITIZE_THREAD__)
  /* ThreadSanitizer does not model fences; a seq_cst RMW is a full
   * barrier on x86 and arm64 and one it understands. */
  static uint32_t pargc_gpu_fence_word;
  __atomic_fetch_add(&pargc_gpu_fence_word, 0, __ATOMIC_SEQ_CST);
#else
  __atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

/* Spin-wait hint: on the GPU a short sleep frees issue slots for the
 * thread we are waiting on (independent thread scheduling guarantees it
 * will run); on the host a pause instruction. */
static inline PARGC_HD void pargc_gpu_relax(void)
{
#if defined(__CUDA_ARCH__)
#if __CUDA_ARCH__ >= 700
  __nanosleep(32);
#endif
#elif defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

static inline PARGC_HD int pargc_gpu_popc32(uint32_t x)
{
#if defined(__CUDA_ARCH__)
  return __popc(x);
#else
  return __builtin_popcount(x);
#endif
}

/* Index of the lowest set bit; x must not be 0. */
static inline PARGC_HD int pargc_gpu_ctz32(uint32_t x)
{
#if defined(__CUDA_ARCH__)
  return __ffs((int)x) - 1;
#else
  return __builtin_ctz(x);
#endif
}

/* Index of the highest set bit; x must not be 0. */
static inline PARGC_HD int pargc_gpu_log2_64(uint64_t x)
{
#if defined(__CUDA_ARCH__)
  return 63 - __clzll((long long)x);
#else
  return 63 - __builtin_clzll(x);
#endif
}

#endif
