#!/usr/bin/env bash
# Benchmark (prints figures; not a test): a 1-year 1m backfill of 5 futures
# symbols (5 x 525,600 = 2.6 million candles) from the fake exchange, which
# enforces Binance's real weight budget (2400 per minute, HTTP 429 past it)
# and serves the data.binance.vision tree built from the same rows:
# archive-first (--archive auto) against REST-only (--archive off), wall
# time of each, the ratio, and peak RSS, in the same run.
#
#   bench/bench_archive.sh [REST_MONTHS=12]
#   ARCHIVE_RUNS=3 (default): the archive-first backfill is run that many
#   times, each into a fresh database, and its median wall time is the one
#   compared (this machine's speed drifts by 20% from minute to minute);
#   REST-only, budget-bound, runs once. FETCH=0 skips the fetch-stage
#   comparison (another 5 minutes of REST).
#
# REST-only over a whole year takes the budget's time (2,628 kline pages of
# weight 5 = 13,140 weight = 6+ minutes at 90% of 2400/min): by default it
# is measured over the whole year; REST_MONTHS < 12 measures that many
# months and extrapolates to the year at the measured rate (printed as
# such; it under-counts the budget when the run is under a few minutes).
# Then the fetch stage alone, both ways (build/bench/bench_archive_fetch).
# The fake builds each zip on its first request (the real archive serves
# static files): the 60 monthly kline zips and the funding zips, with their
# .CHECKSUM files, are requested once before the timed runs, and that
# warm-up is printed apart.
# Needs the build (scripts/build.sh) and /usr/bin/time.
set -euo pipefail
cd "$(dirname "$0")/.."
rest_months=${1:-12}
syms=B1USDT,B2USDT,B3USDT,B4USDT,B5USDT
bars=525600

base=$(scripts/pg.sh start)
mkdb() {
  psql -q "$base" -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1"
  local db="${base/\/mdenrich?//$1?}"
  build/mdenrich --db "$db" --log-format json migrate 2>/dev/null
  # what the previous run left dirty is written now, not during the next
  psql -q "$base" -c CHECKPOINT 2>/dev/null || true
  echo "$db"
}
dba=$(mkdb mde_bench_archive)
dbr=$(mkdb mde_bench_rest)

out=$(mktemp -d)
build/fake_exchange --synthetic "$syms" --from 2025-01-01 --bars "$bars" \
  --period 1m --weight-limit 2400 >"$out/fx.txt" 2>"$out/fx.err" &
fx=$!
trap 'kill $fx 2>/dev/null; rm -rf "$out"' EXIT
for _ in $(seq 600); do grep -q '^url ' "$out/fx.txt" 2>/dev/null && break; sleep 0.2; done
url=$(sed -n 's/^url //p' "$out/fx.txt")

run() { # name db archive-mode to
  /usr/bin/time -v build/mdenrich --db "$2" --log-format json \
    --binance-url "$url" --binance-spot-url "$url" --archive-url "$url" \
    backfill --symbols "$syms" --timeframe 1m --from 2025-01-01 --to "$4" \
    --archive "$3" >/dev/null 2>"$out/$1.err" || { tail -5 "$out/$1.err"; exit 1; }
}
secs() { # h:mm:ss or m:ss.cc -> seconds
  sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$out/$1.err" |
    awk -F: '{ s = 0; for (i = 1; i <= NF; i++) s = s * 60 + $i; print s }'
}
rss() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$out/$1.err"; }
waited() {
  grep -o '"event":"budget.weight_wait"[^}]*"wait_ms":"\?[0-9]*"\?' "$out/$1.err" |
    sed 's/.*"wait_ms":"\?\([0-9]*\)"\?/\1/' | awk '{s += $1} END {print s + 0}'
}

t0=$(date +%s.%N)
for s in ${syms//,/ }; do for m in 01 02 03 04 05 06 07 08 09 10 11 12; do
  k="$url/data/futures/um/monthly/klines/$s/1m/$s-1m-2025-$m.zip"
  f="$url/data/futures/um/monthly/fundingRate/$s/$s-fundingRate-2025-$m.zip"
  printf '%s\n' "$k" "$k.CHECKSUM" "$f" "$f.CHECKSUM"
done; done | xargs -P 8 -n 1 curl -s -o /dev/null
warm=$(echo "$(date +%s.%N) - $t0" | bc)

runs=${ARCHIVE_RUNS:-3}
walls=()
peak=0
for k in $(seq "$runs"); do
  [ "$k" = 1 ] || dba=$(mkdb mde_bench_archive)
  run archive "$dba" auto 2026-01-01
  echo "archive run $k: wall_s=$(secs archive) peak_rss_kb=$(rss archive)"
  walls+=("$(secs archive)")
  [ "$(rss archive)" -gt "$peak" ] && peak=$(rss archive)
done
median=$(printf '%s\n' "${walls[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
rest_to=$(date -u -d "2025-01-01 +$rest_months months" +%Y-%m-%d)
run rest "$dbr" off "$rest_to"
echo "rest run: wall_s=$(secs rest) peak_rss_kb=$(rss rest)"

ra=$(psql -tAq "$dba" -c "SELECT count(*) FROM market_data_v2")
rr=$(psql -tAq "$dbr" -c "SELECT count(*) FROM market_data_v2")
files=$(psql -tAq "$dba" -c "SELECT count(*) FROM archive_files WHERE kind = 'klines'")
restk=$(psql -tAq "$dba" -c "SELECT count(*) FROM enrichment_fetch_log WHERE endpoint = '/fapi/v1/klines'")
# the same rows, every column, over the REST range (hashed per day: one
# string of the whole table would pass PostgreSQL's 1 GB limit)
digest() {
  psql -tAq "$1" -c "SELECT md5(string_agg(h, '' ORDER BY d)) FROM (SELECT
    symbol || date_trunc('day', open_time)::text AS d, md5(string_agg((to_jsonb(m)
    - 'run_id' - 'created_at' - 'updated_at')::text, '|' ORDER BY open_time)) AS h
    FROM market_data_v2 m WHERE open_time < '$rest_to' GROUP BY 1) x"
}
same=$(digest "$dba")
same_r=$(digest "$dbr")
sa=$median; sr=$(secs rest)
fetch_ms=$(psql -tAq "$dba" -c "SELECT coalesce(sum(latency_ms), 0) FROM enrichment_fetch_log WHERE source = 'binance-archive'")
echo "fake archive warm-up (building 120 zips, not timed): ${warm} s"
echo "archive-first: candles=$ra wall_s=$sa (median of $runs: ${walls[*]}) peak_rss_kb=$peak kline_zips=$files rest_kline_requests=$restk archive_download_ms_sum=$fetch_ms"
echo "rest-only:     candles=$rr wall_s=$sr peak_rss_kb=$(rss rest) months=$rest_months weight_budget_wait_ms=$(waited rest)"
awk -v sa="$sa" -v sr="$sr" -v ra="$ra" -v rr="$rr" -v m="$rest_months" 'BEGIN {
  rate = rr / sr; year = (m == 12) ? sr : ra / rate;
  printf "rest-only rate (measured): %.0f candles/s\n", rate;
  printf "rest-only 1 year: %.1f s (%s)\n", year, m == 12 ? "measured" : "EXTRAPOLATED from the measured rate";
  printf "ratio rest-only/archive-first: %.1fx\n", year / sa }'
echo "same rows as REST-only over the REST range: $([ "$same" = "$same_r" ] && echo yes || echo NO)"
# The fetch stage alone (no validation, features or database), in the
# same run against the same fake: what the archive changes by itself.
[ "${FETCH:-1}" = 0 ] || build/bench/bench_archive_fetch "$url" "$syms" 365
[ -n "${KEEP_DB:-}" ] || psql -q "$base" -c "DROP DATABASE mde_bench_archive WITH (FORCE)" -c "DROP DATABASE mde_bench_rest WITH (FORCE)"
