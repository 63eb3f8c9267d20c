/* topology: hwloc discovery of NUMA nodes; see topology.h. */
#include "config.h"
#include "alloc/topology.h"
#include "alloc/os.h"
#include "alloc/report.h"

#include <hwloc.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

/* cpu -> node for the real machine's CPUs, filled once. */

static bool topology_load(hwloc_topology_t *t, const char *spec)
{
  if (hwloc_topology_init(t) != 0)
    return false;
  if (spec && spec[0]) {
    size_t n = strlen(spec);
    bool xml = spec[0] == '/' || (n > 4 && strcmp(spec + n - 4, ".xml") == 0);
    int rc = xml ? hwloc_topology_set_xml(*t, spec)
                 : hwloc_topology_set_synthetic(*t, spec);
    if (rc != 0) {
      pargc_warn("PARGC_TOPOLOGY=\"%s\" is not a valid hwloc %s topology; using the machine's",
                 spec, xml ? "XML" : "synthetic");
      hwloc_topology_destroy(*t);
      if (hwloc_topology_init(t) != 0)
        return false;
    }
  }
  if (hwloc_topology_load(*t) != 0) {
    hwloc_topology_destroy(*t);
    return false;
  }
  return true;
}

void pargc_topology_init(const char *spec)
{
  int ncpus = pargc_os_ncpus();
  int *map = calloc((size_t)ncpus, sizeof *map);
  if (!map)
    pargc_fatal("out of memory reading the topology");
  int nnodes = 1;
  hwloc_topology_t t;
  /* One node, as the kernel says, and no topology to substitute: every
   * CPU is on node 0, and hwloc need not run at all.  Loading it costs
   * a few milliseconds and a megabyte of resident memory for good (its
   * plugins bring in libstdc++), which is an eighth of a small
   * program's footprint. */
  bool single = (!spec || !spec[0]) && pargc_os_numa_nodes() == 1;
  if (!single && topology_load(&t, spec)) {
    int npus = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU);
    nnodes = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE);
    if (nnodes < 1)
      nnodes = 1;
    if (nnodes > PARGC_MAX_NODES)
      nnodes = PARGC_MAX_NODES;
    for (int c = 0; c < ncpus && npus > 0; c++) {
      hwloc_obj_t pu = hwloc_get_obj_by_type(t, HWLOC_OBJ_PU, (unsigned)(c % npus));
      int node = 0;
      if (pu && pu->nodeset) {
        /* The PU's nodeset names the node(s) local to it: take the first,
         * as a logical index among the NUMA nodes. */
        int os_node = hwloc_bitmap_first(pu->nodeset);
        for (int i = 0; i < nnodes; i++) {
          hwloc_obj_t n = hwloc_get_obj_by_type(t, HWLOC_OBJ_NUMANODE, (unsigned)i);
          if (n && (int)n->os_index == os_node)
            node = i;
        }
      }
      map[c] = node;
    }
    hwloc_topology_destroy(t);
  }
  pargc_topology_set_map(map, ncpus, nnodes);
}


int pargc_topology_caches(const char *spec, uint64_t bytes[3], unsigned ways[3], unsigned line[3],
                          bool *l3_shared, int *nodes)
{
  for (int i = 0; i < 3; i++)
    bytes[i] = 0, ways[i] = 0, line[i] = 0;
  *l3_shared = false;
  *nodes = 1;
  hwloc_topology_t t;
  if (!topology_load(&t, spec))
    return 0;
  int npus = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_PU);
  int nn = hwloc_get_nbobjs_by_type(t, HWLOC_OBJ_NUMANODE);
  *nodes = nn > 0 ? nn : 1;
  hwloc_obj_t pu = hwloc_get_obj_by_type(t, HWLOC_OBJ_PU, 0);
  for (hwloc_obj_t o = pu ? pu->parent : NULL; o; o = o->parent) {
    int level = o->type == HWLOC_OBJ_L1CACHE ? 1 : o->type == HWLOC_OBJ_L2CACHE ? 2
              : o->type == HWLOC_OBJ_L3CACHE ? 3 : 0;
    if (!level || !o->attr)
      continue;
    bytes[level - 1] = o->attr->cache.size;
    ways[level - 1] = o->attr->cache.associativity > 0 ? (unsigned)o->attr->cache.associativity : 0;
    line[level - 1] = o->attr->cache.linesize;
    if (level == 3)
      *l3_shared = hwloc_get_nbobjs_inside_cpuset_by_type(t, o->cpuset, HWLOC_OBJ_PU) >= npus;
  }
  hwloc_topology_destroy(t);
  return npus > 0 ? npus : 1;
}
