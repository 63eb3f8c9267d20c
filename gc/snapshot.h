/* snapshot: the heap as a collection saw it, written to a file for the
 * performance model (gc/model.h, the pargc-predict program).
 *
 * A snapshot holds the objects the collection marked (address, size,
 * kind, the memory node of their page), the pointer edges between them
 * found by scanning each marked object the way the conservative marker
 * does, and the edges from the roots.  It is what the model's
 * pseudo-mark walks: the live volume, the shape of the object graph and
 * where the lines it touches live.  The format is versioned, and
 * described byte by byte in docs/snapshot.md.
 *
 * This module is the format's reading side and needs nothing of the
 * collector: pargc_snapshot_load / pargc_snapshot_free and an in-memory
 * builder, plain malloc, for programs and tests (never inside a
 * collection).  Writing the live heap is gc/snapshot_write.h.
 *
 * Invariants of a loaded snapshot:
 *  - objects are in address order; object ids are indices 0..n-1;
 *  - edge_start has n + 1 entries, edges of object i are
 *    edge[edge_start[i] .. edge_start[i + 1]), in scan order, each a
 *    marked object's id (an edge may repeat, as the words do);
 *  - atomic objects have no edges; root[] are object ids.
 */
#ifndef PARGC_SNAPSHOT_H
#define PARGC_SNAPSHOT_H
#ifndef PARGC_BUILDING
#error "gc/snapshot.h is internal to pargc"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PARGC_SNAPSHOT_MAGIC "PARGCSNP"
#define PARGC_SNAPSHOT_VERSION 1u
#define PARGC_SNAPSHOT_HEADER_BYTES 96u

/* The fixed header at the start of the file (docs/snapshot.md),
 * little-endian; the writer fills it last. */
struct pargc_snapshot_header {
  char magic[8];
  uint32_t version, header_bytes;
  uint64_t gc_no, live_bytes, objects, edges, roots, root_words, page_size;
  uint32_t spans, nodes;
  uint64_t body_bytes, checksum; /* body length, its 64-bit FNV-1a */
};
_Static_assert(sizeof(struct pargc_snapshot_header) == PARGC_SNAPSHOT_HEADER_BYTES,
               "the header's layout is the format's");

/* Flags of an object in a loaded snapshot. */
enum {
  PARGC_SNAP_SCANNED = 1, /* its words are scanned (not atomic) */
  PARGC_SNAP_LARGE = 2,   /* a large object (a run of its own) */
};

struct pargc_snapshot {
  uint32_t version;
  uint64_t gc_no;        /* the collection that wrote it */
  uint64_t live_bytes;   /* sum of the objects' sizes */
  uint64_t root_words;   /* words of root ranges scanned */
  uint64_t page_size;    /* the heap's page (span granule) */
  uint32_t nodes;        /* memory nodes of the topology it ran on */
  uint32_t spans;        /* spans and large runs holding live objects */
  size_t n;              /* objects */
  size_t nedges, nroots;
  uint64_t *addr;        /* [n] address */
  uint32_t *size;        /* [n] bytes */
  uint8_t *kind;         /* [n] the collector's kind number */
  uint8_t *flags;        /* [n] PARGC_SNAP_* */
  uint16_t *node;        /* [n] memory node of the object's page */
  uint64_t *edge_start;  /* [n + 1] */
  uint32_t *edge;        /* [nedges] */
  uint32_t *root;        /* [nroots] */
  size_t edge_cap, root_cap; /* while built in memory */
};

/* Load a snapshot; NULL with a one-line reason in err (when not NULL)
 * if the file is missing, truncated, of another version or corrupt. */
struct pargc_snapshot *pargc_snapshot_load(const char *path, char *err, size_t errlen);
void pargc_snapshot_free(struct pargc_snapshot *s);

/* Build a snapshot in memory (tests and the calibration's synthetic
 * heaps): n objects of the given sizes and flags on node 0, no edges;
 * add edges and roots with the helpers below, in object order, then
 * seal it.  Addresses are laid out densely from 1 GiB. */
struct pargc_snapshot *pargc_snapshot_new(size_t n, const uint32_t *size, const uint8_t *flags);
void pargc_snapshot_add_edge(struct pargc_snapshot *s, uint32_t from, uint32_t to);
void pargc_snapshot_add_root(struct pargc_snapshot *s, uint32_t to);
void pargc_snapshot_seal(struct pargc_snapshot *s);
/* Write an in-memory snapshot in the file format (tests). */
bool pargc_snapshot_save(const struct pargc_snapshot *s, const char *path);

/* The body's checksum, 64-bit FNV-1a: start from PARGC_SNAPSHOT_SUM0 and
 * fold every byte in order with pargc_snapshot_sum_byte. */
#define PARGC_SNAPSHOT_SUM0 0xcbf29ce484222325ull
static inline uint64_t pargc_snapshot_sum_byte(uint64_t sum, uint8_t b)
{
  return (sum ^ b) * 0x100000001b3ull;
}

#endif
