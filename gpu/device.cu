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

/* Bits of a bin's word w that stay set forever (slots past the end). */
static __device__ __forceinline__ uint32_t tail_bits(uint32_t slots, uint32_t w)
{
  uint32_t lo = w * 32;
  return slots >= lo + 32 ? 0u : ~0u << (slots - lo);
}

static __device__ __forceinline__ uint32_t class_words(uint32_t slots)
{
  return (slots + 31) / 32;
}

/* ---- chunks ------------------------------------------------------------ */

static __device__ void chunk_try_retire(uint32_t ci)
{
  /* Only an idle chunk (no bins, not current, not retired: state 0) goes
   * back to the buddy tree; the CAS fails if anybody claims meanwhile. */
  if (pargc_gpu_cas32(&HEAP.chunks[ci].state, 0, PARGC_GPU_CHUNK_RETIRED) == 0) {
    pargc_gpu_fence();
    pargc_gpu_buddy_free_node(&HEAP.buddy, ((uint64_t)1 << HEAP.chunk_depth) + ci);
  }
}

static __device__ void chunk_unuse(uint32_t ci)
{
  uint32_t r = pargc_gpu_add32(&HEAP.chunks[ci].state, 0xFFFFFFFFu) - 1;
  if (r == 0)
    chunk_try_retire(ci);
}

static __device__ void chunk_uncurrent(uint32_t ci)
{
  uint32_t r = pargc_gpu_and32(&HEAP.chunks[ci].state, ~PARGC_GPU_CHUNK_CURRENT);
  if ((r & ~PARGC_GPU_CHUNK_CURRENT) == 0)
    chunk_try_retire(ci);
}

/* Take one free bin of chunk ci; PARGC_GPU_NONE if it has none or is not
 * a bin chunk (retired). */
static __device__ uint32_t chunk_take_bin(uint32_t ci)
{
  pargc_gpu_chunk *c = &HEAP.chunks[ci];
  uint32_t st = pargc_gpu_add32(&c->state, 1);
  if (st & PARGC_GPU_CHUNK_RETIRED) {
    pargc_gpu_add32(&c->state, 0xFFFFFFFFu);
    return PARGC_GPU_NONE;
  }
  for (uint32_t w = 0; w < PARGC_GPU_BINS_PER_CHUNK / 32; w++) {
    uint32_t got = pargc_gpu_bitmap_claim(&c->bins[w], 1);
    if (got)
      return ci * PARGC_GPU_BINS_PER_CHUNK + w * 32 + (uint32_t)pargc_gpu_ctz32(got);
  }
  chunk_unuse(ci);
  return PARGC_GPU_NONE;
}

static __device__ void chunk_put_bin(uint32_t b)
{
  uint32_t ci = b / PARGC_GPU_BINS_PER_CHUNK, i = b % PARGC_GPU_BINS_PER_CHUNK;
  pargc_gpu_bitmap_release(&HEAP.chunks[ci].bins[i / 32], 1u << (i % 32));
  pargc_gpu_fence();
  chunk_unuse(ci);
}

/* A chunk fresh from the buddy tree becomes the caller's current one. */
static __device__ void chunk_reinit(uint32_t ci)
{
  pargc_gpu_chunk *c = &HEAP.chunks[ci];
  for (uint32_t w = 0; w < PARGC_GPU_BINS_PER_CHUNK / 32; w++)
    pargc_gpu_store32(&c->bins[w], 0);
  pargc_gpu_fence();
  /* Keep USED: a late chunk_take_bin may still undo its increment. */
  uint32_t st = pargc_gpu_load32(&c->state), old;
  while ((old = pargc_gpu_cas32(&c->state, st,
                                (st & PARGC_GPU_CHUNK_USED) | PARGC_GPU_CHUNK_CURRENT)) != st)
    st = old;
}

/* A free bin for arena a: from its current chunk, else from a new chunk,
 * else (exhaustion) from any chunk that has one. */
static __device__ __noinline__ uint32_t get_bin(uint32_t a)
{
  uint32_t cur = pargc_gpu_load32(&HEAP.current[a]);
  if (cur) {
    uint32_t b = chunk_take_bin(cur - 1);
    if (b != PARGC_GPU_NONE)
      return b;
  }
  uint64_t node = pargc_gpu_buddy_alloc(&HEAP.buddy, HEAP.chunk_depth, 0);
  if (node) {
    uint32_t ci = (uint32_t)(node - ((uint64_t)1 << HEAP.chunk_depth));
    chunk_reinit(ci);
    uint32_t b = chunk_take_bin(ci);
    if (pargc_gpu_cas32(&HEAP.current[a], cur, ci + 1) == cur) {
      if (cur)
        chunk_uncurrent(cur - 1);
    } else {
      /* Another refiller of this arena installed a chunk first; ours
       * stays an ordinary chunk holding our bin. */
      chunk_uncurrent(ci);
    }
    return b;
  }
  for (uint32_t ci = 0; ci < HEAP.nchunks; ci++)
    if (!(pargc_gpu_load32(&HEAP.chunks[ci].state) & PARGC_GPU_CHUNK_RETIRED)) {
      uint32_t b = chunk_take_bin(ci);
      if (b != PARGC_GPU_NONE)
        return b;
    }
  return PARGC_GPU_NONE;
}

/* ---- bin lists and their RCU ------------------------------------------ */

static __device__ __forceinline__ uint32_t rcu_enter(pargc_gpu_binlist *L)
{
  for (;;) {
    uint32_t e = pargc_gpu_load32(&L->epoch);
    pargc_gpu_add32(&L->readers[e & 1], 1);
    pargc_gpu_fence();
    /* If a remover flipped the epoch meanwhile it may already have seen
     * our old counter at zero: enter again under the new epoch. */
    if (pargc_gpu_load32(&L->epoch) == e)
      return e & 1;
    pargc_gpu_add32(&L->readers[e & 1], 0xFFFFFFFFu);
  }
}

static __device__ __forceinline__ void rcu_exit(pargc_gpu_binlist *L, uint32_t parity)
{
  pargc_gpu_fence();
  pargc_gpu_add32(&L->readers[parity], 0xFFFFFFFFu);
}

/* Under the list lock: recycle pending bins once their readers are gone,
 * then start a grace period for the bins in limbo.  Never waits. */
static __device__ void rcu_advance(pargc_gpu_binlist *L)
{
  if (L->pending) {
    if (pargc_gpu_load32(&L->readers[L->pending_parity]) != 0)
      return;
    pargc_gpu_fence();
    for (uint32_t b = L->pending; b;) {
      uint32_t nb = HEAP.bins[b - 1].retire_next;
      chunk_put_bin(b - 1);
      b = nb;
    }
    L->pending = 0;
  }
  if (L->limbo) {
    uint32_t e = L->epoch;
    L->pending_parity = e & 1;
    L->pending = L->limbo;
    L->limbo = 0;
    pargc_gpu_fence();     /* the unlinks happen before the flip */
    pargc_gpu_store32(&L->epoch, e + 1);
    pargc_gpu_fence();
  }
}

static __device__ void bin_push(pargc_gpu_binlist *L, uint32_t b)
{
  uint32_t h = pargc_gpu_load32(&L->head), old;
  for (;;) {
    pargc_gpu_store32(&HEAP.bins[b].next, h);
    pargc_gpu_fence();
    if ((old = pargc_gpu_cas32(&L->head, h, b + 1)) == h)
      return;
    h = old;
  }
}

/* Under the list lock; pushes may run concurrently (they touch only the
 * head).  The unlinked bin keeps its next so readers standing on it walk
 * on. */
static __device__ void bin_unlink(pargc_gpu_binlist *L, uint32_t b)
{
  uint32_t me = b + 1, next = pargc_gpu_load32(&HEAP.bins[b].next);
  for (;;) {
    uint32_t h = pargc_gpu_load32(&L->head);
    if (h == me) {
      if (pargc_gpu_cas32(&L->head, me, next) == me)
        return;
      continue;
    }
    for (uint32_t p = h; p;) {
      uint32_t pn = pargc_gpu_load32(&HEAP.bins[p - 1].next);
      if (pn == me) {
        pargc_gpu_store32(&HEAP.bins[p - 1].next, next);
        return;
      }
      p = pn;
    }
    return;  /* not found: cannot happen while the lock is held */
  }
}

static __device__ void bin_init(uint32_t b, uint32_t cls, uint32_t li)
{
  pargc_gpu_bin *bin = &HEAP.bins[b];
  pargc_gpu_bitmap_init(bin->bits, PARGC_GPU_BIN_WORDS, pargc_gpu_class_slots((int)cls));
  bin->cls = cls;
  bin->list = li;
  bin->magic = pargc_gpu_class_magic((int)cls);
  pargc_gpu_fence();
  pargc_gpu_store32(&bin->linked, 1);
}

/* Take empty bin b off list li if the list has at least `keep` free slots
 * besides it.  Skips (never waits) when another remover holds the lock. */
static __device__ __noinline__ void maybe_remove(uint32_t li, uint32_t b, uint32_t keep)
{
  pargc_gpu_binlist *L = &HEAP.lists[li];
  pargc_gpu_bin *bin = &HEAP.bins[b];
  uint32_t cls = li % PARGC_GPU_NCLASSES, slots = pargc_gpu_class_slots((int)cls);
  if (pargc_gpu_sem_count(pargc_gpu_load64(&L->sem)) < slots + keep)
    return;
  if (pargc_gpu_cas32(&L->lock, 0, 1) != 0)
    return;
  pargc_gpu_fence();
  rcu_advance(L);
  uint32_t linked = pargc_gpu_load32(&bin->linked);
  pargc_gpu_fence();
  if (linked && pargc_gpu_load32(&bin->list) == li && pargc_gpu_sem_try(&L->sem, slots)) {
    /* We hold `slots` reservations: claim every bit.  If all were clear
     * the bin is ours alone and nobody can be counting on it. */
    uint32_t got[PARGC_GPU_BIN_WORDS], nw = class_words(slots), whole = 1;
    for (uint32_t w = 0; w < nw; w++) {
      uint32_t old = pargc_gpu_or32(&bin->bits[w], ~0u);
      got[w] = ~old;
      whole &= old == tail_bits(slots, w);
    }
    if (whole) {
      bin_unlink(L, b);
      pargc_gpu_store32(&bin->linked, 0);
      bin->retire_next = L->limbo;
      L->limbo = b + 1;
    } else {
      for (uint32_t w = 0; w < nw; w++)
        if (got[w])
          pargc_gpu_bitmap_release(&bin->bits[w], got[w]);
      pargc_gpu_fence();
      pargc_gpu_sem_signal(&L->sem, slots);
    }
  }
  rcu_advance(L);
  pargc_gpu_fence();
  pargc_gpu_store32(&L->lock, 0);
}

/* ---- small objects ---------------------------------------------------- */

/* Leader only: reserve n slots of list li, refilling it if the semaphore
 * says so.  1 on success; 0 when no bin could be found for the refill. */
static __device__ __noinline__ int reserve(uint32_t a, uint32_t li, uint32_t cls, uint32_t n)
{
  pargc_gpu_binlist *L = &HEAP.lists[li];
  uint32_t slots = pargc_gpu_class_slots((int)cls);
  uint32_t k = (n + slots - 1) / slots, batch = k * slots;
  if (pargc_gpu_sem_wait(&L->sem, n, batch) == PARGC_GPU_SEM_ACQUIRED)
    return 1;
  uint32_t made = 0;
  for (; made < k; made++) {
    uint32_t b = get_bin(a);
    if (b == PARGC_GPU_NONE)
      break;
    bin_init(b, cls, li);
    bin_push(L, b);
  }
  pargc_gpu_fence();
  if (made == k) {
    pargc_gpu_sem_refilled(&L->sem, batch, n);
    return 1;
  }
  pargc_gpu_sem_abort(&L->sem, batch);
  if (made)
    pargc_gpu_sem_signal(&L->sem, made * slots);
  return 0;
}

/* The lanes of `peers` hold one reservation each on list li: the leader
 * walks the list inside an RCU read section, claims up to popc(pending)
 * bits per atomicOr, and hands them out in lane order. */
static __device__ void *claim_group(uint32_t li, uint32_t cls, uint32_t peers, uint32_t leader,
                                    uint32_t lane)
{
  pargc_gpu_binlist *L = &HEAP.lists[li];
  uint32_t size = pargc_gpu_class_size((int)cls);
  uint32_t nw = class_words(pargc_gpu_class_slots((int)cls));
  uint32_t pending = peers, parity = 0, cur = 0;
  void *mine = NULL;
  if (lane == leader) {
    parity = rcu_enter(L);
    cur = pargc_gpu_load32(&L->head);
  }
  while (pending) {
    uint32_t got = 0, gb = 0, gw = 0;
    if (lane == leader) {
      int want = pargc_gpu_popc32(pending);
      /* Our reservations guarantee clear bits on the list; a pass can
       * miss them only while other lanes are releasing, so go round. */
      for (;;) {
        if (cur == 0) {
          cur = pargc_gpu_load32(&L->head);
          continue;
        }
        pargc_gpu_bin *bin = &HEAP.bins[cur - 1];
        for (uint32_t w = 0; w < nw; w++)
          if (pargc_gpu_load32(&bin->bits[w]) != ~0u &&
              (got = pargc_gpu_bitmap_claim(&bin->bits[w], want)) != 0) {
            gw = w;
            break;
          }
        if (got) {
          gb = cur - 1;
          break;
        }
        cur = pargc_gpu_load32(&bin->next);
      }
    }
    got = __shfl_sync(peers, got, leader);
    gb = __shfl_sync(peers, gb, leader);
    gw = __shfl_sync(peers, gw, leader);
    int k = pargc_gpu_popc32(got);
    int before = pargc_gpu_popc32(pending & lanemask_lt());
    if (((pending >> lane) & 1) && before < k) {
      uint32_t slot = gw * 32 + (uint32_t)pargc_gpu_bits_nth(got, before);
      mine = HEAP.base + ((uint64_t)gb << PARGC_GPU_BIN_SHIFT) + slot * size;
    }
    pending &= ~pargc_gpu_bits_lowest(pending, k);
  }
  if (lane == leader)
    rcu_exit(L, parity);
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
    ok = reserve(a, li, cls, (uint32_t)__popc(peers));
  ok = __shfl_sync(peers, ok, leader);
  if (ok)
    return claim_group(li, cls, peers, leader, lane);
  return small_steal(cls, a, lane);
}

static __device__ void small_free(uint64_t off)
{
  uint32_t b = (uint32_t)(off >> PARGC_GPU_BIN_SHIFT);
  pargc_gpu_bin *bin = &HEAP.bins[b];
  uint32_t li = bin->list, cls = bin->cls, slots = pargc_gpu_class_slots((int)cls);
  uint32_t slot = pargc_gpu_class_slot_magic(bin->magic, (uint32_t)off & (PARGC_GPU_BIN_SIZE - 1));
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
  if (wleader && (old & ~bits) == tail_bits(slots, w)) {
    /* The word went empty: if the whole bin did, try to give it back,
     * keeping one spare bin's worth of slots on the list. */
    uint32_t nw = class_words(slots), empty = 1;
    for (uint32_t i = 0; i < nw && empty; i++)
      empty = pargc_gpu_load32(&bin->bits[i]) == tail_bits(slots, i);
    if (empty)
      maybe_remove(li, b, slots);
  }
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
  if (li >= nlists)
    return;
  pargc_gpu_binlist *L = &HEAP.lists[li];
  uint32_t slots = pargc_gpu_class_slots((int)(li % PARGC_GPU_NCLASSES));
  for (uint32_t cur = pargc_gpu_load32(&L->head); cur;) {
    uint32_t next = pargc_gpu_load32(&HEAP.bins[cur - 1].next), empty = 1;
    for (uint32_t w = 0; w < class_words(slots) && empty; w++)
      empty = HEAP.bins[cur - 1].bits[w] == tail_bits(slots, w);
    if (empty)
      maybe_remove(li, cur - 1, 0);
    cur = next;
  }
  /* Nobody reads: two advances finish both grace periods. */
  while (pargc_gpu_cas32(&L->lock, 0, 1) != 0)
    ;
  rcu_advance(L);
  rcu_advance(L);
  pargc_gpu_fence();
  pargc_gpu_store32(&L->lock, 0);
}

static __global__ void trim_chunks(void)
{
  uint32_t i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < HEAP.narenas) {
    uint32_t c = atomicExch(&HEAP.current[i], 0u);
    if (c)
      chunk_uncurrent(c - 1);
  }
}

static __global__ void trim_idle(void)
{
  uint32_t ci = blockIdx.x * blockDim.x + threadIdx.x;
  if (ci < HEAP.nchunks && pargc_gpu_load32(&HEAP.chunks[ci].state) == 0)
    chunk_try_retire(ci);
}

/* ---- host entry points of this file ----------------------------------- */

int pargc_gpu_device_set_heap(const pargc_gpu_devheap *h)
{
  return (int)cudaMemcpyToSymbol(pargc_gpu_device_heap, h, sizeof *h);
}

int pargc_gpu_device_trim(uint32_t nlists, uint32_t narenas, uint32_t nchunks)
{
  trim_lists<<<(nlists + 127) / 128, 128>>>(nlists);
  trim_chunks<<<(narenas + 127) / 128, 128>>>();
  trim_idle<<<(nchunks + 127) / 128, 128>>>();
  return (int)cudaDeviceSynchronize();
}
