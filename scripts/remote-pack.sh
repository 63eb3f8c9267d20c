#!/bin/sh
# Packs what the checks on a GPU machine need into a directory and a
# tarball, so that one command there runs every check of the CUDA heap
# that wants a GPU, and the collector's many-core scaling: see
# docs/gpu.md, "Running the checks on a GPU machine".
#
# The pack holds the binaries, remote-run.sh and the sources of the GPU
# binaries.  The GPU binaries link the CUDA runtime statically, so they
# need only the C and C++ runtimes there; should they not start there
# anyway (an older glibc), remote-run.sh rebuilds them from the packed
# sources with that machine's nvcc.
#
# Usage, from the repository root:
#   sh scripts/remote-pack.sh [BUILD_DIR [PACK_DIR]]
# BUILD_DIR (default build) must be configured with the GPU heap (nvcc
# found) and built: make && make check (builds tests/gpu/gpu_heap_test).
# PACK_DIR (default remote-pack) is replaced; PACK_DIR.tar.gz is written
# beside it.
set -e
build=${1:-build}
dest=${2:-remote-pack}
name=$(basename "$dest")

for b in tests/gpu/gpu_heap_test bench/gpu/gpu_bench; do
  if [ ! -x "$build/$b" ]; then
    echo "remote-pack: $build/$b is missing: configure with nvcc, then make && make check" >&2
    exit 1
  fi
done

rm -rf "$dest" "$dest.tar.gz"
mkdir -p "$dest/bin"
cp "$build/tests/gpu/gpu_heap_test" "$build/bench/gpu/gpu_bench" "$dest/bin/"
cp scripts/remote-run.sh "$dest/"

# The sources remote-run.sh --build compiles, laid out as in the
# repository.
mkdir -p "$dest/src/tests/gpu" "$dest/src/bench/gpu"
cp -R include gpu "$dest/src/"
cp tests/check.h "$dest/src/tests/"
cp tests/gpu/*.cu tests/gpu/*.h "$dest/src/tests/gpu/"
cp bench/gpu/gpu_bench.cu "$dest/src/bench/gpu/"

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
  echo "remote-pack: GC scaling binaries not built (make examples bench): that step will be skipped" >&2
fi

tar -C "$(dirname "$dest")" -czf "$dest.tar.gz" "$name"
newest=$(objdump -T "$dest"/bin/* 2>/dev/null | grep -o 'GLIBC_2\.[0-9]*' | sort -t. -k2 -n -u | tail -1)
echo "remote-pack: $(du -sh "$dest" | cut -f1) in $dest, $(du -sh "$dest.tar.gz" | cut -f1) in $dest.tar.gz (newest glibc symbol: ${newest:-none})"
echo "remote-pack: on the GPU machine: tar xzf $name.tar.gz && sh $name/remote-run.sh [RESULTS_DIR] (allow 10 minutes)"
ls -l "$dest/bin"
