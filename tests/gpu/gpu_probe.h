/* gpu_probe.h -- is there a CUDA device this program can use?  Shared by
 * the GPU test and the GPU benchmark.
 *
 * cudaGetDeviceCount fails for several reasons, and only some of them
 * mean "no GPU here": the likely one on a machine with a GPU is a driver
 * older than the runtime the program was built with (CUDA 13 needs a
 * 580-series driver), which must be a failure, not a skip.  So the probe
 * reports the runtime's error by name, the runtime and driver versions,
 * and whether GPU hardware is visible (an NVIDIA device node or the
 * driver's /proc entry), and decides:
 *   0   usable (*ndev devices);
 *   77  no GPU hardware and no usable driver: skip (automake's code);
 *   1   a GPU is there but CUDA cannot use it, or an unexpected error:
 *       fail, with the reason on stderr.
 */
#ifndef PARGC_TESTS_GPU_PROBE_H
#define PARGC_TESTS_GPU_PROBE_H

#include <cuda_runtime.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Does the machine show NVIDIA GPU hardware, whatever CUDA says? */
static int gpu_probe_hardware(void)
{
  if (access("/dev/nvidia0", F_OK) == 0 || access("/dev/nvidiactl", F_OK) == 0)
    return 1;
  DIR *d = opendir("/proc/driver/nvidia/gpus");
  if (!d)
    return 0;
  int n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    n += e->d_name[0] != '.';
  closedir(d);
  return n > 0;
}

static int gpu_probe(int *ndev, const char *who)
{
  int rt = 0, drv = 0;
  *ndev = 0;
  cudaError_t e = cudaGetDeviceCount(ndev);
  cudaRuntimeGetVersion(&rt);
  cudaDriverGetVersion(&drv);        /* 0 when no driver is loaded */
  if (e == cudaSuccess && *ndev > 0)
    return 0;
  int hw = gpu_probe_hardware();
  fprintf(stderr, "%s: cudaGetDeviceCount: %s (%s); %d device(s); runtime %d.%d, driver %s%d.%d; "
          "GPU hardware %s\n", who, cudaGetErrorName(e), cudaGetErrorString(e), *ndev,
          rt / 1000, rt % 1000 / 10, drv ? "supports CUDA " : "none, ", drv / 1000,
          drv % 1000 / 10, hw ? "present" : "not found");
  if (e == cudaErrorInsufficientDriver && drv > 0)
    fprintf(stderr, "%s: the driver is too old for this program (built for CUDA %d.%d, the driver "
            "supports %d.%d): update the driver or build with an older toolkit\n", who,
            rt / 1000, rt % 1000 / 10, drv / 1000, drv % 1000 / 10);
  if (hw) {
    fprintf(stderr, "%s: a GPU is present but unusable: failing rather than skipping\n", who);
    return 1;
  }
  if (e == cudaSuccess || e == cudaErrorNoDevice ||
      (e == cudaErrorInsufficientDriver && drv == 0)) {
    printf("SKIP: no CUDA device (%s)\n", cudaGetErrorName(e));
    return 77;
  }
  return 1;
}

#endif
