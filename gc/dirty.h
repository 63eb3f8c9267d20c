/* dirty: which heap cards were written while a concurrent mark ran.
 *
 * The mostly-concurrent collector (concurrent.h) marks while the program
 * runs, so a marked object may be written after the marker scanned it.
 * Its final stop rescans what was written: every marked object on a
 * dirty card (4 KiB; the bits live in the page map, pagemap.h).  Three
 * ways to learn what was written, chosen by PARGC_BARRIER:
 *
 *   mprotect    every span of a scanned kind is write-protected when the
 *               mark starts; the first write to a page faults, and the
 *               SIGSEGV handler makes the page writable and marks its
 *               cards dirty.  System calls that write into a protected
 *               page would fail with EFAULT instead of faulting, so
 *               pargc's read(), pread(), readv(), recv(), recvfrom() and
 *               recvmsg() receive into a bounce buffer when the
 *               destination is a scanned heap page.
 *   soft-dirty  the kernel's soft-dirty bits (/proc/self/clear_refs and
 *               /proc/self/pagemap, bit 55): cleared when the mark
 *               starts, read at the final stop.  No faults, and writes
 *               by system calls count; needs CONFIG_MEM_SOFT_DIRTY,
 *               detected at start-up.
 *   manual      the program reports its stores (GC_end_stubborn_change,
 *               GC_ptr_store_and_dirty), Boehm GC's manual dirty bits.
 *
 *   auto        (default) manual if the program allowed it
 *               (GC_set_manual_vdb_allowed), else mprotect.  Not
 *               soft-dirty: its bits cannot be read and cleared at once
 *               while the program runs, so it has no pre-cleaning, and
 *               its final stop rescans every page written in the cycle.
 *
 * In every mode the allocator also dirties the spans it hands out while
 * a concurrent mark runs (thread.h, allocate black), so the stores that
 * initialise new objects need no report.
 *
 * Invariant while tracking (mprotect): every page of a scanned kind is
 * write-protected or has its cards dirty.  The fault handler unprotects
 * first and dirties second; pre-cleaning takes the bits first, protects
 * second and scans third -- in every interleaving a write either faults
 * again or is seen by the scan or leaves the page dirty.
 */
#ifndef PARGC_GC_DIRTY_H
#define PARGC_GC_DIRTY_H
#ifndef PARGC_BUILDING
#error "gc/dirty.h is internal to pargc"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum pargc_barrier {
  PARGC_BARRIER_MPROTECT = 1,
  PARGC_BARRIER_SOFT_DIRTY,
  PARGC_BARRIER_MANUAL,
};

/* Choose the barrier from PARGC_BARRIER (and GC_set_manual_vdb_allowed);
 * probe soft-dirty; install the fault handler for mprotect.  Idempotent;
 * the mode is fixed by the first call. */
void pargc_dirty_init(void);
enum pargc_barrier pargc_dirty_barrier(void);

/* World running, just before a concurrent mark's first stop: protect
 * the pages of scanned spans (mprotect; nothing for the others), so that
 * the stop has little left to do. */
void pargc_dirty_prepare(void);
/* World running, just after the final stop: make the heap writable again
 * (mprotect), so that the program takes no faults between cycles. */
void pargc_dirty_release(void);
/* World stopped, as a concurrent mark starts: forget old dirty bits and
 * start tracking (protect the scanned spans written since prepare, or
 * clear soft-dirty). */
void pargc_dirty_start(void);

/* Called for each page with dirty cards: its index and the bit mask of
 * its 16 cards. */
typedef void (*pargc_dirty_page_fn)(size_t page, unsigned cards);

/* Can dirty pages be taken while the program runs (pre-cleaning)?  True
 * for mprotect (pages are protected again), false for soft-dirty and
 * manual. */
bool pargc_dirty_can_preclean(void);
/* World running: take the pages dirtied so far (clear, protect again)
 * and call fn for each; returns how many. */
size_t pargc_dirty_preclean(pargc_dirty_page_fn fn);
/* World stopped, at the final stop: take every dirty page, call fn for
 * each, stop tracking (unprotect everything); returns how many. */
size_t pargc_dirty_finish(pargc_dirty_page_fn fn);

/* Write faults handled since start-up (mprotect). */
uint64_t pargc_dirty_faults(void);

/* Manual dirty bits: the object containing p changed (all of it), or the
 * word at p changed.  Cheap no-ops while no concurrent mark runs. */
void pargc_dirty_object(const void *p);
void pargc_dirty_word(const void *p);

/* GC_set_manual_vdb_allowed: with PARGC_BARRIER=auto, choose manual
 * (takes effect if called before the barrier is chosen). */
void pargc_dirty_allow_manual(bool on);
bool pargc_dirty_manual_allowed(void);

/* After fork in the child: nothing is protected, nothing tracked. */
void pargc_dirty_after_fork_child(void);

#endif
