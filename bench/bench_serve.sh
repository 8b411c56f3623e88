#!/usr/bin/env bash
# Benchmark of `mdenrich serve` (docs/API.md): a scratch database holding
# a backfill of one 1h series of ROWS candles (fetched over HTTP from the
# fake exchange through the real pipeline), then
#   - wrk, 50 concurrent clients, on /api/v1/enrichment/status;
#   - wrk, 50 concurrent clients, on a 10,000-row features query (CSV);
#   - one 100,000-row CSV answer read by curl: rows per second streamed;
# with the server's RSS (now and peak) after each. Figures on one line
# each, side by side.
#
#   bench/bench_serve.sh [ROWS=120000] [SECONDS=10]
#
# Needs the build (scripts/build.sh), wrk and curl.
set -euo pipefail
cd "$(dirname "$0")/.."
rows=${1:-120000}
secs=${2:-10}
command -v wrk >/dev/null || { echo "bench_serve: needs wrk (apt-get install wrk)" >&2; exit 2; }

base=$(scripts/pg.sh start)
db="${base/\/mdenrich?//mde_bench_serve?}"
psql -q "$base" -c "DROP DATABASE IF EXISTS mde_bench_serve WITH (FORCE)" \
  -c "CREATE DATABASE mde_bench_serve"
build/mdenrich --db "$db" --log-format json migrate 2>/dev/null

out=$(mktemp -d)
build/fake_exchange --synthetic BENCHUSDT,OTHERUSDT --from 2010-01-01 \
  --bars "$rows" >"$out/fx.txt" 2>"$out/fx.err" &
fx=$!
srv=
cleanup() {
  kill "$fx" 2>/dev/null || true
  [ -n "$srv" ] && kill "$srv" 2>/dev/null || true
  rm -rf "$out"
}
trap cleanup EXIT
for _ in $(seq 50); do grep -q '^url ' "$out/fx.txt" 2>/dev/null && break; sleep 0.1; done
url=$(sed -n 's/^url //p' "$out/fx.txt")
to=$(( 1262304000000 + rows * 3600000 ))
build/mdenrich --db "$db" --log-format json --binance-url "$url" \
  --binance-spot-url "$url" backfill --symbols BENCHUSDT,OTHERUSDT \
  --timeframe 1h --from 2010-01-01 --to "$to" --chunk 365d \
  >/dev/null 2>"$out/backfill.err" || { tail -5 "$out/backfill.err"; exit 1; }
stored=$(psql -tAq "$db" -c "SELECT count(*) FROM market_data_v2 WHERE symbol = 'BENCHUSDT'")

# Port 0: any free port, which the server prints.
build/mdenrich --db "$db" --log-format json serve --listen 127.0.0.1:0 \
  >"$out/serve.out" 2>"$out/serve.err" &
srv=$!
for _ in $(seq 100); do grep -q 'listening on port' "$out/serve.out" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/.*listening on port \([0-9]*\).*/\1/p' "$out/serve.out")
rss() { awk '/^VmRSS/ {r=$2} /^VmHWM/ {h=$2} END {printf "rss_kb=%s peak_rss_kb=%s", r, h}' "/proc/$srv/status"; }

# wrk's latency distribution: 50% and 99% lines.
run_wrk() {
  local name=$1 path=$2
  wrk -t2 -c50 -d"${secs}s" --timeout 30s --latency "http://127.0.0.1:$port$path" >"$out/wrk.txt" 2>&1
  local rps p50 p99 errs
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$out/wrk.txt")
  p50=$(awk '$1 == "50%" {print $2}' "$out/wrk.txt")
  p99=$(awk '$1 == "99%" {print $2}' "$out/wrk.txt")
  errs=$(awk '/Non-2xx|Socket errors/ {printf "%s ", $0}' "$out/wrk.txt")
  echo "$name: clients=50 seconds=$secs requests_per_s=$rps p50=$p50 p99=$p99 $(rss)${errs:+ errors=\"$errs\"}"
}

echo "bench_serve: series BENCHUSDT 1h, $stored rows stored; port $port"
run_wrk "status      " "/api/v1/enrichment/status"
run_wrk "features_10k" "/api/v1/market/features/BENCHUSDT/1h?limit=10000&format=csv"

# CPU seconds (user + system) of a process, and of the server's database
# sessions (its pooled backends, found by application_name).
hz=$(getconf CLK_TCK)
cpu_of() { awk -v hz="$hz" '{printf "%.3f", ($14 + $15) / hz}' "/proc/$1/stat"; }
backends_cpu() {
  local t=0 p
  for p in $(psql -tAq "$db" -c "SELECT pid FROM pg_stat_activity WHERE application_name = 'mdenrich' AND pid <> pg_backend_pid()"); do
    t=$(awk -v a="$t" -v b="$(cpu_of "$p")" 'BEGIN {printf "%.3f", a + b}')
  done
  echo "$t"
}

# One large CSV answer, read as fast as curl can: best of three. The CPU
# each side spent tells what the stream costs on an idle machine, whatever
# else the machine runs.
n=$(( stored < 100000 ? stored : 100000 ))
best=0
for _ in 1 2 3; do
  s0=$(cpu_of "$srv"); b0=$(backends_cpu)
  t=$(curl -s --noproxy '*' -o "$out/big.csv" -w '%{time_total}' \
    "http://127.0.0.1:$port/api/v1/market/features/BENCHUSDT/1h?limit=$n&format=csv")
  s1=$(cpu_of "$srv"); b1=$(backends_cpu)
  got=$(( $(wc -l <"$out/big.csv") - 1 ))
  r=$(awk -v n="$got" -v t="$t" 'BEGIN {printf "%d", n / t}')
  if [ "$r" -gt "$best" ]; then
    best=$r; bt=$t; bgot=$got
    scpu=$(awk -v a="$s0" -v b="$s1" 'BEGIN {printf "%.3f", b - a}')
    pcpu=$(awk -v a="$b0" -v b="$b1" 'BEGIN {printf "%.3f", b - a}')
  fi
done
bytes=$(stat -c %s "$out/big.csv")
echo "stream_csv  : rows=$bgot bytes=$bytes seconds=$bt rows_per_s=$best (goal >= 200000) serve_cpu_s=$scpu postgres_cpu_s=$pcpu $(rss)"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg) on $(nproc) CPUs"
kill "$srv"; wait "$srv" 2>/dev/null || true; srv=
[ -n "${KEEP_DB:-}" ] || psql -q "$base" -c "DROP DATABASE mde_bench_serve WITH (FORCE)"
