#!/bin/sh
# Runs the GPU benchmark and writes the table to results/gpu-bench-<date>.md,
# with the date and the GPU's name (docs/gpu.md explains the columns).
# Usage, from a configured build directory:  sh ../bench/gpu/run.sh [gpu_bench options]
set -e
out=results/gpu-bench-$(date -u +%Y%m%dT%H%MZ).md
mkdir -p results
{
  echo "Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | sed 's/^/GPU: /'
  echo
  ./bench/gpu/gpu_bench "$@"
} | tee "$out"
echo "written: $out"
