#!/usr/bin/env bash
# The README's test command: install what is missing, build, start the
# private PostgreSQL (unless MDE_TEST_DB_URL names a server to use), run the
# whole suite with ctest, and stop the database again if this script
# started it.
#
#   scripts/test.sh             normal build in build/
#   scripts/test.sh --sanitize  ASan + UBSan build in build-asan/
#   scripts/test.sh --sanitize --clang   (or CC=clang scripts/test.sh
#                               --sanitize) the same with clang, in
#                               build-asan-clang/ (clang's UBSan also
#                               checks pointer overflow)
#   scripts/test.sh --clang     a clang build in build-clang/
#
# Each build tree uses databases of its own names, but test_store_faults
# restarts the server: run two suites at once only without it
# (ctest -E test_store_faults).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

sanitize=0
clang=0
for a in "$@"; do
  case $a in
    --sanitize) sanitize=1 ;;
    --clang) clang=1 ;;
    *) echo "usage: scripts/test.sh [--sanitize] [--clang]" >&2; exit 2 ;;
  esac
done
case ${CC:-} in *clang*) clang=1 ;; esac

dir=build
cmake_args=()
if [ "$sanitize" = 1 ]; then
  dir=build-asan
  cmake_args=(-DMDE_SANITIZE=ON)
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
fi
if [ "$clang" = 1 ]; then
  # A build tree keeps the compiler it was configured with: clang gets
  # trees of its own.
  dir=$dir-clang
  export CC=${CC:-clang}
  case $CC in *clang*) ;; *) CC=clang ;; esac
  # The one C++ file (src/core/numtext.cc) takes the same flags.
  export CXX=clang++
fi

scripts/setup.sh
scripts/build.sh "$dir" "${cmake_args[@]}"

stop_db=0
if [ -z "${MDE_TEST_DB_URL:-}" ]; then
  scripts/pg.sh status || stop_db=1
  MDE_TEST_DB_URL=$(scripts/pg.sh start)
  # The server is ours: the restart test may restart it.
  export MDE_TEST_PG_RESTART="$PWD/scripts/pg.sh restart"
fi
export MDE_TEST_DB_URL
cleanup() { if [ "$stop_db" = 1 ]; then "$root/scripts/pg.sh" stop; fi; }
trap cleanup EXIT

cd "$dir"
ctest --output-on-failure -j"$(nproc)" --timeout 900
