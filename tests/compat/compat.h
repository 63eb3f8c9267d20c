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

#endif
