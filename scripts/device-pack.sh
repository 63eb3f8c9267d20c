#!/bin/sh
# Packs what a run on a GPU machine needs into .device/ (ignored by git),
# so that one command there runs every check of the CUDA heap that wants
# a GPU: see docs/gpu.md, "On the device machine".
#
# The GPU binaries link the CUDA runtime statically, so they need only the
# C and C++ runtimes there.  Should they not start there anyway (an older
# glibc), device-run.sh rebuilds them from the sources that travel with the
# working tree, with the nvcc of that machine.
#
# Usage, from the repository root:  sh scripts/device-pack.sh [BUILD_DIR]
# BUILD_DIR (default build) must be configured with the GPU heap (nvcc
# found) and built: make && make check (builds tests/gpu/gpu_heap_test).
set -e
build=${1:-build}
dest=.device

for b in tests/gpu/gpu_heap_test bench/gpu/gpu_bench; do
  if [ ! -x "$build/$b" ]; then
    echo "device-pack: $build/$b is missing: configure with nvcc, then make && make check" >&2
    exit 1
  fi
done

rm -rf "$dest"
mkdir -p "$dest/bin"
cp "$build/tests/gpu/gpu_heap_test" "$build/bench/gpu/gpu_bench" "$dest/bin/"
cp scripts/device-run.sh "$dest/"

# GC scaling (full collections and GCBench, pargc and Boehm GC, 1 to 16
# threads), when they are built (make, make examples, make bench): the
# real binaries, not libtool's wrappers, with libpargc and every library
# they load but the ones every Linux has.
gc_bins="bench/.libs/fullgc-pargc bench/fullgc-bdwgc examples/.libs/gcbench examples/gcbench-bdwgc"
have_gc=yes
for b in $gc_bins .libs/libpargc.so.0; do
  [ -e "$build/$b" ] || have_gc=no
done
if [ $have_gc = yes ]; then
  mkdir -p "$dest/lib"
  for b in $gc_bins; do
    cp "$build/$b" "$dest/bin/"
  done
  cp -L "$build/.libs/libpargc.so.0" "$dest/lib/"
  for f in "$dest/bin/fullgc-pargc" "$dest/bin/fullgc-bdwgc" "$dest/bin/gcbench" "$dest/bin/gcbench-bdwgc"; do
    LD_LIBRARY_PATH="$dest/lib" ldd "$f" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'
  done | sort -u | while read -r lib; do
    case $(basename "$lib") in
      libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*|libstdc++.so.*|libgcc_s.so.*) ;;
      libpargc.so.*) ;;
      *) cp -L "$lib" "$dest/lib/" ;;
    esac
  done
else
  echo "device-pack: GC scaling binaries not built (make examples bench): that step will be skipped" >&2
fi

newest=$(objdump -T "$dest"/bin/* 2>/dev/null | grep -o 'GLIBC_2\.[0-9]*' | sort -t. -k2 -n -u | tail -1)
echo "device-pack: $(du -sh "$dest" | cut -f1) in $dest (newest glibc symbol: ${newest:-none})"
echo "device-pack: on the GPU machine, from the repository root: sh .device/device-run.sh (allow 10 minutes)"
ls -l "$dest/bin"
