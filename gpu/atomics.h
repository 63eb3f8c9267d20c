/* gpu/atomics.h -- the atomics shim that lets the device heap's data
 * structures compile both as CUDA device code and as plain host C.
 *
 * Job: give the shared headers (sizeclass.h, bitmap.h, sem.h, buddy.h,
 * bins.h, alloc.h) one small vocabulary of atomic operations, so the very
 * same code runs inside kernels (nvcc, sm_90) and in the CPU unit tests
 * under make check (gcc, pthreads), where there is no GPU.
 *
 * Memory orders.  Every read-modify-write names its order, one of
 * PARGC_GPU_RELAXED / _ACQUIRE / _RELEASE / _ACQ_REL, with the meaning of
 * C11 and of the PTX memory model (scope: the device).  On the GPU they
 * compile to atom.{relaxed,acquire,release,acq_rel}.gpu through
 * cuda::atomic_ref; on the host to the __atomic builtins with the same
 * order, so ThreadSanitizer checks the orders the GPU runs with.  Each
 * call site says why its order is enough; the pattern throughout is
 *   - handing memory over (a slot, a bin, a buddy block): the RMW that
 *     gives it back is a release, the RMW that takes it an acquire, so
 *     the old owner's accesses happen before the new owner's;
 *   - publishing a structure (a bin pushed on a list): initialise it with
 *     plain stores, then a release; readers load the link with acquire;
 *   - Dekker-style store-then-load pairs (RCU readers against the epoch
 *     flip, summary refreshes in the buddy tree) need a full fence,
 *     pargc_gpu_fence() (fence.sc.gpu), on both sides: acquire/release
 *     alone does not order a store before a later load.
 * Plain loads of shared words go through pargc_gpu_load32/64 (relaxed
 * atomic loads: never cached in registers, never torn).
 *
 * Nothing here allocates, blocks or depends on the CUDA runtime.
 * PARGC_HD marks a function as callable from both sides.
 */
#ifndef PARGC_GPU_ATOMICS_H
#define PARGC_GPU_ATOMICS_H

#include <stdint.h>

#if defined(__CUDACC__)
#include <cuda/atomic>
#define PARGC_HD __host__ __device__
#else
#define PARGC_HD
#endif

#if !defined(__CUDA_ARCH__)
#include <sched.h>
#endif

/* Values of the host's __ATOMIC_* constants, so the host passes them on. */
enum {
  PARGC_GPU_RELAXED = 0,
  PARGC_GPU_ACQUIRE = 2,
  PARGC_GPU_RELEASE = 3,
  PARGC_GPU_ACQ_REL = 4
};

#if defined(__CUDA_ARCH__)
static __device__ __forceinline__ cuda::std::memory_order pargc_gpu_mo(int o)
{
  switch (o) {
  case PARGC_GPU_ACQUIRE:
    return cuda::std::memory_order_acquire;
  case PARGC_GPU_RELEASE:
    return cuda::std::memory_order_release;
  case PARGC_GPU_ACQ_REL:
    return cuda::std::memory_order_acq_rel;
  default:
    return cuda::std::memory_order_relaxed;
  }
}
/* The order of a failed CAS: no release part. */
static __device__ __forceinline__ cuda::std::memory_order pargc_gpu_mo_fail(int o)
{
  return o == PARGC_GPU_ACQUIRE || o == PARGC_GPU_ACQ_REL ? cuda::std::memory_order_acquire
                                                          : cuda::std::memory_order_relaxed;
}
#define PARGC_GPU_REF(T, p) cuda::atomic_ref<T, cuda::thread_scope_device>(*(p))
#else
static inline int pargc_gpu_mo_fail(int o)
{
  return o == PARGC_GPU_ACQUIRE || o == PARGC_GPU_ACQ_REL ? __ATOMIC_ACQUIRE : __ATOMIC_RELAXED;
}
#endif

static inline PARGC_HD uint32_t pargc_gpu_load32(const uint32_t *p)
{
#if defined(__CUDA_ARCH__)
  return PARGC_GPU_REF(uint32_t, (uint32_t *)p).load(cuda::std::memory_order_relaxed);
#else
  return __atomic_load_n(p, __ATOMIC_RELAXED);
#endif
}

static inline PARGC_HD uint32_t pargc_gpu_load32_acq(const uint32_t *p)
{
#if defined(__CUDA_ARCH__)
  return PARGC_GPU_REF(uint32_t, (uint32_t *)p).load(cuda::std::memory_order_acquire);
#else
  return __atomic_load_n(p, __ATOMIC_ACQUIRE);
#endif
}

static inline PARGC_HD uint64_t pargc_gpu_load64(const uint64_t *p)
{
#if defined(__CUDA_ARCH__)
  return PARGC_GPU_REF(uint64_t, (uint64_t *)p).load(cuda::std::memory_order_relaxed);
#else
  return __atomic_load_n(p, __ATOMIC_RELAXED);
#endif
}

static inline PARGC_HD void pargc_gpu_store32(uint32_t *p, uint32_t v)
{
#if defined(__CUDA_ARCH__)
  PARGC_GPU_REF(uint32_t, p).store(v, cuda::std::memory_order_relaxed);
#else
  __atomic_store_n(p, v, __ATOMIC_RELAXED);
#endif
}

static inline PARGC_HD void pargc_gpu_store32_rel(uint32_t *p, uint32_t v)
{
#if defined(__CUDA_ARCH__)
  PARGC_GPU_REF(uint32_t, p).store(v, cuda::std::memory_order_release);
#else
  __atomic_store_n(p, v, __ATOMIC_RELEASE);
#endif
}

/* Compare-and-swap; returns the value found (success iff it equals old). */
static inline PARGC_HD uint32_t pargc_gpu_cas32(uint32_t *p, uint32_t old, uint32_t val, int mo)
{
#if defined(__CUDA_ARCH__)
  PARGC_GPU_REF(uint32_t, p).compare_exchange_strong(old, val, pargc_gpu_mo(mo),
                                                     pargc_gpu_mo_fail(mo));
#else
  __atomic_compare_exchange_n(p, &old, val, 0, mo, pargc_gpu_mo_fail(mo));
#endif
  return old;
}

static inline PARGC_HD uint64_t pargc_gpu_cas64(uint64_t *p, uint64_t old, uint64_t val, int mo)
{
#if defined(__CUDA_ARCH__)
  PARGC_GPU_REF(uint64_t, p).compare_exchange_strong(old, val, pargc_gpu_mo(mo),
                                                     pargc_gpu_mo_fail(mo));
#else
  __atomic_compare_exchange_n(p, &old, val, 0, mo, pargc_gpu_mo_fail(mo));
#endif
  return old;
}

static inline PARGC_HD uint32_t pargc_gpu_add32(uint32_t *p, uint32_t v, int mo)
{
#if defined(__CUDA_ARCH__)
  return PARGC_GPU_REF(uint32_t, p).fetch_add(v, pargc_gpu_mo(mo));
#else
  return __atomic_fetch_add(p, v, mo);
#endif
}

static inline PARGC_HD uint64_t pargc_gpu_add64(uint64_t *p, uint64_t v, int mo)
{
#if defined(__CUDA_ARCH__)
  return PARGC_GPU_REF(uint64_t, p).fetch_add(v, pargc_gpu_mo(mo));
#else
  return __atomic_fetch_add(p, v, mo);
#endif
}

static inline PARGC_HD uint32_t pargc_gpu_or32(uint32_t *p, uint32_t v, int mo)
{
#if defined(__CUDA_ARCH__)
  return PARGC_GPU_REF(uint32_t, p).fetch_or(v, pargc_gpu_mo(mo));
#else
  return __atomic_fetch_or(p, v, mo);
#endif
}

static inline PARGC_HD uint32_t pargc_gpu_and32(uint32_t *p, uint32_t v, int mo)
{
#if defined(__CUDA_ARCH__)
  return PARGC_GPU_REF(uint32_t, p).fetch_and(v, pargc_gpu_mo(mo));
#else
  return __atomic_fetch_and(p, v, mo);
#endif
}

/* Full fence: this thread's earlier memory operations before its later
 * ones, stores before loads included, as seen by every thread of the
 * device (or process, on the host).  For the Dekker-style pairs only. */
static inline PARGC_HD void pargc_gpu_fence(void)
{
#if defined(__CUDA_ARCH__)
  cuda::atomic_thread_fence(cuda::std::memory_order_seq_cst, cuda::thread_scope_device);  /* fence.sc.gpu */
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
 * will run); on the host, where the tests run many more threads than
 * cores, give the core away. */
static inline PARGC_HD void pargc_gpu_relax(void)
{
#if defined(__CUDA_ARCH__)
#if __CUDA_ARCH__ >= 700
  __nanosleep(32);
#endif
#else
  sched_yield();
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
