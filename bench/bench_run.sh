#!/usr/bin/env bash
# Benchmark: an hourly `mdenrich run` over N futures symbols (1h, the last
# ~25 candles of each, and their funding, open interest and long/short)
# against the fake exchange answering every request LATENCY ms late,
# with the private PostgreSQL. One line per --concurrency value, side by
# side: wall time, requests, requests in flight at most (as the program
# counted them and as the server saw them), Binance weight sent and the
# server's highest used weight per minute, and requests the server
# refused for weight (must be 0).
#
#   bench/bench_run.sh [SYMBOLS="50 200"] [CONCURRENCY="1 8 16"]
#   LATENCY=100 bench/bench_run.sh "50 200" "1 8"
#   MDENRICH=/tmp/old/mdenrich bench/bench_run.sh 200 8   # another build
#
# The fake exchange has funding every 8 hours for every symbol.
#
# Goal (issue 11): <= 3 s for 50 symbols and <= 8 s for 200 at 100 ms.
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${1:-"50 200"}
concs=${2:-"1 8 16"}
lat=${LATENCY:-100}
bin=${MDENRICH:-build/mdenrich}

base=$(scripts/pg.sh start)
out=$(mktemp -d)
fx=
trap '[ -n "$fx" ] && kill $fx 2>/dev/null; rm -rf "$out"' EXIT
now_h=$(( $(date +%s) / 3600 * 3600 ))
from=$(date -u -d "@$(( now_h - 40 * 86400 ))" +%Y-%m-%dT%H:%M:%SZ)
bars=$(( 40 * 24 + 48 ))

start_fx() { # symbols latency
	build/fake_exchange --synthetic "$1" --from "$from" --bars "$bars" \
		--latency-ms "$2" --weight-limit 2400 --funding-hours 8 >"$out/fx.txt" 2>"$out/fx.err" &
	fx=$!
	for _ in $(seq 600); do # the synthetic history takes a moment
		grep -q '^url ' "$out/fx.txt" 2>/dev/null && break
		sleep 0.05
	done
	url=$(sed -n 's/^url //p' "$out/fx.txt")
	[ -n "$url" ] || { echo "the fake exchange did not start" >&2; exit 1; }
}
stop_fx() {
	kill -TERM $fx
	wait $fx 2>/dev/null || true
	fx=
}
field() { # name file
	grep -o "\"$1\":\"\?[0-9]*" "$2" | tail -1 | grep -o '[0-9]*' || echo "?"
}

printf '%-8s %-5s %8s %9s %12s %12s %7s %12s %10s\n' symbols conc wall_s \
	requests inflight_cli inflight_srv weight max_used_1m refused
for n in $sizes; do
	db="${base/\/mdenrich?//mde_bench_run?}"
	psql -q "$base" -c "DROP DATABASE IF EXISTS mde_bench_run WITH (FORCE)" \
		-c "CREATE DATABASE mde_bench_run"
	"$bin" --db "$db" --log-format json migrate 2>/dev/null
	syms=$(seq -f "S%03gUSDT" 1 "$n" | paste -sd, -)
	# the history an hourly run continues (two days, fetched fast)
	start_fx "$syms" 0
	"$bin" --db "$db" --log-format json --binance-url "$url" \
		--binance-spot-url "$url" --concurrency 16 run --symbols "$syms" \
		--timeframe 1h --since "$(date -u -d "@$(( now_h - 2 * 86400 ))" \
		+%Y-%m-%dT%H:%M:%SZ)" >/dev/null 2>"$out/seed.err" \
		|| { tail -3 "$out/seed.err"; exit 1; }
	stop_fx
	for c in $concs; do
		start_fx "$syms" "$lat"
		s=$(date +%s.%N)
		"$bin" --db "$db" --log-format json --binance-url "$url" \
			--binance-spot-url "$url" --concurrency "$c" run \
			--symbols "$syms" --timeframe 1h >/dev/null 2>"$out/run.err" \
			|| { tail -3 "$out/run.err"; exit 1; }
		e=$(date +%s.%N)
		stop_fx
		st=$(sed -n 's/^stats //p' "$out/fx.txt")
		srv_in=$(echo "$st" | sed 's/.*max_in_flight=\([0-9]*\).*/\1/')
		srv_w=$(echo "$st" | sed 's/.*max_used_weight=\([0-9]*\).*/\1/')
		refused=$(echo "$st" | sed 's/.*weight_violations=\([0-9]*\).*/\1/')
		printf '%-8s %-5s %8.2f %9s %12s %12s %7s %12s %10s\n' "$n" "$c" \
			"$(echo "$e - $s" | bc)" "$(field requests "$out/run.err")" \
			"$(field max_in_flight "$out/run.err")" "$srv_in" \
			"$(field weight "$out/run.err")" "$srv_w" "$refused"
	done
	[ -n "${KEEP_DB:-}" ] || psql -q "$base" -c "DROP DATABASE mde_bench_run WITH (FORCE)"
done
echo "latency_ms=$lat (goal: <= 3 s for 50 symbols, <= 8 s for 200; weight within 2400/min)"
