/* The fixed memory a small program pays (docs/tuning.md, "Memory of a
 * small program"): what is resident, read from /proc/self/pagemap, after
 * a few objects of many size classes and kinds and two collections.
 * Bounds are generous -- several times what is used today -- so that
 * only a regression of the kind they guard against trips them:
 *   - a fresh span is built a card at a time (alloc/page.h): one used
 *     (kind, class) costs a few KiB of heap, not its whole span;
 *   - the side arrays (descriptors, mark bitmaps, black list, dirty
 *     cards) are touched only for the pages in use;
 *   - a thread's context is touched only for the classes it uses;
 *   - a collection of a small heap starts no helper GC thread;
 *   - hwloc is not mapped on a machine with one NUMA node. */
#include "config.h"
#include "alloc/pagemap.h"
#include "alloc/thread.h"
#include <gc.h>
#include "check.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OS_PAGE 4096u

/* Bytes of [lo, hi) resident and the process's own: present (bit 63)
 * and mapped exclusively (bit 56), which leaves out the kernel's shared
 * zero page that a read of untouched memory maps (not resident memory,
 * and not counted in Rss either). */
static size_t resident(uintptr_t lo, uintptr_t hi)
{
  int fd = open("/proc/self/pagemap", O_RDONLY);
  if (fd < 0)
    return 0;
  size_t n = 0;
  uint64_t e[512];
  for (uintptr_t p = lo / OS_PAGE; p < (hi + OS_PAGE - 1) / OS_PAGE;) {
    size_t want = (hi + OS_PAGE - 1) / OS_PAGE - p;
    if (want > 512)
      want = 512;
    ssize_t got = pread(fd, e, want * 8, (off_t)(p * 8));
    if (got <= 0)
      break;
    for (ssize_t i = 0; i < got / 8; i++)
      n += (e[i] >> 63) & (e[i] >> 56) & 1;
    p += (uintptr_t)got / 8;
  }
  close(fd);
  return n * OS_PAGE;
}

static size_t tasks(void)
{
  DIR *d = opendir("/proc/self/task");
  size_t n = 0;
  for (struct dirent *e; d && (e = readdir(d));)
    n += e->d_name[0] != '.';
  if (d)
    closedir(d);
  return n;
}

static bool mapped(const char *what)
{
  FILE *f = fopen("/proc/self/maps", "r");
  char line[512];
  bool found = false;
  while (f && fgets(line, sizeof line, f))
    found |= strstr(line, what) != NULL;
  if (f)
    fclose(f);
  return found;
}

#define NSIZES 26
static const size_t sizes[NSIZES] = {16,  24,  32,  48,  64,  80,   96,   112,  128,
                                     160, 192, 224, 256, 320, 384,  448,  512,  640,
                                     768, 1024, 1536, 2048, 3072, 4096, 6144, 8192};
static void *keep[NSIZES][2][3];

int main(void)
{
  unsetenv("PARGC_TOPOLOGY");
  GC_INIT();
  for (int s = 0; s < NSIZES; s++)
    for (int i = 0; i < 3; i++) {
      keep[s][0][i] = GC_MALLOC(sizes[s]);
      keep[s][1][i] = GC_MALLOC_ATOMIC(sizes[s]);
      CHECK(keep[s][0][i] && keep[s][1][i]);
    }
  GC_gcollect();
  GC_gcollect();

  /* 52 (kind, class) spans, 64 KiB or more each: built whole, 3.3 MiB
   * or more resident; a card or so each, some 250 KiB. */
  struct pargc_region *r = &pargc_region;
  size_t top = atomic_load(&r->top);
  size_t heap = resident(r->base, r->base + (top << PARGC_PAGE_SHIFT));
  printf("heap: %zu pages handed out, %zu KiB resident\n", top, heap >> 10);
  CHECK(top >= NSIZES); /* the +1 byte merges a few sizes' classes */
  CHECK(heap <= ((size_t)1 << 20));

  /* Side arrays: a few KiB for some 60 pages. */
  size_t mp = r->max_pages, meta = 0;
  meta += resident((uintptr_t)r->pages, (uintptr_t)(r->pages + mp));
  for (int i = 0; i < 2; i++)
    meta += resident((uintptr_t)r->mark_arrays[i], (uintptr_t)(r->mark_arrays[i] + mp));
  meta += resident((uintptr_t)r->blacklist, (uintptr_t)(r->blacklist + (mp + 63) / 64));
  meta += resident((uintptr_t)r->dirty,
                   (uintptr_t)(r->dirty + (mp * PARGC_CARDS_PER_PAGE + 63) / 64));
  printf("side arrays: %zu KiB resident\n", meta >> 10);
  CHECK(meta <= ((size_t)256 << 10));

  /* The thread's context: sizeof is some 230 KiB, of which the classes
   * used write a few pages. */
  struct pargc_tctx *ctx = pargc_tctx_current;
  CHECK(ctx != NULL);
  size_t cres = ctx ? resident((uintptr_t)ctx, (uintptr_t)(ctx + 1)) : 0;
  printf("thread context: %zu of %zu KiB resident\n", cres >> 10, sizeof *ctx >> 10);
  CHECK(cres <= ((size_t)128 << 10));

  /* Some 150 KiB live: the collections marked on this thread alone,
   * and started no helper; the one other thread may be the scavenger
   * (gc/scavenge.h), which the first collection starts. */
  size_t n = tasks();
  printf("threads: %zu\n", n);
  CHECK(n <= 2);

  DIR *node1 = opendir("/sys/devices/system/node/node1");
  if (node1)
    closedir(node1); /* several NUMA nodes: hwloc has a job */
  else
    CHECK(!mapped("libhwloc"));
  return CHECK_SUMMARY();
}
