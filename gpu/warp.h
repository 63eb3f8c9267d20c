/* gpu/warp.h -- the warp vocabulary of the device heap, on the GPU and,
 * emulated with threads, on the host.
 *
 * Job: let the per-lane code of pargc_dev_malloc and pargc_dev_free
 * (gpu/alloc.h) be one source for the device and for the CPU tests.  On
 * the GPU each operation is the intrinsic of the same name; on the host a
 * warp is a group of pthreads, one per lane, and every *_sync operation is
 * a rendezvous of the lanes in its mask, so the tests run exactly the
 * code the GPU runs, divergence and partial warps included.
 *
 *   pargc_warp_lane()          %laneid
 *   pargc_warp_lanemask_lt()   %lanemask_lt
 *   pargc_warp_sm()            %smid (the host: the warp's pretend SM)
 *   pargc_warp_active()        __activemask()
 *   pargc_warp_match(m, key)   __match_any_sync (64-bit key)
 *   pargc_warp_shfl(m, v, src) __shfl_sync
 *   pargc_warp_or(m, v)        __reduce_or_sync
 *   pargc_warp_ballot(m, p)    __ballot_sync
 *   pargc_warp_sync(m)         __syncwarp
 *
 * Host emulation.  The lanes of mask m meet in a "collective": the k-th
 * collective a lane joins with mask m is the k-th one its partners join
 * with m (the rule that makes a well-formed warp program work on the GPU
 * too), so a lane joins the oldest open collective with its mask that it
 * has not joined yet, or opens one.  The last lane to arrive completes it
 * and wakes the others; each lane reads every value and leaves; the last
 * to leave frees it.  One mutex and one condition variable per warp; the
 * harness says which lanes run together (pargc_warp_host_enter's
 * `active`), which is what __activemask() returns on the GPU.
 */
#ifndef PARGC_GPU_WARP_H
#define PARGC_GPU_WARP_H

#include "gpu/atomics.h"

#if defined(__CUDACC__)

#define PARGC_WARP_FN static __device__ __forceinline__

PARGC_WARP_FN uint32_t pargc_warp_lane(void)
{
  uint32_t r;
  asm volatile("mov.u32 %0, %%laneid;" : "=r"(r));
  return r;
}

PARGC_WARP_FN uint32_t pargc_warp_lanemask_lt(void)
{
  uint32_t r;
  asm volatile("mov.u32 %0, %%lanemask_lt;" : "=r"(r));
  return r;
}

PARGC_WARP_FN uint32_t pargc_warp_sm(void)
{
  uint32_t r;
  asm volatile("mov.u32 %0, %%smid;" : "=r"(r));
  return r;
}

PARGC_WARP_FN uint32_t pargc_warp_active(void)
{
  return __activemask();
}

PARGC_WARP_FN uint32_t pargc_warp_match(uint32_t mask, uint64_t key)
{
  return __match_any_sync(mask, (unsigned long long)key);
}

PARGC_WARP_FN uint32_t pargc_warp_shfl(uint32_t mask, uint32_t v, uint32_t src)
{
  return __shfl_sync(mask, v, (int)src);
}

PARGC_WARP_FN uint32_t pargc_warp_or(uint32_t mask, uint32_t v)
{
#if __CUDA_ARCH__ >= 800
  return __reduce_or_sync(mask, v);
#else
  uint32_t r = 0;
  for (uint32_t m = mask; m; m &= m - 1)
    r |= __shfl_sync(mask, v, __ffs(m) - 1);
  return r;
#endif
}

PARGC_WARP_FN uint32_t pargc_warp_ballot(uint32_t mask, int pred)
{
  return __ballot_sync(mask, pred);
}

PARGC_WARP_FN void pargc_warp_sync(uint32_t mask)
{
  __syncwarp(mask);
}

#else /* host emulation */

#include <pthread.h>
#include <stdlib.h>

#define PARGC_WARP_FN static inline
#define PARGC_WARP_OPEN 64   /* open collectives per warp, at most */

typedef struct pargc_warp_coll {
  uint32_t mask;        /* 0: slot unused */
  uint32_t joined;      /* lanes that arrived */
  uint32_t left;        /* lanes that read the result and went */
  uint32_t done;        /* every lane of mask arrived */
  uint64_t seq;         /* opening order, to find the oldest */
  uint64_t val[32];
} pargc_warp_coll;

typedef struct pargc_warp_host {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  uint32_t sm;
  uint64_t seq;
  pargc_warp_coll coll[PARGC_WARP_OPEN];
} pargc_warp_host;

typedef struct pargc_warp_self {
  pargc_warp_host *warp;
  uint32_t lane;
  uint32_t active;
} pargc_warp_self_t;

static _Thread_local pargc_warp_self_t pargc_warp_self;

static inline void pargc_warp_host_init(pargc_warp_host *w, uint32_t sm)
{
  pthread_mutex_init(&w->mu, NULL);
  pthread_cond_init(&w->cv, NULL);
  w->sm = sm;
  w->seq = 0;
  for (int i = 0; i < PARGC_WARP_OPEN; i++)
    w->coll[i].mask = 0;
}

static inline void pargc_warp_host_destroy(pargc_warp_host *w)
{
  pthread_mutex_destroy(&w->mu);
  pthread_cond_destroy(&w->cv);
}

/* The calling thread is lane `lane` of warp w, running together with the
 * lanes of `active` (which contains lane) until the next call. */
static inline void pargc_warp_host_enter(pargc_warp_host *w, uint32_t lane, uint32_t active)
{
  pargc_warp_self.warp = w;
  pargc_warp_self.lane = lane;
  pargc_warp_self.active = active;
}

/* Every lane of mask calls this with its value; each gets all of them. */
static inline void pargc_warp_exchange(uint32_t mask, uint64_t v, uint64_t out[32])
{
  pargc_warp_host *w = pargc_warp_self.warp;
  uint32_t me = 1u << pargc_warp_self.lane;
  if (!(mask & me))
    abort();   /* a lane may only take part in collectives of its mask */
  pthread_mutex_lock(&w->mu);
  pargc_warp_coll *c = NULL, *spare = NULL;
  for (int i = 0; i < PARGC_WARP_OPEN; i++) {
    pargc_warp_coll *x = &w->coll[i];
    if (x->mask == mask && !(x->joined & me) && (!c || x->seq < c->seq))
      c = x;
    else if (x->mask == 0 && !spare)
      spare = x;
  }
  if (!c) {
    if (!spare)
      abort();
    c = spare;
    c->mask = mask;
    c->joined = c->left = c->done = 0;
    c->seq = w->seq++;
  }
  c->val[pargc_warp_self.lane] = v;
  c->joined |= me;
  if (c->joined == mask) {
    c->done = 1;
    pthread_cond_broadcast(&w->cv);
  }
  while (!c->done)
    pthread_cond_wait(&w->cv, &w->mu);
  for (int i = 0; i < 32; i++)
    out[i] = c->val[i];
  c->left |= me;
  if (c->left == mask)
    c->mask = 0;
  pthread_mutex_unlock(&w->mu);
}

PARGC_WARP_FN uint32_t pargc_warp_lane(void)
{
  return pargc_warp_self.lane;
}

PARGC_WARP_FN uint32_t pargc_warp_lanemask_lt(void)
{
  return (1u << pargc_warp_self.lane) - 1;
}

PARGC_WARP_FN uint32_t pargc_warp_sm(void)
{
  return pargc_warp_self.warp->sm;
}

PARGC_WARP_FN uint32_t pargc_warp_active(void)
{
  return pargc_warp_self.active;
}

PARGC_WARP_FN uint32_t pargc_warp_match(uint32_t mask, uint64_t key)
{
  uint64_t v[32];
  uint32_t r = 0;
  pargc_warp_exchange(mask, key, v);
  for (uint32_t m = mask; m; m &= m - 1)
    if (v[__builtin_ctz(m)] == key)
      r |= m & (0u - m);
  return r;
}

PARGC_WARP_FN uint32_t pargc_warp_shfl(uint32_t mask, uint32_t x, uint32_t src)
{
  uint64_t v[32];
  pargc_warp_exchange(mask, x, v);
  return (uint32_t)v[src];
}

PARGC_WARP_FN uint32_t pargc_warp_or(uint32_t mask, uint32_t x)
{
  uint64_t v[32];
  uint32_t r = 0;
  pargc_warp_exchange(mask, x, v);
  for (uint32_t m = mask; m; m &= m - 1)
    r |= (uint32_t)v[__builtin_ctz(m)];
  return r;
}

PARGC_WARP_FN uint32_t pargc_warp_ballot(uint32_t mask, int pred)
{
  uint64_t v[32];
  uint32_t r = 0;
  pargc_warp_exchange(mask, pred != 0, v);
  for (uint32_t m = mask; m; m &= m - 1)
    if (v[__builtin_ctz(m)])
      r |= m & (0u - m);
  return r;
}

PARGC_WARP_FN void pargc_warp_sync(uint32_t mask)
{
  uint64_t v[32];
  pargc_warp_exchange(mask, 0, v);
}

#endif

#endif
