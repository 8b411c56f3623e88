#!/usr/bin/env bash
# Benchmark: `mdenrich compute` on N 1m candles (default 200,000) with
# funding, open-interest and long/short files, CSV in and CSV out, no
# database, no network. Wall time of each run (best and median of RUNS) for
# each binary given, side by side; with two binaries, also whether their
# outputs hold the same doubles field for field (text may differ: the
# shortest round-trip text vs 17 digits).
#
#   bench/bench_compute.sh [BIN ...]      (default build/mdenrich)
#   N=200000 RUNS=7 bench/bench_compute.sh build/mdenrich /tmp/old/mdenrich
set -euo pipefail
cd "$(dirname "$0")/.."
n=${N:-200000}
runs=${RUNS:-7}
bins=("$@")
[ ${#bins[@]} -gt 0 ] || bins=(build/mdenrich)
dir=$(mktemp -d)
[ -n "${KEEP:-}" ] || trap 'rm -rf "$dir"' EXIT; echo "data: $dir" >&2

# A deterministic random walk from 2024-01-01, 1m; 8h funding; 5m OI and
# long/short.
awk -v n="$n" 'BEGIN {
	srand(11); t = 1704067200000; p = 42000.0
	print "open_time,open,high,low,close,volume,quote_volume,trades,taker_buy_base,taker_buy_quote"
	for (i = 0; i < n; i++) {
		o = p; p = p * (1 + (rand() - 0.5) * 0.002)
		h = (o > p ? o : p) * (1 + rand() * 0.0005)
		l = (o < p ? o : p) * (1 - rand() * 0.0005)
		v = 10 + rand() * 90; tb = v * rand()
		printf "%.0f,%.2f,%.2f,%.2f,%.2f,%.5f,%.5f,%d,%.5f,%.5f\n", t + i * 60000,
			o, h, l, p, v, v * p, 100 + int(rand() * 900), tb, tb * p
	}
}' >"$dir/in.csv"
awk -v n="$n" 'BEGIN { srand(12); t = 1704067200000
	print "funding_time,funding_rate"
	for (i = 0; i * 480 < n; i++)
		printf "%.0f,%.8f\n", t + i * 28800000, (rand() - 0.4) * 0.0004 }' >"$dir/f.csv"
awk -v n="$n" 'BEGIN { srand(13); t = 1704067200000; oi = 80000
	print "timestamp,sum_open_interest"
	for (i = 0; i * 5 < n; i++) { oi *= 1 + (rand() - 0.5) * 0.01
		printf "%.0f,%.3f\n", t + i * 300000, oi } }' >"$dir/oi.csv"
awk -v n="$n" 'BEGIN { srand(14); t = 1704067200000
	print "timestamp,long_short_ratio"
	for (i = 0; i * 5 < n; i++)
		printf "%.0f,%.4f\n", t + i * 300000, 0.5 + rand() * 2 }' >"$dir/ls.csv"

# wall and CPU (user + sys) seconds: on shared cores the CPU time is the
# steadier of the two
printf '%-34s %10s %10s %10s %10s\n' binary best_s median_s best_cpu_s out_bytes
k=0
for b in "${bins[@]}"; do
	k=$((k + 1))
	ts=()
	cs=()
	for r in $(seq "$runs"); do
		s=$(date +%s.%N)
		/usr/bin/time -f "%U %S" -o "$dir/time" "$b" compute \
			--timeframe 1m --input "$dir/in.csv" \
			--funding "$dir/f.csv" --open-interest "$dir/oi.csv" \
			--long-short "$dir/ls.csv" --output "$dir/out$k.csv" \
			2>/dev/null
		e=$(date +%s.%N)
		ts+=("$(echo "$e - $s" | bc)")
		cs+=("$(awk '{ print $1 + $2 }' "$dir/time")")
	done
	sorted=$(printf '%s\n' "${ts[@]}" | sort -n)
	best=$(echo "$sorted" | head -1)
	med=$(echo "$sorted" | sed -n "$(( (runs + 1) / 2 ))p")
	cpu=$(printf '%s\n' "${cs[@]}" | sort -n | head -1)
	printf '%-34s %10.3f %10.3f %10.2f %10s\n' "$b" "$best" "$med" "$cpu" \
		"$(stat -c %s "$dir/out$k.csv")"
done
echo "candles=$n runs=$runs (goal: <= 0.25 s)"
if [ ${#bins[@]} -ge 2 ]; then
	# field by field: same text, or the same double (awk's strtod)
	paste -d '\n' "$dir/out1.csv" "$dir/out2.csv" | awk -F, '
	NR % 2 == 1 { split($0, a, ","); na = NF; next }
	{ if (NF != na) { bad++; next }
	  for (i = 1; i <= NF; i++) if ((a[i] "") != ($i "")) {
		diff++; if (a[i] == "" || $i == "" || a[i] + 0 != $i + 0) bad++ } }
	END { printf "outputs: %d fields differ in text, %d differ as doubles\n",
		diff, bad; exit bad > 0 }'
fi
