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
