#!/bin/sh
# Runs the GPU benchmark and writes its rows to results/gpu-bench-<date>.csv
# (impl,op,size,threads,ops_per_s; docs/gpu.md explains the columns), with
# the date and the GPU in comment lines.  On a GPU machine lent for a few
# minutes use scripts/remote-run.sh instead (docs/gpu.md), which runs it
# in parts under time limits.
# Usage, from a configured build directory:  sh ../bench/gpu/run.sh [gpu_bench options]
set -e
out=results/gpu-bench-$(date -u +%Y%m%dT%H%MZ).csv
mkdir -p results
{
  echo "# date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | sed 's/^/# GPU: /'
  echo "impl,op,size,threads,ops_per_s"
} >"$out"
./bench/gpu/gpu_bench --csv "$out" "$@"
echo "written: $out"
