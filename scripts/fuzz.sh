#!/usr/bin/env bash
# Fuzzing: builds the libFuzzer targets of tests/fuzz with clang (ASan +
# UBSan + coverage) into build-fuzz/ and runs each for FUZZ_SECONDS
# (default 20) seconds, starting from its committed corpus
# (tests/fuzz/corpus/<target>, never modified: new inputs go to
# build-fuzz/corpus/<target>). Prints, per target, the executions, the
# coverage (edges) and features libFuzzer reached.
#
#   scripts/fuzz.sh                 every target
#   scripts/fuzz.sh csv time        some of them
#   FUZZ_SECONDS=300 scripts/fuzz.sh
#
# A crash, leak, UBSan report or timeout fails the script; the input is
# kept in build-fuzz/crashes/<target>/. Fix the bug, then copy the input
# into tests/fuzz/regressions/<target>/: the suite replays it from then on
# (tests/fuzz.cmake).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${FUZZ_SECONDS:-20}
dir=build-fuzz

scripts/setup.sh
CC=clang CXX=clang++ scripts/build.sh "$dir" -DMDE_FUZZ=ON

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  # shellcheck disable=SC2207
  targets=($(sed -n 's/^set(MDE_FUZZ_TARGETS//; s/)$//; /^#/d; p' \
    tests/fuzz/targets.cmake | tr -s ' \n' ' '))
fi

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
failed=()
printf '%-16s %12s %8s %8s %8s  %s\n' target executions exec/s cov ft \
  result
for t in "${targets[@]}"; do
  bin=$dir/tests/fuzz/fuzz_$t
  work=$dir/corpus/$t
  crashes=$dir/crashes/$t
  log=$dir/fuzz_$t.log
  mkdir -p "$work" "$crashes"
  rc=0
  "$bin" -max_total_time="$secs" -print_final_stats=1 -timeout=10 \
    -rss_limit_mb=2048 -max_len=65536 -artifact_prefix="$crashes/" \
    "$work" "tests/fuzz/corpus/$t" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  cov=$(grep -oE ' cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)
  ft=$(grep -oE ' ft: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)
  result=ok
  if [ "$rc" != 0 ]; then
    result="FAILED (exit $rc; log $log, input in $crashes/)"
    failed+=("$t")
  fi
  printf '%-16s %12s %8s %8s %8s  %s\n' "$t" "${execs:-?}" "${rate:-?}" \
    "${cov:-?}" "${ft:-?}" "$result"
  if [ "$rc" != 0 ]; then
    grep -E 'ERROR|runtime error|SUMMARY|Test unit written' "$log" | head -20
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failed: ${failed[*]}" >&2
  exit 1
fi
