#!/usr/bin/env bash
# Benchmark: peak memory and wall time of a 50-symbol, one-year 1h backfill
# through the real binary, fetching over HTTP from the fake exchange on
# loopback and writing into the private PostgreSQL (a scratch database).
#
#   bench/bench_backfill.sh [SYMBOLS=50] [BARS=8760]
#
# Needs the build (scripts/build.sh) and /usr/bin/time (Debian's `time`).
set -euo pipefail
cd "$(dirname "$0")/.."
nsym=${1:-50}
bars=${2:-8760}

base=$(scripts/pg.sh start)
db="${base/\/mdenrich?//mde_bench_backfill?}"
psql -q "$base" -c "DROP DATABASE IF EXISTS mde_bench_backfill WITH (FORCE)" \
  -c "CREATE DATABASE mde_bench_backfill"
build/mdenrich --db "$db" --log-format json migrate 2>/dev/null

syms=$(seq -f "S%03gUSDT" 1 "$nsym" | paste -sd, -)
out=$(mktemp -d)
build/fake_exchange --synthetic "$syms" --from 2025-01-01 --bars "$bars" \
  >"$out/fx.txt" 2>"$out/fx.err" &
fx=$!
trap 'kill $fx 2>/dev/null; rm -rf "$out"' EXIT
for _ in $(seq 50); do grep -q '^url ' "$out/fx.txt" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^url //p' "$out/fx.txt")

to=$(( 1735689600000 + bars * 3600000 ))
/usr/bin/time -v build/mdenrich --db "$db" --log-format json \
  --binance-url "$url" --binance-spot-url "$url" \
  backfill --symbols "$syms" --timeframe 1h --from 2025-01-01 --to "$to" \
  --chunk 30d >/dev/null 2>"$out/run.err" || { tail -5 "$out/run.err"; exit 1; }

rows=$(psql -tAq "$db" -c "SELECT count(*) FROM market_data_v2")
secs=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$out/run.err")
rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$out/run.err")
cpu_u=$(sed -n 's/.*User time (seconds): //p' "$out/run.err")
cpu_s=$(sed -n 's/.*System time (seconds): //p' "$out/run.err")
# Time spent honouring Binance's request-weight budget (2400/min): the
# client pauses until the next minute when the next page would pass 90%.
waited=$(grep -o '"event":"budget.weight_wait"[^}]*"wait_ms":"[0-9]*"' "$out/run.err" \
  | sed 's/.*"wait_ms":"\([0-9]*\)"/\1/' | awk '{s += $1} END {print s + 0}')
echo "symbols=$nsym bars=$bars rows_stored=$rows wall=$secs user_s=$cpu_u sys_s=$cpu_s peak_rss_kb=$rss weight_budget_wait_ms=$waited"
[ -n "${KEEP_DB:-}" ] || psql -q "$base" -c "DROP DATABASE mde_bench_backfill WITH (FORCE)"
