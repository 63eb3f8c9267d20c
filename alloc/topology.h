/* topology: which NUMA node a thread runs on, discovered once with hwloc.
 *
 * LPS keeps page pools per NUMA node and prefers pages of the caller's
 * node; this module answers "how many nodes" and "which node is CPU c
 * on".  PARGC_TOPOLOGY replaces the machine's topology with an hwloc
 * synthetic description or an XML file, which is how the multi-node
 * logic is tested on a single-node machine.  CPU c of the real machine
 * maps to processing unit (c mod PUs) of the loaded topology.
 */
#ifndef PARGC_TOPOLOGY_H
#define PARGC_TOPOLOGY_H
#ifndef PARGC_BUILDING
#error "alloc/topology.h is internal to pargc"
#endif

#include <stdbool.h>
#include <stdint.h>

#define PARGC_MAX_NODES 64

/* Load the topology (spec: "" for the machine, else synthetic or XML).
 * Safe to call again with another spec (tests do). */
void pargc_topology_init(const char *spec);
int pargc_topology_nodes(void);
int pargc_topology_node_of_cpu(int cpu);
/* Node of the CPU the calling thread runs on now. */
int pargc_topology_current_node(void);
/* For the discovery back ends (topology.c with hwloc, topology_sysfs.c
 * for libpargc-malloc): install map[cpu] = node for ncpus CPUs (malloc'd,
 * owned from now on; the previous map is freed) over nnodes nodes. */
void pargc_topology_set_map(int *map, int ncpus, int nnodes);

/* The data caches above the first processing unit, levels 1..3, for the
 * performance model (gc/model.h): bytes, associativity and line size
 * (0 where hwloc does not know), and whether the level-3 cache is
 * shared by every PU.  Loads the topology (spec as for init) each call:
 * a few milliseconds, so never on a collection's path.  Returns the
 * number of PUs, 0 if hwloc could not load it. */
int pargc_topology_caches(const char *spec, uint64_t bytes[3], unsigned ways[3], unsigned line[3],
                          bool *l3_shared, int *nodes);

#endif
