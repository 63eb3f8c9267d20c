/* topology_sysfs: topology.h without hwloc, from the kernel's sysfs.
 *
 * libpargc-malloc is loaded into every process a user starts with it, so
 * it does not bring hwloc in (a dozen libraries, their relocations and
 * pages at every exec for what a few sysfs reads answer).  Node n's CPUs
 * are listed in /sys/devices/system/node/node<n>/cpulist ("0-3,8-11");
 * nodes are numbered here in the order of their kernel numbers.  Without
 * sysfs, or with one node, every CPU is on node 0.  PARGC_TOPOLOGY (an
 * hwloc description, for tests) needs topology.c and is not read.
 */
#include "config.h"
#include "alloc/topology.h"
#include "alloc/os.h"
#include "alloc/report.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>


/* Mark the CPUs of `list` ("0-3,8,10-11") as being on `node`. */
static void sysfs_read_cpulist(FILE *f, int node, int *map, int ncpus)
{
  int lo, hi, c;
  while (fscanf(f, "%d", &lo) == 1) {
    hi = lo;
    c = fgetc(f);
    if (c == '-') {
      if (fscanf(f, "%d", &hi) != 1)
        return;
      c = fgetc(f);
    }
    for (int cpu = lo; cpu <= hi && cpu < ncpus; cpu++)
      if (cpu >= 0)
        map[cpu] = node;
    if (c != ',')
      return;
  }
}

void pargc_topology_init(const char *spec)
{
  if (spec && spec[0])
    pargc_warn("PARGC_TOPOLOGY is not read by this library (no hwloc); using the machine's");
  int ncpus = pargc_os_ncpus();
  int *map = calloc((size_t)ncpus, sizeof *map);
  if (!map)
    pargc_fatal("out of memory reading the topology");
  int nnodes = 1;
  if (pargc_os_numa_nodes() > 1) {
    nnodes = 0;
    /* Kernel node numbers may have gaps: try them in order. */
    for (int k = 0; k < 4 * PARGC_MAX_NODES && nnodes < PARGC_MAX_NODES; k++) {
      char path[64];
      snprintf(path, sizeof path, "/sys/devices/system/node/node%d/cpulist", k);
      FILE *f = fopen(path, "r");
      if (!f)
        continue;
      sysfs_read_cpulist(f, nnodes, map, ncpus);
      fclose(f);
      nnodes++;
    }
    if (nnodes < 1)
      nnodes = 1;
  }
  pargc_topology_set_map(map, ncpus, nnodes);
}

