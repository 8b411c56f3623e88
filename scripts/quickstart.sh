#!/usr/bin/env bash
# The README's first command: install what is missing, build, use the
# configured database or start the private one, migrate, enrich the bundled
# replay sample and show its quality.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh
scripts/build.sh build

if [ -z "${MDENRICH_DB_URL:-}${DATABASE_URL:-}" ]; then
  MDENRICH_DB_URL=$(scripts/pg.sh start)
  export MDENRICH_DB_URL
  echo "private PostgreSQL: $MDENRICH_DB_URL (scripts/pg.sh stop|destroy)"
fi
export MDENRICH_LOG_FORMAT=${MDENRICH_LOG_FORMAT:-text}

build/mdenrich migrate

# Enrich the bundled replay sample (recorded real data, no network): Binance
# futures BTCUSDT with funding, open interest and long/short, spot ETHUSDT
# and BNBUSDT, and AAPL daily bars. Re-running changes nothing.
build/mdenrich run --source replay:data/replay \
  --symbols BTCUSDT,ETHUSDT,BNBUSDT --timeframe 1h --since 2026-05-01
build/mdenrich run --source replay:data/replay --asset-class equity \
  --symbols AAPL --timeframe 1d --since 2020-08-01

build/mdenrich status
build/mdenrich quality --since 2026-07-20
