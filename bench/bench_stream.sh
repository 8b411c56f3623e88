#!/usr/bin/env bash
# Benchmark: `mdenrich stream` on 200 USD-M futures symbols at 1m from the
# fake kline WebSocket endpoint (tests/fake_ws.c, run by build/fake_exchange
# --ws-speed) at 10x real speed: one minute closes every 6 s, all symbols at
# once. Figures: the latency from a closing message's arrival to the commit
# of its row (p50, p99, max, measured by the process itself and logged as
# stream.done), the batches committed, the CPU time and peak RSS of the
# process. The history before the stream (HIST bars) is backfilled first,
# so every batch reads its warm-up from the store as in production.
#
#   [WRITERS=4] bench/bench_stream.sh [SYMBOLS=200] [SIM_MINUTES=20] [SPEED=10] [HIST=720]
#
# Needs the build (scripts/build.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
nsym=${1:-200}
mins=${2:-20}
speed=${3:-10}
hist=${4:-720}

base=$(scripts/pg.sh start)
db="${base/\/mdenrich?//mde_bench_stream?}"
psql -q "$base" -c "DROP DATABASE IF EXISTS mde_bench_stream WITH (FORCE)" \
  -c "CREATE DATABASE mde_bench_stream"
build/mdenrich --db "$db" --log-format json migrate 2>/dev/null

syms=$(seq -f "S%03gUSDT" 1 "$nsym" | paste -sd, -)
out=$(mktemp -d)
# The candles start a day ago (closed, as REST and validation want them).
now_s=$(date -u +%s)
from_ms=$(( (now_s - 86400) / 60 * 60000 ))
ws_ms=$(( from_ms + hist * 60000 ))
build/fake_exchange --synthetic "$syms" --from "$from_ms" --period 1m \
  --bars "$hist" >"$out/fx.txt" 2>"$out/fx.err" &
fx=$!
trap 'kill $fx 2>/dev/null; rm -rf "$out"' EXIT
for _ in $(seq 100); do grep -q '^url ' "$out/fx.txt" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^url //p' "$out/fx.txt")

t0=$(date +%s.%N)
build/mdenrich --db "$db" --log-format json --binance-url "$url" \
  backfill --symbols "$syms" --timeframe 1m --from "$from_ms" --to "$ws_ms" \
  >/dev/null 2>"$out/backfill.err" || { tail -5 "$out/backfill.err"; exit 1; }
t1=$(date +%s.%N)

# The stream gets a fake exchange of its own, holding the same candles
# (the synthetic walk is a function of the symbol's rank) with a fresh
# request-weight window, whose kline streams start where the history
# ends: the backfill's weight does not delay the stream's REST calls.
kill $fx
build/fake_exchange --synthetic "$syms" --from "$from_ms" --period 1m \
  --bars $(( hist + mins + 5 )) --ws-speed "$speed" --ws-start "$ws_ms" \
  --ws-ping-ms 1000 >"$out/fx2.txt" 2>"$out/fx2.err" &
fx=$!
for _ in $(seq 100); do grep -q '^ws ' "$out/fx2.txt" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^url //p' "$out/fx2.txt")
ws=$(sed -n 's/^ws //p' "$out/fx2.txt")
printf '[stream]\nwriters = %s\n' "${WRITERS:-4}" >"$out/bench.conf"
build/mdenrich --config "$out/bench.conf" --db "$db" --log-format json \
  --binance-url "$url" stream --symbols "$syms" --timeframe 1m --ws-url "$ws" \
  >/dev/null 2>"$out/stream.err" &
pid=$!
sleep $(( mins * 60 / speed ))
clk=$(getconf CLK_TCK)
read -r ut st < <(awk '{print $14, $15}' "/proc/$pid/stat")
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
kill -TERM "$pid"
code=0
wait "$pid" || code=$?
run_s=$(( mins * 60 / speed ))
[ -z "${STREAM_LOG:-}" ] || cp "$out/stream.err" "$STREAM_LOG"

done_line=$(grep '"event":"stream.done"' "$out/stream.err" | tail -1)
field() { sed -n "s/.*\"$1\":\"\\?\\([0-9]*\\).*/\\1/p" <<<"$done_line"; }
rows=$(psql -tAq "$db" -c "SELECT count(*) FROM market_data_v2")
reconnects=$(grep -c '"event":"ws.reconnect"' "$out/stream.err" || true)
repairs=$(grep -c '"event":"stream.repair"' "$out/stream.err" || true)
cpu=$(awk -v u="$ut" -v s="$st" -v c="$clk" -v t="$run_s" \
  'BEGIN {printf "%.2f %.2f %.1f", u / c, s / c, 100 * (u + s) / c / t}')
read -r cpu_u cpu_s cpu_pct <<<"$cpu"
echo "symbols=$nsym timeframe=1m speed=${speed}x sim_minutes=$mins stream_wall_s=$run_s writers=${WRITERS:-4} exit=$code"
echo "backfill_hist_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", b - a}') rows_stored=$rows repairs=$repairs reconnects=$reconnects"
echo "latency_ms p50=$(field p50_ms) p99=$(field p99_ms) max=$(field max_ms) candles=$(field candles) batches=$(field batches)"
echo "cpu user_s=$cpu_u sys_s=$cpu_s cpu_pct=$cpu_pct rss_kb=$rss peak_rss_kb=$hwm"
echo "goal: p99 < 1000 ms, peak RSS < 102400 kB"
[ -n "${KEEP_DB:-}" ] || psql -q "$base" -c "DROP DATABASE mde_bench_stream WITH (FORCE)"
