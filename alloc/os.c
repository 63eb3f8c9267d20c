/* os: Linux implementation of the platform contract in os.h. */
#include "config.h"
#include "alloc/os.h"
#include "alloc/report.h"

#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

bool pargc_os_heap_exec;

int pargc_os_heap_prot(void)
{
  return PROT_READ | PROT_WRITE | (pargc_os_heap_exec ? PROT_EXEC : 0);
}

void *pargc_os_reserve(size_t size, size_t align)
{
  /* Over-reserve by `align` and trim both ends to get the alignment. */
  size_t len = size + align;
  char *p = mmap(NULL, len, pargc_os_heap_prot(),
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED)
    return NULL;
  uintptr_t start = ((uintptr_t)p + align - 1) & ~(uintptr_t)(align - 1);
  size_t head = start - (uintptr_t)p;
  if (head)
    munmap(p, head);
  size_t tail = len - head - size;
  if (tail)
    munmap((char *)start + size, tail);
  return (void *)start;
}

void pargc_os_decommit(void *p, size_t size)
{
  if (madvise(p, size, MADV_DONTNEED) != 0)
    pargc_warn("madvise(%p, %zu) failed; memory stays committed", p, size);
}

void *pargc_os_alloc_meta(size_t size)
{
  void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  return p == MAP_FAILED ? NULL : p;
}

void pargc_os_free_meta(void *p, size_t size)
{
  if (p)
    munmap(p, size);
}

int pargc_os_ncpus(void)
{
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

uint64_t pargc_os_now_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t pargc_os_thread_cpu_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t pargc_os_process_cpu_ns(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

size_t pargc_os_rss_bytes(void)
{
  /* /proc/self/statm: size resident shared ... in pages. */
  FILE *f = fopen("/proc/self/statm", "r");
  if (!f)
    return 0;
  unsigned long size = 0, resident = 0;
  int n = fscanf(f, "%lu %lu", &size, &resident);
  fclose(f);
  return n == 2 ? resident * (size_t)sysconf(_SC_PAGESIZE) : 0;
}

size_t pargc_os_peak_rss_bytes(void)
{
  struct rusage ru;
  if (getrusage(RUSAGE_SELF, &ru) != 0)
    return 0;
  return (size_t)ru.ru_maxrss * 1024;
}

size_t pargc_os_physical_memory(void)
{
  long pages = sysconf(_SC_PHYS_PAGES);
  return pages > 0 ? (size_t)pages * (size_t)sysconf(_SC_PAGESIZE) : 0;
}

size_t pargc_os_l2_cache_size(void)
{
  long bytes = sysconf(_SC_LEVEL2_CACHE_SIZE);
  return bytes > 0 ? (size_t)bytes : (size_t)1 << 20;
}

int pargc_os_numa_nodes(void)
{
  DIR *d = opendir("/sys/devices/system/node");
  if (!d)
    return 0;
  int n = 0;
  struct dirent *e;
  while ((e = readdir(d)))
    if (!strncmp(e->d_name, "node", 4) && e->d_name[4] >= '0' && e->d_name[4] <= '9')
      n++;
  closedir(d);
  return n > 0 ? n : 1;
}
