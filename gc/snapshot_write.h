/* snapshot_write: the collector's side of heap snapshots (gc/snapshot.h
 * has the format and the reader; docs/snapshot.md the bytes).
 *
 * Writing: PARGC_SNAPSHOT=FILE (see docs/environment.md) or
 * pargc_snapshot_request.  The collector calls pargc_snapshot_collection
 * once the mark is complete (gc/collect.c, end phase, world stopped,
 * before the after-mark hooks), so the snapshot's live bytes are the
 * collection's `live_bytes` statistic.  The writer runs in the stopped
 * world: it takes no lock a mutator may hold -- scratch memory comes
 * from pargc_os_alloc_meta, the file is written with open/write.
 */
#ifndef PARGC_SNAPSHOT_WRITE_H
#define PARGC_SNAPSHOT_WRITE_H
#ifndef PARGC_BUILDING
#error "gc/snapshot_write.h is internal to pargc"
#endif

#include <stdbool.h>
#include <stdint.h>

/* Ask the next collection to write a snapshot to `path` (copied; "%n"
 * becomes the collection number, "%p" the process id).  Overrides
 * PARGC_SNAPSHOT for that one collection.  NULL cancels a request. */
void pargc_snapshot_request(const char *path);

/* The collector's hook: world stopped, marks complete, collection lock
 * held.  `gc_no` is the number this collection will have.  Writes a
 * snapshot when PARGC_SNAPSHOT or a request says so; cheap otherwise.
 * Returns true when one was written. */
bool pargc_snapshot_collection(uint64_t gc_no);

/* Write a snapshot of the current marks to `path` now (world stopped,
 * marks complete).  false, with errno set, when the file cannot be
 * written. */
bool pargc_snapshot_write(const char *path, uint64_t gc_no);

#endif
