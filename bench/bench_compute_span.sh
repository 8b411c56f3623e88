#!/usr/bin/env bash
# Peak memory of `mdenrich compute --timeframe 1m` by the time span between
# candles, not their number: two candles (the issue's 99-byte file) N days
# apart, and 10000 candles in one block, side by side. Memory must follow
# the data (docs/DECISIONS.md "Bounded memory").
#
#   bench/bench_compute_span.sh [build-dir]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build}/mdenrich
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
now=$(( ($(date +%s) - 86400) / 60 * 60000 ))
row() { echo "$1,93548.80,93600.00,93500.10,93555.55,12.5"; }
printf '%-34s %10s %12s %8s\n' case bytes peak_rss_kB wall_s
for days in 1 365 3650 20000; do
  f=$tmp/two_$days.csv
  { echo open_time,open,high,low,close,volume
    row $((now - days * 86400000)); row $now; } > "$f"
  /usr/bin/time -f '%M %e' -o "$tmp/t" "$bin" compute --timeframe 1m \
    --input "$f" > /dev/null 2>&1
  read -r rss wall < "$tmp/t"
  printf '%-34s %10s %12s %8s\n' "2 candles, $days days apart" \
    "$(wc -c < "$f")" "$rss" "$wall"
done
f=$tmp/block.csv
{ echo open_time,open,high,low,close,volume
  for i in $(seq 0 9999); do row $((now - i * 60000)); done; } > "$f"
/usr/bin/time -f '%M %e' -o "$tmp/t" "$bin" compute --timeframe 1m \
  --input "$f" > /dev/null 2>&1
read -r rss wall < "$tmp/t"
printf '%-34s %10s %12s %8s\n' "10000 candles, one block" \
  "$(wc -c < "$f")" "$rss" "$wall"
