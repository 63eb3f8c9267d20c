/* compat.h: helpers shared by the Boehm API compatibility programs.
 *
 * These programs are written against Boehm GC's API only (no pargc.h),
 * so that each one can be compiled against either header set and linked
 * against either library.  A conservative collector may keep an object
 * alive through a stale copy of its address on the stack or in a
 * register, so tests never require ONE particular object to be
 * collected; they allocate many and require most of them to go
 * (COMPAT_MOSTLY), or they hide the address (GC_HIDE_POINTER) and
 * create objects in separate, non-inlined functions whose frames are
 * wiped afterwards (compat_wipe_stack). */
#ifndef PARGC_TESTS_COMPAT_H
#define PARGC_TESTS_COMPAT_H

#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"

#define COMPAT_NOINLINE __attribute__((noinline, unused))

/* At least 80% of n: what "most objects were collected" means here. */
#define COMPAT_MOSTLY(count, n) ((count) * 5 >= (n) * 4)

/* Overwrite a chunk of stack below the caller, where earlier callees left
 * copies of pointers. */
static COMPAT_NOINLINE void compat_wipe_stack(void) {
  volatile char buf[16384];
  memset((char *)buf, 0, sizeof buf);
  __asm__ __volatile__("" : : "r"(buf) : "memory");
}

/* Collect and run finalizers a few times: finalization of chains needs
 * one cycle per link, and finalizers may run lazily. */
static COMPAT_NOINLINE void compat_collect(int rounds) {
  for (int i = 0; i < rounds; i++) {
    compat_wipe_stack();
    GC_gcollect();
    GC_invoke_finalizers();
  }
}

/* Run fn() in a child process whose stdout and stderr go into buf (at
 * most cap - 1 bytes, NUL-terminated); return the child's exit status
 * (128 + signal if it was killed).  For tests of what the collector
 * prints.  Call it before the parent initialises the collector. */
static __attribute__((unused)) int compat_capture(void (*fn)(void), char *buf, size_t cap) {
  int fds[2];
  if (pipe(fds) != 0) return -1;
  fflush(stdout);
  fflush(stderr);
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    fn();
    fflush(stdout);
    fflush(stderr);
    _exit(0);
  }
  close(fds[1]);
  size_t len = 0;
  ssize_t got;
  while ((got = read(fds[0], buf + len, cap - 1 - len)) > 0) len += (size_t)got;
  buf[len] = 0;
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

#endif
