/* topology_map: the CPU -> node map both topology back ends fill
 * (topology.c from hwloc, topology_sysfs.c from sysfs), and the queries
 * on it; see topology.h. */
#include "config.h"
#include "alloc/topology.h"

#include <sched.h>
#include <stdlib.h>

static int map_nnodes = 1;
static int map_ncpus;
static int *map_cpu_node;

void pargc_topology_set_map(int *map, int ncpus, int nnodes)
{
  int *old = map_cpu_node;
  map_cpu_node = map;
  map_ncpus = ncpus;
  map_nnodes = nnodes;
  free(old);
}

int pargc_topology_nodes(void)
{
  return map_nnodes;
}

int pargc_topology_node_of_cpu(int cpu)
{
  if (cpu < 0 || cpu >= map_ncpus || !map_cpu_node)
    return 0;
  return map_cpu_node[cpu];
}

int pargc_topology_current_node(void)
{
  return pargc_topology_node_of_cpu(sched_getcpu());
}
