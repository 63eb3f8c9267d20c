/* os: Linux implementation of the platform contract in os.h. */
#include "config.h"
#include "alloc/os.h"
#include "alloc/report.h"

#include <dirent.h>
#include <dlfcn.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <link.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
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

/* ---- page protection and write faults --------------------------------- */

bool pargc_os_protect(void *p, size_t size, bool writable)
{
  int prot = pargc_os_heap_prot();
  return mprotect(p, size, writable ? prot : prot & ~PROT_WRITE) == 0;
}

static bool (*write_fault_fn)(uintptr_t addr);
static struct sigaction old_segv;

static void os_write_fault(int sig, siginfo_t *si, void *uc)
{
  if (si->si_code == SEGV_ACCERR) {
    int saved = errno;
    bool mine = write_fault_fn((uintptr_t)si->si_addr);
    errno = saved;
    if (mine)
      return;
  }
  /* Not ours: hand it to the handler that was there before. */
  if (old_segv.sa_flags & SA_SIGINFO) {
    old_segv.sa_sigaction(sig, si, uc);
  } else if (old_segv.sa_handler != SIG_DFL && old_segv.sa_handler != SIG_IGN) {
    old_segv.sa_handler(sig);
  } else {
    /* Default action: restore it; the fault repeats and kills as usual. */
    signal(SIGSEGV, SIG_DFL);
  }
}

void pargc_os_catch_write_faults(bool (*fn)(uintptr_t addr), int block_sig)
{
  write_fault_fn = fn;
  struct sigaction cur;
  sigaction(SIGSEGV, NULL, &cur);
  if ((cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == os_write_fault)
    return;
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = os_write_fault;
  sa.sa_flags = SA_SIGINFO | SA_RESTART;
  sigemptyset(&sa.sa_mask);
  sigaddset(&sa.sa_mask, block_sig);
  sigaction(SIGSEGV, &sa, &old_segv);
}

/* ---- soft-dirty bits: /proc/self/clear_refs and /proc/self/pagemap ---- */

#define PM_SOFT_DIRTY ((uint64_t)1 << 55)

static int soft_dirty_state; /* 0 unknown, 1 works, -1 does not */
static int pagemap_fd = -1;

bool pargc_os_soft_dirty_clear(void)
{
  int fd = open("/proc/self/clear_refs", O_WRONLY | O_CLOEXEC);
  if (fd < 0)
    return false;
  bool ok = write(fd, "4", 1) == 1;
  close(fd);
  return ok;
}

/* The raw pagemap entries, one per 4 KiB page. */
static bool read_pagemap(uintptr_t addr, uint64_t *out, size_t n)
{
  off_t off = (off_t)(addr / 4096) * 8;
  size_t want = n * sizeof *out;
  char *p = (char *)out;
  while (want) {
    ssize_t r = pread(pagemap_fd, p, want, off);
    if (r <= 0) {
      if (r < 0 && errno == EINTR)
        continue;
      return false;
    }
    p += r;
    off += r;
    want -= (size_t)r;
  }
  return true;
}

bool pargc_os_soft_dirty_read(uintptr_t addr, uint64_t *dirty, size_t n)
{
  if (!read_pagemap(addr, dirty, n))
    return false;
  for (size_t j = 0; j < n; j++)
    dirty[j] = (dirty[j] & PM_SOFT_DIRTY) != 0;
  return true;
}

/* Probe on a scratch page: after clearing, a written page must read as
 * soft-dirty and an untouched one must not (kernels without
 * CONFIG_MEM_SOFT_DIRTY accept the write to clear_refs and report 0). */
static bool soft_dirty_probe(void)
{
  pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (pagemap_fd < 0)
    return false;
  char *p = mmap(NULL, 2 * 4096, pargc_os_heap_prot(), MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    return false;
  p[0] = 1;
  p[4096] = 1;
  uint64_t e[2] = {0, 0};
  bool ok = pargc_os_soft_dirty_clear();
  if (ok) {
    ((volatile char *)p)[0] = 2;
    ok = read_pagemap((uintptr_t)p, e, 2) && (e[0] & PM_SOFT_DIRTY) && !(e[1] & PM_SOFT_DIRTY);
  }
  munmap(p, 2 * 4096);
  if (!ok) {
    close(pagemap_fd);
    pagemap_fd = -1;
  }
  return ok;
}

bool pargc_os_soft_dirty_works(void)
{
  if (!soft_dirty_state)
    soft_dirty_state = soft_dirty_probe() ? 1 : -1;
  return soft_dirty_state > 0;
}

void pargc_os_soft_dirty_after_fork(void)
{
  if (pagemap_fd >= 0) {
    close(pagemap_fd);
    pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  }
}

/* ---- threads and signals ---------------------------------------------- */

pid_t pargc_os_thread_id(void)
{
  return (pid_t)syscall(SYS_gettid);
}

/* tgkill, not pthread_kill: pthread_kill on a thread that is gone is
 * undefined, and a thread can exit without pthread knowing (killed by a
 * library that bypasses pthread's exit path). */
int pargc_os_thread_signal(pid_t pid, pid_t tid, int sig)
{
  return (int)syscall(SYS_tgkill, pid, tid, sig);
}

int pargc_os_sigmask(int how, const sigset_t *set, sigset_t *old, int open)
{
  sigset_t fixed;
  if (set) {
    fixed = *set;
    if ((how == SIG_BLOCK || how == SIG_SETMASK) && open > 0)
      sigdelset(&fixed, open);
    fixed.__val[0] &= ~((1UL << (32 - 1)) | (1UL << (33 - 1)));
    set = &fixed;
  }
  /* The kernel's mask is _NSIG bits; sigset_t is larger. */
  int saved = errno, e = 0;
  if (syscall(SYS_rt_sigprocmask, how, set, old, (size_t)(_NSIG / 8)) != 0)
    e = errno;
  errno = saved;
  return e;
}

bool pargc_os_thread_stack(char **lo, char **hi)
{
  pthread_attr_t attr;
  bool ok = false;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    void *addr;
    size_t size;
    if (pthread_attr_getstack(&attr, &addr, &size) == 0) {
      *lo = addr;
      *hi = (char *)addr + size;
      ok = true;
    }
    pthread_attr_destroy(&attr);
  }
  return ok;
}

/* Parse "lo-hi perms ..." (hex, as /proc/self/maps writes it). */
static bool maps_line(const char *l, const char *end, uintptr_t *lo, uintptr_t *hi,
                      bool *rw_private)
{
  uintptr_t v[2] = {0, 0};
  for (int k = 0; k < 2; k++) {
    int digits = 0;
    for (; l < end; l++, digits++) {
      char c = *l;
      unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0')
                   : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10) : 16u;
      if (d == 16)
        break;
      v[k] = v[k] << 4 | d;
    }
    if (!digits || l >= end || *l != (k == 0 ? '-' : ' '))
      return false;
    l++;
  }
  if (end - l < 4)
    return false;
  *lo = v[0];
  *hi = v[1];
  *rw_private = l[0] == 'r' && l[1] == 'w' && l[3] == 'p';
  return true;
}

char *pargc_os_mapping_top(const void *p)
{
  int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return NULL;
  char buf[4096];
  size_t have = 0;
  char *top = NULL;
  bool done = false;
  while (!done) {
    ssize_t n = syscall(SYS_read, fd, buf + have, sizeof buf - have);
    if (n <= 0)
      break;
    have += (size_t)n;
    /* Whole lines only; a partial one moves to the front. */
    char *line = buf, *nl;
    while ((nl = memchr(line, '\n', (size_t)(buf + have - line)))) {
      uintptr_t lo, hi;
      bool rw;
      if (maps_line(line, nl, &lo, &hi, &rw) && (uintptr_t)p >= lo && (uintptr_t)p < hi) {
        top = rw ? (char *)hi : NULL;
        done = true;
        break;
      }
      line = nl + 1;
    }
    size_t rest = (size_t)(buf + have - line);
    if (rest == sizeof buf)
      break; /* a line longer than the buffer: give up */
    memmove(buf, line, rest);
    have = rest;
  }
  syscall(SYS_close, fd);
  return top;
}

char *pargc_os_alt_stack_top(void)
{
  stack_t ss;
  if (syscall(SYS_sigaltstack, NULL, &ss) != 0 || !(ss.ss_flags & SS_ONSTACK))
    return NULL;
  return (char *)ss.ss_sp + ss.ss_size;
}

/* Raw system calls throughout: glibc's sigsuspend and nanosleep are
 * cancellation points, and futex has no wrapper. */
void pargc_os_wait_while(int *addr, int val)
{
  syscall(SYS_futex, addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

void pargc_os_wake_all(int *addr)
{
  syscall(SYS_futex, addr, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

void pargc_os_sigsuspend(const sigset_t *mask)
{
  syscall(SYS_rt_sigsuspend, mask, (size_t)(_NSIG / 8));
}

void pargc_os_sleep_ns(uint64_t ns)
{
  struct timespec ts = {(time_t)(ns / 1000000000u), (long)(ns % 1000000000u)};
  syscall(SYS_nanosleep, &ts, NULL);
}

void pargc_os_set_thread_name(const char *name)
{
  pthread_setname_np(pthread_self(), name);
}

bool pargc_os_is_main_thread(void)
{
  return pargc_os_thread_id() == getpid();
}

bool pargc_os_thread_is_joinable(void)
{
  pthread_attr_t attr;
  int state = PTHREAD_CREATE_JOINABLE;
  if (pthread_getattr_np(pthread_self(), &attr) == 0) {
    pthread_attr_getdetachstate(&attr, &state);
    pthread_attr_destroy(&attr);
  }
  return state == PTHREAD_CREATE_JOINABLE;
}

char *pargc_os_thread_pointer(void)
{
#if defined(__x86_64__)
  char *tp;
  __asm__("mov %%fs:0, %0" : "=r"(tp)); /* the TCB points to itself */
  return tp;
#else
  return (char *)__builtin_thread_pointer();
#endif
}

/* ---- loaded objects: dl_iterate_phdr over the ELF program headers ---- */

struct each_object {
  int (*fn)(const struct pargc_os_object *o, void *arg);
  void *arg;
  uintptr_t vdso; /* the vdso's load address (the auxiliary vector's) */
};

static int each_object_phdr(struct dl_phdr_info *info, size_t size, void *arg)
{
  struct each_object *e = arg;
  (void)size;
  uintptr_t base = info->dlpi_addr;
  const char *name = info->dlpi_name ? info->dlpi_name : "";
  struct pargc_os_object o = {
      .name = name,
      .vdso = (e->vdso && base == e->vdso) || strstr(name, "linux-vdso") != NULL,
  };
  /* A handful of segments per object; the array lives on this stack
   * (no malloc: the caller may have stopped the world). */
  struct pargc_os_segment seg[info->dlpi_phnum ? info->dlpi_phnum : 1];
  for (int i = 0; i < info->dlpi_phnum; i++) {
    const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
    uintptr_t lo = base + ph->p_vaddr, hi = lo + ph->p_memsz;
    if (ph->p_type == PT_LOAD) {
      seg[o.nseg++] = (struct pargc_os_segment){lo, hi, (ph->p_flags & PF_W) != 0,
                                                 (ph->p_flags & PF_X) != 0};
    } else if (ph->p_type == PT_GNU_RELRO) {
      o.relro_lo = lo;
      o.relro_hi = hi;
    } else if (ph->p_type == PT_TLS) {
      o.tls_block = info->dlpi_tls_data;
      o.tls_size = ph->p_memsz;
      o.tls_align = ph->p_align ? ph->p_align : 1;
    }
  }
  o.seg = seg;
  return e->fn(&o, e->arg);
}

void pargc_os_each_object(int (*fn)(const struct pargc_os_object *o, void *arg), void *arg)
{
  struct each_object e = {fn, arg, getauxval(AT_SYSINFO_EHDR)};
  dl_iterate_phdr(each_object_phdr, &e);
}

void *pargc_os_next_symbol(const char *name)
{
  void *p = dlsym(RTLD_NEXT, name);
  if (!p)
    p = dlsym(RTLD_DEFAULT, name);
  if (!p)
    pargc_fatal("cannot find the real %s (dlsym: %s)", name, dlerror());
  return p;
}

void *pargc_os_library_open(const char *file)
{
  return dlopen(file, RTLD_LAZY | RTLD_LOCAL);
}

void *pargc_os_library_symbol(void *lib, const char *name)
{
  return lib ? dlsym(lib, name) : NULL;
}

void pargc_os_print_address_map(int out)
{
  int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof buf)) > 0)
    if (write(out, buf, (size_t)n) < 0)
      break;
  close(fd);
}
