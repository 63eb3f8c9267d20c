/* topology: hwloc discovery of NUMA nodes; see topology.h. */
#include "config.h"
#include "alloc/topology.h"
#include "alloc/os.h"
#include "alloc/report.h"

#include <hwloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

/* hwloc is loaded when first needed (a machine with several NUMA nodes,
 * PARGC_TOPOLOGY, the performance model's cache sizes), not linked: on a
 * machine with one node -- most -- the library and what it brings
 * (libudev, libm) would be mapped for nothing, some 500 KiB of resident
 * pages in every process, a fifth of a trivial program's footprint.
 * The functions come through pointers, and the few inline helpers of
 * hwloc.h that topology.c used are rewritten on them below. */
static struct {
  bool loaded;
  __typeof__(hwloc_get_api_version) *get_api_version;
  __typeof__(hwloc_topology_init) *topology_init;
  __typeof__(hwloc_topology_load) *topology_load;
  __typeof__(hwloc_topology_destroy) *topology_destroy;
  __typeof__(hwloc_topology_set_xml) *set_xml;
  __typeof__(hwloc_topology_set_synthetic) *set_synthetic;
  __typeof__(hwloc_get_type_depth) *get_type_depth;
  __typeof__(hwloc_get_nbobjs_by_depth) *get_nbobjs_by_depth;
  __typeof__(hwloc_get_obj_by_depth) *get_obj_by_depth;
  __typeof__(hwloc_bitmap_first) *bitmap_first;
  __typeof__(hwloc_bitmap_isincluded) *bitmap_isincluded;
} hw;

static pthread_once_t hw_once = PTHREAD_ONCE_INIT;

static void hw_open(void)
{
  void *lib = pargc_os_library_open(PARGC_HWLOC_LIBRARY);
  if (!lib) {
    pargc_warn("cannot load %s: NUMA topology unknown, one node assumed", PARGC_HWLOC_LIBRARY);
    return;
  }
#define HW_SYM(field, name) (hw.field = (__typeof__(hw.field))pargc_os_library_symbol(lib, #name))
  bool all = HW_SYM(get_api_version, hwloc_get_api_version) &&
             HW_SYM(topology_init, hwloc_topology_init) &&
             HW_SYM(topology_load, hwloc_topology_load) &&
             HW_SYM(topology_destroy, hwloc_topology_destroy) &&
             HW_SYM(set_xml, hwloc_topology_set_xml) &&
             HW_SYM(set_synthetic, hwloc_topology_set_synthetic) &&
             HW_SYM(get_type_depth, hwloc_get_type_depth) &&
             HW_SYM(get_nbobjs_by_depth, hwloc_get_nbobjs_by_depth) &&
             HW_SYM(get_obj_by_depth, hwloc_get_obj_by_depth) &&
             HW_SYM(bitmap_first, hwloc_bitmap_first) &&
             HW_SYM(bitmap_isincluded, hwloc_bitmap_isincluded);
#undef HW_SYM
  /* The structures pargc reads (hwloc_obj) are those of the headers it
   * was built with: the library must have the same major ABI. */
  if (!all || (hw.get_api_version() >> 16) != (HWLOC_API_VERSION >> 16)) {
    pargc_warn("%s is not the hwloc pargc was built for: NUMA topology unknown, one node assumed",
               PARGC_HWLOC_LIBRARY);
    return;
  }
  hw.loaded = true;
}

/* hwloc.h's inline hwloc_get_nbobjs_by_type and hwloc_get_obj_by_type. */
static int hw_nbobjs(hwloc_topology_t t, hwloc_obj_type_t type)
{
  int depth = hw.get_type_depth(t, type);
  if (depth == HWLOC_TYPE_DEPTH_UNKNOWN)
    return 0;
  if (depth == HWLOC_TYPE_DEPTH_MULTIPLE)
    return -1;
  return (int)hw.get_nbobjs_by_depth(t, depth);
}

static hwloc_obj_t hw_obj(hwloc_topology_t t, hwloc_obj_type_t type, unsigned idx)
{
  int depth = hw.get_type_depth(t, type);
  if (depth == HWLOC_TYPE_DEPTH_UNKNOWN || depth == HWLOC_TYPE_DEPTH_MULTIPLE)
    return NULL;
  return hw.get_obj_by_depth(t, depth, idx);
}

/* hwloc_get_nbobjs_inside_cpuset_by_type for PUs: those whose CPU set is
 * inside `set`. */
static int hw_pus_inside(hwloc_topology_t t, hwloc_const_cpuset_t set, int npus)
{
  int n = 0;
  for (int i = 0; i < npus; i++) {
    hwloc_obj_t pu = hw_obj(t, HWLOC_OBJ_PU, (unsigned)i);
    if (pu && pu->cpuset && hw.bitmap_isincluded(pu->cpuset, set))
      n++;
  }
  return n;
}

static bool topology_load(hwloc_topology_t *t, const char *spec)
{
  pthread_once(&hw_once, hw_open);
  if (!hw.loaded)
    return false;
  if (hw.topology_init(t) != 0)
    return false;
  if (spec && spec[0]) {
    size_t n = strlen(spec);
    bool xml = spec[0] == '/' || (n > 4 && strcmp(spec + n - 4, ".xml") == 0);
    int rc = xml ? hw.set_xml(*t, spec) : hw.set_synthetic(*t, spec);
    if (rc != 0) {
      pargc_warn("PARGC_TOPOLOGY=\"%s\" is not a valid hwloc %s topology; using the machine's",
                 spec, xml ? "XML" : "synthetic");
      hw.topology_destroy(*t);
      if (hw.topology_init(t) != 0)
        return false;
    }
  }
  if (hw.topology_load(*t) != 0) {
    hw.topology_destroy(*t);
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
    int npus = hw_nbobjs(t, HWLOC_OBJ_PU);
    nnodes = hw_nbobjs(t, HWLOC_OBJ_NUMANODE);
    if (nnodes < 1)
      nnodes = 1;
    if (nnodes > PARGC_MAX_NODES)
      nnodes = PARGC_MAX_NODES;
    for (int c = 0; c < ncpus && npus > 0; c++) {
      hwloc_obj_t pu = hw_obj(t, HWLOC_OBJ_PU, (unsigned)(c % npus));
      int node = 0;
      if (pu && pu->nodeset) {
        /* The PU's nodeset names the node(s) local to it: take the first,
         * as a logical index among the NUMA nodes. */
        int os_node = hw.bitmap_first(pu->nodeset);
        for (int i = 0; i < nnodes; i++) {
          hwloc_obj_t n = hw_obj(t, HWLOC_OBJ_NUMANODE, (unsigned)i);
          if (n && (int)n->os_index == os_node)
            node = i;
        }
      }
      map[c] = node;
    }
    hw.topology_destroy(t);
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
  int npus = hw_nbobjs(t, HWLOC_OBJ_PU);
  int nn = hw_nbobjs(t, HWLOC_OBJ_NUMANODE);
  *nodes = nn > 0 ? nn : 1;
  hwloc_obj_t pu = hw_obj(t, HWLOC_OBJ_PU, 0);
  for (hwloc_obj_t o = pu ? pu->parent : NULL; o; o = o->parent) {
    int level = o->type == HWLOC_OBJ_L1CACHE ? 1 : o->type == HWLOC_OBJ_L2CACHE ? 2
              : o->type == HWLOC_OBJ_L3CACHE ? 3 : 0;
    if (!level || !o->attr)
      continue;
    bytes[level - 1] = o->attr->cache.size;
    ways[level - 1] = o->attr->cache.associativity > 0 ? (unsigned)o->attr->cache.associativity : 0;
    line[level - 1] = o->attr->cache.linesize;
    if (level == 3)
      *l3_shared = hw_pus_inside(t, o->cpuset, npus) >= npus;
  }
  hw.topology_destroy(t);
  return npus > 0 ? npus : 1;
}
