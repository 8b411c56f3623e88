#!/usr/bin/env bash
# The README's test command: install what is missing, build, start the
# private PostgreSQL (unless MDE_TEST_DB_URL names a server to use), run the
# whole suite with ctest, and stop the database again if this script
# started it.
#
#   scripts/test.sh             normal build in build/
#   scripts/test.sh --sanitize  ASan + UBSan build in build-asan/
#
# Each build tree uses databases of its own names, but test_store_faults
# restarts the server: run two suites at once only without it
# (ctest -E test_store_faults).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

dir=build
cmake_args=()
if [ "${1:-}" = "--sanitize" ]; then
  dir=build-asan
  cmake_args=(-DMDE_SANITIZE=ON)
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
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
