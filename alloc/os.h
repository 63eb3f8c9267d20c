/* os: the platform contract.  Everything pargc needs from the operating
 * system goes through here, so the rest of the code has no platform
 * #ifdefs: reserving address space, giving pages back, clocks, CPU count,
 * resident set size.
 *
 * Memory model: pargc reserves one large range of address space at start
 * (readable and writable, MAP_NORESERVE, so nothing is committed until a
 * page is first touched).  "Commit" is therefore implicit; "decommit" is
 * madvise(MADV_DONTNEED), after which the pages read as zero again.
 */
#ifndef PARGC_OS_H
#define PARGC_OS_H
#ifndef PARGC_BUILDING
#error "alloc/os.h is internal to pargc"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Reserve `size` bytes aligned to `align` (a power of two); NULL if the
 * address space cannot be had. */
void *pargc_os_reserve(size_t size, size_t align);
/* The heap's page protection: read and write, and execute once
 * pargc_os_heap_exec is set (GC_set_pages_executable, before the heap
 * is reserved).  The mprotect barrier restores the same. */
extern bool pargc_os_heap_exec;
int pargc_os_heap_prot(void);
/* Return [p, p+size) to the OS; the range stays reserved and reads as
 * zero when next touched. */
void pargc_os_decommit(void *p, size_t size);
/* Anonymous memory for pargc's own metadata (zeroed, never scanned). */
void *pargc_os_alloc_meta(size_t size);
void pargc_os_free_meta(void *p, size_t size);

int pargc_os_ncpus(void);
/* NUMA nodes the kernel lists (Linux: /sys/devices/system/node/nodeN);
 * 1 when it lists none, 0 when it cannot tell. */
int pargc_os_numa_nodes(void);
uint64_t pargc_os_now_ns(void);       /* monotonic clock */
uint64_t pargc_os_thread_cpu_ns(void); /* CPU time of the calling thread */
uint64_t pargc_os_process_cpu_ns(void); /* CPU time of all the process's threads */
size_t pargc_os_rss_bytes(void);      /* current resident set size */
size_t pargc_os_peak_rss_bytes(void); /* peak resident set size */
size_t pargc_os_physical_memory(void);

/* The size of one core's level-2 cache in bytes (1 MiB when the system
 * does not say). */
size_t pargc_os_l2_cache_size(void);

/* Said in every iteration of a short busy-wait: lets the core's other
 * hardware thread run and keeps the spin from flooding the memory
 * system (x86 `pause`, Arm `yield`; nothing elsewhere). */
static inline void pargc_os_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
  __asm__ volatile("yield");
#endif
}

#endif
