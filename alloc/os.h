/* os: the platform contract.  Everything pargc needs from the operating
 * system goes through here, so the rest of the code has no platform
 * #ifdefs and a port replaces os.c: reserving address space, giving
 * pages back, clocks, CPU count, resident set size; for the collector,
 * page protection and the write-fault handler, the kernel's soft-dirty
 * bits, thread ids, signals, stack bounds and thread pointers, waits that
 * are safe in a signal handler, the loaded objects (their data segments
 * and thread-local storage) and the next definition of a wrapped libc
 * function.
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

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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
/* Write a zero at every 4 KiB boundary in [lo, hi) of memory that reads
 * as zero: each such page the kernel has not backed yet takes its plain
 * first-touch fault now.  For memory the marker will read before the
 * program writes it: a read maps the kernel's shared zero page, and the
 * first write after that is a copy-on-write fault that, in a process
 * running on several cores, interrupts each of them to flush its TLB. */
static inline void pargc_os_prefault(uintptr_t lo, uintptr_t hi)
{
  for (uintptr_t a = (lo + 4095) & ~(uintptr_t)4095; a < hi; a += 4096)
    *(volatile char *)a = 0;
}
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

/* ---- page protection and write faults (gc/dirty.c's mprotect barrier) */

/* Make [p, p+size) of the heap read-only (writable = false) or give it
 * back the heap's protection; false if the system refused (most likely
 * out of mappings). */
bool pargc_os_protect(void *p, size_t size, bool writable);
/* Route write faults on read-only pages to fn(address): fn returns true
 * when it made the page writable, and the faulting store is retried; a
 * fault fn does not claim goes to the handler that was installed before
 * (the default one kills the process as usual).  `block_sig` stays
 * blocked while fn runs.  Called again, it re-installs the handler if
 * the program replaced it, chaining to the program's. */
void pargc_os_catch_write_faults(bool (*fn)(uintptr_t addr), int block_sig);

/* ---- soft-dirty bits (gc/dirty.c's soft-dirty barrier) --------------- */

/* Whether the kernel tracks soft-dirty bits for this process (Linux:
 * CONFIG_MEM_SOFT_DIRTY, /proc/self/pagemap readable); probes once. */
bool pargc_os_soft_dirty_works(void);
/* Clear every page's soft-dirty bit; false if that failed. */
bool pargc_os_soft_dirty_clear(void);
/* dirty[j] = whether the 4 KiB page at addr + j * 4096 was written since
 * the last clear, for j < n; false if the bits could not be read. */
bool pargc_os_soft_dirty_read(uintptr_t addr, uint64_t *dirty, size_t n);
/* In a forked child: the inherited handle reads the parent's pages. */
void pargc_os_soft_dirty_after_fork(void);

/* ---- threads and signals (gc/threads.c, gc/stop.c) ------------------- */

/* The high end of the private, readable and writable memory mapping
 * that holds p (a coroutine's stack, say), or NULL when p is in none.
 * Reads /proc/self/maps with plain system calls into a buffer on the
 * stack: no allocation, no locks, so a collection may call it while the
 * world is stopped. */
char *pargc_os_mapping_top(const void *p);
/* The kernel's id of the calling thread (what thread_signal takes). */
pid_t pargc_os_thread_id(void);
/* Send sig to thread tid of process pid (0 only checks that it exists);
 * 0 on success, else -1 with errno set (ESRCH: the thread is gone).
 * Safe for a thread that exited without pthread's knowledge. */
int pargc_os_thread_signal(pid_t pid, pid_t tid, int sig);
/* pthread_sigmask made with the system call itself: async-signal-safe,
 * with nothing to resolve first, and, as glibc's, never blocking glibc's
 * own signals (cancellation and setxid, 32 and 33).  Leaves `open`
 * unblocked too when it is positive (the collector's suspend signal).
 * Returns 0 or an errno value; errno is left as it was. */
int pargc_os_sigmask(int how, const sigset_t *set, sigset_t *old, int open);
/* An errno value (0: none) as sigprocmask reports it: -1 and errno set,
 * or 0. */
static inline int pargc_os_errno_result(int e)
{
  if (e) {
    errno = e;
    return -1;
  }
  return 0;
}
/* The calling thread's stack: [*lo, *hi); false if the system does not
 * say. */
bool pargc_os_thread_stack(char **lo, char **hi);
/* The top of the alternate signal stack the calling thread is running
 * on, NULL when it is not on one. */
char *pargc_os_alt_stack_top(void);

/* Waits for signal handlers: async-signal-safe and not cancellation
 * points (a pending pthread_cancel must not unwind a stopped thread out
 * of its handler with every signal blocked).
 * wait_while sleeps while *addr == val (or until woken or interrupted);
 * wake_all wakes every thread sleeping on addr; sigsuspend replaces the
 * signal mask by *mask until a signal handler has run. */
void pargc_os_wait_while(int *addr, int val);
void pargc_os_wake_all(int *addr);
void pargc_os_sigsuspend(const sigset_t *mask);
void pargc_os_sleep_ns(uint64_t ns);

/* Name the calling thread for top, perf and gdb (at most 15 bytes). */
void pargc_os_set_thread_name(const char *name);
/* Whether the calling thread is the process's main thread. */
bool pargc_os_is_main_thread(void);
/* Whether the calling thread is joinable (not detached); true when the
 * system does not say. */
bool pargc_os_thread_is_joinable(void);
/* The calling thread's thread pointer: the address its static TLS blocks
 * are laid out from (x86-64: %fs:0; elsewhere the compiler's builtin). */
char *pargc_os_thread_pointer(void);

/* ---- loaded objects (gc/roots.c's static roots, gc/threads.c's TLS) -- */

/* One loaded segment of an object: [lo, hi) in memory, with its size in
 * memory (bss included). */
struct pargc_os_segment {
  uintptr_t lo, hi;
  bool writable, executable;
};

/* One object the dynamic linker has loaded: the program itself, each
 * shared library, the vdso. */
struct pargc_os_object {
  const char *name;  /* its path; "" for the program */
  bool vdso;         /* the kernel's vdso (no data of the program's) */
  int nseg;
  const struct pargc_os_segment *seg; /* its loaded segments */
  /* The part of the writable segments made read-only once relocated
   * (ELF's PT_GNU_RELRO); lo == hi when none. */
  uintptr_t relro_lo, relro_hi;
  /* Its thread-local storage: the calling thread's block (NULL when the
   * object has none, or the thread has not had it allocated yet), its
   * size and alignment (0 when the object has no TLS). */
  char *tls_block;
  size_t tls_size, tls_align;
};

/* fn(object, arg) for every loaded object, in the dynamic linker's order;
 * a nonzero return stops the walk.  Calls no malloc (safe with the world
 * stopped), but takes the dynamic linker's list lock. */
void pargc_os_each_object(int (*fn)(const struct pargc_os_object *o, void *arg), void *arg);

/* The definition of the function `name` that the objects loaded after
 * pargc's provide (what a wrapper like pargc's `pthread_create` or `read`
 * calls on to), else the first one in the search order (when pargc is
 * not first, that is the system's: the program's calls never reached the
 * wrapper); fatal when there is none. */
void *pargc_os_next_symbol(const char *name);

/* A shared library loaded at run time, by its file name (as the dynamic
 * linker searches it), or NULL when it cannot be loaded; loading it again
 * returns the same handle.  Its symbols are looked up with
 * pargc_os_library_symbol (NULL when missing).  For optional dependencies
 * that most processes never need (hwloc, alloc/topology.c): not linking
 * them saves every process their resident pages. */
void *pargc_os_library_open(const char *file);
void *pargc_os_library_symbol(void *lib, const char *name);

/* Write the process's memory mappings, as the system lists them, to fd
 * (GC_PRINT_ADDRESS_MAP). */
void pargc_os_print_address_map(int fd);

#endif
