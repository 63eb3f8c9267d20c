/* gpu/host.cu -- the host half of the device heap: create, use, stats,
 * trim, destroy (include/pargc_gpu.h).  Layout: gpu/heap.h.
 *
 * Creation sizes the pool, allocates the pool and its metadata with
 * cudaMalloc, builds the buddy tree's initial state on the host (the pool
 * need not be a power of two: the tail of the tree is pre-marked BUSY) and
 * copies the device-side description into constant memory.  Statistics
 * copy the metadata back and walk it on the host, so they cost nothing on
 * the device's fast paths.
 */
#include "pargc_gpu.h"
#include "gpu/heap.h"

#include <cuda_runtime.h>
#include <stdlib.h>
#include <string.h>

static_assert(PARGC_GPU_STATS_CLASSES == PARGC_GPU_NCLASSES, "pargc_gpu_stats has a count per class");

struct pargc_gpu_heap {
  pargc_gpu_devheap dev;   /* device pointers; what constant memory holds */
  uint64_t nbins, nwords, nlists;
  int device;
};

#define TRY(call)                                                            \
  do {                                                                       \
    cudaError_t try_err_ = (call);                                           \
    if (try_err_ != cudaSuccess) {                                           \
      err = (int)try_err_;                                                   \
      goto fail;                                                             \
    }                                                                        \
  } while (0)

int pargc_gpu_heap_create(pargc_gpu_heap **out, size_t bytes, int device)
{
  int err = 0, sms = 0;
  uint32_t *words = NULL;
  pargc_gpu_chunk *chunks = NULL;
  pargc_gpu_heap *h = (pargc_gpu_heap *)calloc(1, sizeof *h);
  *out = NULL;
  if (!h)
    return (int)cudaErrorMemoryAllocation;
  uint64_t size = (uint64_t)bytes & ~(uint64_t)(PARGC_GPU_CHUNK_SIZE - 1);
  if (size < 2 * (uint64_t)PARGC_GPU_CHUNK_SIZE) {
    free(h);
    return (int)cudaErrorInvalidValue;
  }
  pargc_gpu_devheap *d = &h->dev;
  uint64_t leaves = size >> PARGC_GPU_BIN_SHIFT;
  uint32_t levels = 0;
  h->device = device;
  TRY(cudaSetDevice(device));
  TRY(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  while (((uint64_t)1 << levels) < leaves)
    levels++;
  h->nbins = leaves;
  h->nwords = pargc_gpu_buddy_nwords(levels);
  d->size = size;
  d->narenas = (uint32_t)sms;
  d->nchunks = (uint32_t)(size >> PARGC_GPU_CHUNK_SHIFT);
  d->chunk_depth = levels - (PARGC_GPU_CHUNK_SHIFT - PARGC_GPU_BIN_SHIFT);
  h->nlists = (uint64_t)d->narenas * PARGC_GPU_NCLASSES;

  TRY(cudaMalloc((void **)&d->base, size));
  TRY(cudaMalloc((void **)&d->bins, h->nbins * sizeof *d->bins));
  TRY(cudaMalloc((void **)&d->chunks, d->nchunks * sizeof *d->chunks));
  TRY(cudaMalloc((void **)&d->lists, h->nlists * sizeof *d->lists));
  TRY(cudaMalloc((void **)&d->current, d->narenas * sizeof *d->current));
  TRY(cudaMalloc((void **)&d->chunk_index, (d->nchunks + 31) / 32 * sizeof *d->chunk_index));
  TRY(cudaMemset(d->chunk_index, 0, (d->nchunks + 31) / 32 * sizeof *d->chunk_index));
  TRY(cudaMalloc((void **)&d->counters, PARGC_GPU_COUNTERS * sizeof *d->counters));
  TRY(cudaMalloc((void **)&d->sync, PARGC_GPU_SYNC_WORDS * sizeof *d->sync));
  TRY(cudaMemset(d->sync, 0, PARGC_GPU_SYNC_WORDS * sizeof *d->sync));
  TRY(cudaMalloc((void **)&d->buddy.words, h->nwords * sizeof(uint32_t)));
  TRY(cudaMemset(d->bins, 0, h->nbins * sizeof *d->bins));
  TRY(cudaMemset(d->lists, 0, h->nlists * sizeof *d->lists));
  TRY(cudaMemset(d->current, 0, d->narenas * sizeof *d->current));
  TRY(cudaMemset(d->counters, 0, PARGC_GPU_COUNTERS * sizeof *d->counters));

  /* Every chunk slot starts RETIRED: not a bin chunk. */
  chunks = (pargc_gpu_chunk *)calloc(d->nchunks, sizeof *chunks);
  words = (uint32_t *)calloc(h->nwords, sizeof *words);
  if (!chunks || !words) {
    err = (int)cudaErrorMemoryAllocation;
    goto fail;
  }
  for (uint32_t i = 0; i < d->nchunks; i++)
    chunks[i].state = PARGC_GPU_CHUNK_RETIRED;
  TRY(cudaMemcpy(d->chunks, chunks, d->nchunks * sizeof *chunks, cudaMemcpyHostToDevice));
  {
    pargc_gpu_buddy host_tree;
    pargc_gpu_buddy_init(&host_tree, words, levels, PARGC_GPU_BIN_SHIFT, (uint32_t)leaves);
    d->buddy.levels = host_tree.levels;
    d->buddy.leaf_shift = host_tree.leaf_shift;
    d->buddy.usable_leaves = host_tree.usable_leaves;
  }
  TRY(cudaMemcpy(d->buddy.words, words, h->nwords * sizeof *words, cudaMemcpyHostToDevice));
  free(chunks);
  free(words);
  chunks = NULL;
  words = NULL;
  err = pargc_gpu_device_set_heap(d);
  if (err)
    goto fail;
  *out = h;
  return 0;

fail:
  free(chunks);
  free(words);
  pargc_gpu_heap_destroy(h);
  return err;
}

void pargc_gpu_heap_destroy(pargc_gpu_heap *h)
{
  if (!h)
    return;
  cudaSetDevice(h->device);
  cudaFree(h->dev.base);
  cudaFree(h->dev.bins);
  cudaFree(h->dev.chunks);
  cudaFree(h->dev.lists);
  cudaFree(h->dev.current);
  cudaFree(h->dev.chunk_index);
  cudaFree(h->dev.counters);
  cudaFree(h->dev.sync);
  cudaFree(h->dev.buddy.words);
  free(h);
}

int pargc_gpu_heap_use(pargc_gpu_heap *h)
{
  int err = (int)cudaSetDevice(h->device);
  return err ? err : pargc_gpu_device_set_heap(&h->dev);
}

void *pargc_gpu_heap_base(const pargc_gpu_heap *h)
{
  return h->dev.base;
}

size_t pargc_gpu_heap_size(const pargc_gpu_heap *h)
{
  return (size_t)h->dev.size;
}

int pargc_gpu_heap_trim(pargc_gpu_heap *h)
{
  int err = pargc_gpu_heap_use(h);
  if (err)
    return err;
  return pargc_gpu_device_trim((uint32_t)h->nlists, h->dev.narenas, h->dev.nchunks);
}

/* BUSY blocks of the tree: chunks (bin chunks) or large objects. */
static void census_objects(const pargc_gpu_buddy *b, uint64_t n, uint32_t chunk_depth,
                           const pargc_gpu_chunk *chunks, pargc_gpu_stats *st)
{
  uint32_t k = pargc_gpu_buddy_depth(n);
  uint64_t leaves = (uint64_t)1 << (b->levels - k);
  uint64_t lo = (n - ((uint64_t)1 << k)) * leaves;
  uint32_t s = pargc_gpu_buddy_state_in(b->words[n >> 2], n);
  if (s == PARGC_GPU_BUDDY_PARTIAL) {
    census_objects(b, 2 * n, chunk_depth, chunks, st);
    census_objects(b, 2 * n + 1, chunk_depth, chunks, st);
  } else if (s == PARGC_GPU_BUDDY_BUSY && lo < b->usable_leaves) {
    uint64_t bytes = leaves << b->leaf_shift;
    if (k == chunk_depth &&
        !(chunks[lo >> (PARGC_GPU_CHUNK_SHIFT - PARGC_GPU_BIN_SHIFT)].state &
          PARGC_GPU_CHUNK_RETIRED)) {
      st->chunk_bytes += bytes;
    } else {
      st->large_bytes += bytes;
      st->large_objects++;
    }
  }
}

int pargc_gpu_heap_stats(pargc_gpu_heap *h, pargc_gpu_stats *st)
{
  int err = 0;
  const pargc_gpu_devheap *d = &h->dev;
  pargc_gpu_bin *bins = (pargc_gpu_bin *)malloc(h->nbins * sizeof *bins);
  pargc_gpu_chunk *chunks = (pargc_gpu_chunk *)malloc(d->nchunks * sizeof *chunks);
  pargc_gpu_binlist *lists = (pargc_gpu_binlist *)malloc(h->nlists * sizeof *lists);
  uint32_t *words = (uint32_t *)malloc(h->nwords * sizeof *words);
  uint64_t counters[PARGC_GPU_COUNTERS];
  memset(st, 0, sizeof *st);
  if (!bins || !chunks || !lists || !words) {
    err = (int)cudaErrorMemoryAllocation;
    goto fail;
  }
  TRY(cudaSetDevice(h->device));
  TRY(cudaDeviceSynchronize());
  TRY(cudaMemcpy(bins, d->bins, h->nbins * sizeof *bins, cudaMemcpyDeviceToHost));
  TRY(cudaMemcpy(chunks, d->chunks, d->nchunks * sizeof *chunks, cudaMemcpyDeviceToHost));
  TRY(cudaMemcpy(lists, d->lists, h->nlists * sizeof *lists, cudaMemcpyDeviceToHost));
  TRY(cudaMemcpy(words, d->buddy.words, h->nwords * sizeof *words, cudaMemcpyDeviceToHost));
  TRY(cudaMemcpy(counters, d->counters, sizeof counters, cudaMemcpyDeviceToHost));
  {
    pargc_gpu_buddy tree = d->buddy;
    uint64_t busy = 0, largest = 0;
    tree.words = words;
    pargc_gpu_buddy_census(&tree, 1, &busy, &largest);
    st->pool_bytes = d->size;
    st->free_bytes = d->size - (busy << PARGC_GPU_BIN_SHIFT);
    st->largest_free = largest << PARGC_GPU_BIN_SHIFT;
    census_objects(&tree, 1, d->chunk_depth, chunks, st);
  }
  for (uint64_t li = 0; li < h->nlists; li++) {
    int cls = (int)(li % PARGC_GPU_NCLASSES);
    uint32_t slots = pargc_gpu_class_slots(cls);
    for (uint32_t b = lists[li].head; b; b = bins[b - 1].next) {
      uint32_t used = pargc_gpu_bitmap_used(bins[b - 1].bits, PARGC_GPU_BIN_WORDS, slots);
      st->bins++;
      st->class_objects[cls] += used;
      st->small_objects += used;
      st->small_bytes += (uint64_t)used * pargc_gpu_class_size(cls);
    }
  }
  st->null_returns = counters[PARGC_GPU_COUNT_NULL];
  st->bad_frees = counters[PARGC_GPU_COUNT_BAD_FREE];
  st->arenas = d->narenas;
  st->device = h->device;

fail:
  free(bins);
  free(chunks);
  free(lists);
  free(words);
  return err;
}
