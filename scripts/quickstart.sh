#!/usr/bin/env bash
# The README's first command: install what is missing, build, use the
# configured database or start the private one, migrate, enrich the bundled
# replay sample (recorded real data, no network) and show where it stands.
# The output fits on one screen: the runs' logs go to a file
# (.local/quickstart.log), and only their closing sentences are shown.
# MDENRICH_BIN=PATH uses that binary as it is (no setup, no build).
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${MDENRICH_BIN:-build/mdenrich}
if [ -z "${MDENRICH_BIN:-}" ]; then
  scripts/setup.sh
  scripts/build.sh build
fi

if [ -z "${MDENRICH_DB_URL:-}${DATABASE_URL:-}" ]; then
  MDENRICH_DB_URL=$(scripts/pg.sh start)
  export MDENRICH_DB_URL
  echo "private PostgreSQL started (scripts/pg.sh stop|destroy)"
  hint='  eval "$(scripts/pg.sh env)"     # this database in a new shell'
fi
export MDENRICH_LOG_FORMAT=text
mkdir -p .local
log=.local/quickstart.log
: >"$log"

# Runs mdenrich with its log lines into $log; its last line (the closing
# sentence, or the error) is shown.
quiet() {
  local rc=0
  "$bin" "$@" >>"$log" 2>&1 || rc=$?
  grep -v '^[0-9-]*T[0-9:.]*Z ' "$log" | tail -n 1 || true
  [ "$rc" -eq 0 ] || { echo "failed (exit $rc); the log: $log" >&2; exit "$rc"; }
  echo "---" >>"$log"
}

"$bin" migrate >>"$log" 2>&1 && echo "database migrated"
# Binance futures BTCUSDT with funding, open interest and long/short, spot
# ETHUSDT and BNBUSDT, AAPL daily bars. Running this again changes nothing.
quiet run --source replay:data/replay \
  --symbols BTCUSDT,ETHUSDT,BNBUSDT --timeframe 1h --since 2026-05-01
quiet run --source replay:data/replay --asset-class equity \
  --symbols AAPL --timeframe 1d --since 2020-08-01

echo
"$bin" status | cut -c1-150 | head -n 12
cat <<NEXT

The full log: $log. Next, try:${hint:+
$hint}
  build/mdenrich quality --since 2026-07-20
  build/mdenrich compute --timeframe 1h \\
      --input data/samples/btcusdt_1h_futures.csv | head -3
  build/mdenrich backfill --symbols BTCUSDT --timeframe 1h \\
      --timerange 20260601-20260701 --source replay:data/replay
  build/mdenrich --help            # every command, with examples
NEXT
