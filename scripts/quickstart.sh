#!/usr/bin/env bash
# quickstart.sh demo|test -- the README's two commands.
#
# Installs whatever Debian packages are missing (needs root), bootstraps,
# configures and builds pargc in ./build, then either runs a real example
# with its GC statistics (demo) or runs the whole test suite (test).
set -euo pipefail
mode=${1:-demo}
cd "$(dirname "$0")/.."

packages="build-essential autoconf automake libtool pkg-config libhwloc-dev libgc-dev libmimalloc-dev"
missing=""
for p in $packages; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  echo "quickstart: installing$missing"
  if [ "$(id -u)" -ne 0 ]; then
    echo "quickstart: run as root (or install:$missing)" >&2
    exit 1
  fi
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing
fi

# The test suite also runs real Boehm GC clients, unchanged, on libpargc
# (tests/compat/guile_test.sh, w3m_test.sh, ecl_test.sh, poke_test.sh,
# crystal_test.sh, asy_test.sh); each is skipped where its program is
# missing, so installing them is worth a try, not a must.  Asymptote
# without its recommended packages (a TeX installation it does not need
# for the test).
if [ "$mode" = test ] && [ "$(id -u)" -eq 0 ]; then
  clients=""
  for p in guile-3.0 w3m ecl poke crystal; do
    dpkg -s "$p" >/dev/null 2>&1 || clients="$clients $p"
  done
  if [ -n "$clients" ]; then
    echo "quickstart: installing Boehm GC clients for the tests:$clients"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $clients ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $clients; } ||
      echo "quickstart: could not install$clients; their tests will be skipped"
  fi
  if ! dpkg -s asymptote >/dev/null 2>&1; then
    echo "quickstart: installing Boehm GC clients for the tests: asymptote"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends asymptote ||
      { apt-get update -qq &&
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends asymptote; } ||
      echo "quickstart: could not install asymptote; its test will be skipped"
  fi
fi

jobs=$(nproc 2>/dev/null || echo 2)
[ -x configure ] || ./autogen.sh
mkdir -p build
cd build
[ -f Makefile ] || ../configure --quiet
make -j"$jobs" >/dev/null

case "$mode" in
  demo)
    make -j"$jobs" examples >/dev/null
    echo "quickstart: running examples/gcbench on $jobs threads"
    GC_PRINT_STATS=1 ./examples/gcbench -t "$jobs"
    ;;
  test)
    make -j"$jobs" check
    ;;
  *)
    echo "usage: $0 demo|test" >&2
    exit 2
    ;;
esac
