#!/bin/sh
# Packs what a run on the device machine needs into .device/ (ignored by
# git), so that one call of the device tool can run every check that
# wants a GPU or more cores than this machine has: see docs/gpu.md, "On
# the device machine".
#
# That machine can fetch nothing and has no libgc, hwloc or libatomic_ops,
# so the binaries are built here and travel with every shared library
# they need beyond the C and C++ runtimes.  Built against glibc 2.34 or
# older symbols (checked below), they run there.
#
# Usage, from the repository root:  sh scripts/device-pack.sh [BUILD_DIR]
# BUILD_DIR (default build) must be configured with the GPU heap (nvcc
# found) and built: make && make check (builds tests/gpu/gpu_heap_test).
set -e
build=${1:-build}
dest=.device

need() {
  if [ ! -e "$build/$1" ]; then
    echo "device-pack: $build/$1 is missing: build it first (make, make examples, make check)" >&2
    exit 1
  fi
}

# The real binaries, not libtool's wrapper scripts where there is one.
bins="tests/gpu/gpu_heap_test bench/gpu/gpu_bench bench/.libs/fullgc-pargc
      bench/fullgc-bdwgc examples/.libs/gcbench examples/gcbench-bdwgc"
for b in $bins; do
  need "$b"
done
need .libs/libpargc.so.0

rm -rf "$dest"
mkdir -p "$dest/bin" "$dest/lib"
for b in $bins; do
  cp "$build/$b" "$dest/bin/"
done
cp -L "$build/.libs/libpargc.so.0" "$dest/lib/"
cp scripts/device-run.sh "$dest/"

# Every library the binaries load, but the ones every Linux has.
for f in "$dest"/bin/* "$dest/lib/libpargc.so.0"; do
  LD_LIBRARY_PATH="$dest/lib" ldd "$f" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'
done | sort -u | while read -r lib; do
  case $(basename "$lib") in
    libc.so.*|libm.so.*|libpthread.so.*|libdl.so.*|librt.so.*|ld-linux*|libstdc++.so.*|libgcc_s.so.*) ;;
    libpargc.so.*) ;;
    *) cp -L "$lib" "$dest/lib/" ;;
  esac
done

newest=$(for f in "$dest"/bin/* "$dest"/lib/*; do objdump -T "$f" 2>/dev/null; done |
         grep -o 'GLIBC_2\.[0-9]*' | sort -t. -k2 -n -u | tail -1)
case $newest in
  GLIBC_2.3[5-9]|GLIBC_2.[4-9]*)
    echo "device-pack: the binaries need $newest; the device machine may have an older glibc" >&2 ;;
esac
echo "device-pack: $(du -sh "$dest" | cut -f1) in $dest (newest glibc symbol: $newest)"
ls "$dest/bin" "$dest/lib"
