#!/usr/bin/env bash
# Benchmark: a backfill through the real binary, fetching over HTTP from the
# fake exchange on loopback and writing into the private PostgreSQL (a
# scratch database): peak memory, wall time and rows/s; then, in the same
# run and on the same server, a plain binary COPY of the very rows it
# stored into an empty copy of market_data_v2 (LIKE ... INCLUDING ALL),
# and the ratio program/COPY. One line per --concurrency value.
#
#   bench/bench_backfill.sh [SYMBOLS=50] [BARS=8760] [TF=1h] [CONC="1 8"]
#   bench/bench_backfill.sh 1 200000 1m "1 8"   (issue 11: ratio >= 0.8)
#   RUNS=3 bench/bench_backfill.sh 1 200000 1m "1 8"
#
# With RUNS > 1 each concurrency is measured RUNS times, alternating with
# the others (program, then its COPY, every time), and a last line per
# concurrency gives the median ratio: on a shared 2-core machine one pair
# of figures can be 20% off either way. A second line compares the best
# program run with the best COPY of those runs (ratio_of_bests). Every
# run gets a fresh fake exchange, so that no run waits for the weight
# another one used.
#
# Needs the build (scripts/build.sh) and /usr/bin/time (Debian's `time`).
set -euo pipefail
cd "$(dirname "$0")/.."
nsym=${1:-50}
bars=${2:-8760}
tf=${3:-1h}
concs=${4:-"1 8"}
chunk=${CHUNK:-30d}

base=$(scripts/pg.sh start)
db="${base/\/mdenrich?//mde_bench_backfill?}"
syms=$(seq -f "S%03gUSDT" 1 "$nsym" | paste -sd, -)
runs=${RUNS:-1}
bin=${MDENRICH:-build/mdenrich} # the binary measured (an A/B: MDENRICH=/tmp/old/mdenrich)
out=$(mktemp -d)
chmod 777 "$out" # the server writes and reads the rows file
fx=
trap '[ -n "$fx" ] && kill $fx 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$out"' EXIT
start_fx() {
  [ -n "$fx" ] && { kill $fx 2>/dev/null; wait $fx 2>/dev/null || true; }
  rm -f "$out/fx.txt"
  build/fake_exchange --synthetic "$syms" --from 2025-01-01 --bars "$bars" \
    --period "$tf" >"$out/fx.txt" 2>"$out/fx.err" &
  fx=$!
  for _ in $(seq 300); do grep -q '^url ' "$out/fx.txt" 2>/dev/null && break; sleep 0.1; done
  url=$(sed -n 's/^url //p' "$out/fx.txt")
}
case $tf in
  1m) pms=60000 ;; 5m) pms=300000 ;; 15m) pms=900000 ;; 1h) pms=3600000 ;;
  4h) pms=14400000 ;; 1d) pms=86400000 ;; *) echo "TF $tf?"; exit 2 ;;
esac
to=$(( 1735689600000 + bars * pms ))

for r in $(seq "$runs"); do
for c in $concs; do
  start_fx
  psql -q "$base" -c "DROP DATABASE IF EXISTS mde_bench_backfill WITH (FORCE)" \
    -c "CREATE DATABASE mde_bench_backfill" 2>/dev/null
  "$bin" --db "$db" --log-format json migrate 2>/dev/null
  /usr/bin/time -v "$bin" --db "$db" --log-format json \
    --binance-url "$url" --binance-spot-url "$url" --concurrency "$c" \
    backfill --symbols "$syms" --timeframe "$tf" --from 2025-01-01 --to "$to" \
    --chunk "$chunk" >/dev/null 2>"$out/run.err" || { tail -5 "$out/run.err"; exit 1; }

  rows=$(psql -tAq "$db" -c "SELECT count(*) FROM market_data_v2")
  wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$out/run.err")
  secs=$(echo "$wall" | awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }')
  rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$out/run.err")
  cpu_u=$(sed -n 's/.*User time (seconds): //p' "$out/run.err")
  cpu_s=$(sed -n 's/.*System time (seconds): //p' "$out/run.err")
  # Time spent honouring Binance's request-weight budget (2400/min): the
  # client pauses until the next minute when the next page would pass 90%.
  waited=$({ grep -o '"event":"budget.weight_wait"[^}]*"wait_ms":"\?[0-9]*"\?' "$out/run.err" || true; } \
    | sed 's/.*"wait_ms":"\?\([0-9]*\)"\?/\1/' | awk '{s += $1} END {print s + 0}')
  inflight=$(grep -o '"max_in_flight":"\?[0-9]*' "$out/run.err" | tail -1 | grep -o '[0-9]*' || echo "?")

  # The same rows by a plain binary COPY into an empty twin of the table.
  psql -q "$db" -c "COPY market_data_v2 TO '$out/rows.bin' (FORMAT binary)" \
    -c "CREATE TABLE copy_twin (LIKE market_data_v2 INCLUDING ALL)"
  s=$(date +%s.%N)
  psql -q "$db" -c "COPY copy_twin FROM '$out/rows.bin' (FORMAT binary)"
  e=$(date +%s.%N)
  copy_s=$(echo "$e - $s" | bc)
  awk -v n="$rows" -v t="$secs" -v ct="$copy_s" -v c="$c" -v rss="$rss" \
    -v u="$cpu_u" -v sy="$cpu_s" -v w="$waited" -v fl="$inflight" \
    -v nsym="$nsym" -v bars="$bars" -v tf="$tf" 'BEGIN {
    printf "symbols=%d bars=%d tf=%s concurrency=%d rows=%d wall_s=%.2f " \
      "rows_per_s=%.0f copy_rows_per_s=%.0f ratio=%.2f max_in_flight=%s " \
      "user_s=%s sys_s=%s peak_rss_kb=%s weight_budget_wait_ms=%s\n",
      nsym, bars, tf, c, n, t, n / t, n / ct, (n / t) / (n / ct), fl, u, sy,
      rss, w }' | tee -a "$out/lines"
done
done
if [ "$runs" -gt 1 ]; then
  for c in $concs; do
    grep " concurrency=$c " "$out/lines" | sed 's/.* ratio=\([0-9.]*\).*/\1/' |
      sort -n | awk -v c="$c" '{ r[NR] = $1 } END {
        printf "concurrency=%d runs=%d ratio_median=%.2f ratios=", c, NR,
          r[int((NR + 1) / 2)]
        for (i = 1; i <= NR; i++) printf "%s%s", r[i], i < NR ? "," : "\n" }'
    # The best of each side, whichever runs they came from: the machine's
    # speed drifts from one minute to the next, and a pair's ratio moves
    # with it; the fastest program run against the fastest COPY is the
    # steadier comparison of what each can do.
    grep " concurrency=$c " "$out/lines" |
      sed 's/.* rows_per_s=\([0-9]*\) copy_rows_per_s=\([0-9]*\) .*/\1 \2/' |
      awk -v c="$c" '$1 > p { p = $1 } $2 > q { q = $2 } END {
        printf "concurrency=%d best_rows_per_s=%d best_copy_rows_per_s=%d " \
          "ratio_of_bests=%.2f\n", c, p, q, p / q }'
  done
fi
[ -n "${KEEP_DB:-}" ] || psql -q "$base" -c "DROP DATABASE mde_bench_backfill WITH (FORCE)"
