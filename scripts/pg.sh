#!/usr/bin/env bash
# A private, throwaway PostgreSQL 15 cluster for mdenrich's demo and tests.
#
#   scripts/pg.sh start    start it (initdb the first time); prints its URL
#   scripts/pg.sh url      print the URL of the running cluster
#   scripts/pg.sh env      print `export MDENRICH_DB_URL=...` for a new
#                          shell: eval "$(scripts/pg.sh env)"
#   scripts/pg.sh status   exit 0 when it is running
#   scripts/pg.sh stop     stop it (data kept)
#   scripts/pg.sh destroy  stop it and remove its folder
#
# It listens on a unix socket inside its own folder only (no TCP), so it can
# never clash with another server, and it only ever touches the folder it
# created (marked by an .mdenrich-cluster file). As root the cluster runs as
# the `postgres` OS user (initdb refuses root) in a folder under /tmp that
# this user can reach; otherwise it lives in .local/pg of the checkout.
# MDE_PG_DIR and MDE_PG_PORT override the folder and the socket's port.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
PGBIN=${MDE_PG_BIN:-/usr/lib/postgresql/15/bin}
PORT=${MDE_PG_PORT:-54329}
DBNAME=mdenrich

if [ "$(id -u)" -eq 0 ]; then
  RUNAS=(runuser -u postgres --)
  DBUSER=postgres
  default_dir=/tmp/mdenrich-pg-$(printf '%s' "$top" | cksum | cut -d' ' -f1)
else
  RUNAS=()
  DBUSER=$(id -un)
  default_dir=$top/.local/pg
fi
DIR=${MDE_PG_DIR:-$default_dir}
DATA=$DIR/data
SOCK=$DIR/sock
MARK=$DIR/.mdenrich-cluster

url() { printf 'postgresql://%s@/%s?host=%s&port=%s\n' "$DBUSER" "$DBNAME" "$SOCK" "$PORT"; }

die() { echo "pg.sh: $*" >&2; exit 1; }

running() { [ -f "$DATA/postmaster.pid" ] && "${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; }

ours() {
  [ -d "$DIR" ] || return 1
  [ -f "$MARK" ] || die "$DIR exists but was not created by this script; not touching it"
}

start() {
  [ -x "$PGBIN/initdb" ] || die "PostgreSQL 15 is not installed (run scripts/setup.sh)"
  if ! [ -d "$DIR" ]; then
    mkdir -p "$DIR" "$SOCK"
    touch "$MARK"
    if [ "$(id -u)" -eq 0 ]; then chown -R postgres:postgres "$DIR"; chmod 700 "$DIR"; fi
  fi
  ours
  if ! [ -f "$DATA/PG_VERSION" ]; then
    "${RUNAS[@]}" "$PGBIN/initdb" -D "$DATA" -U "$DBUSER" -A trust -E UTF8 \
      --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 || { cat "$DIR/initdb.log" >&2; die "initdb failed"; }
    cat >>"$DATA/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$SOCK'
port = $PORT
fsync = on
max_connections = 100
shared_buffers = 256MB
max_wal_size = 2GB
log_min_messages = warning
CONF
  fi
  if ! running; then
    "${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$DATA" -l "$DIR/server.log" -w -t 60 start >/dev/null \
      || { tail -20 "$DIR/server.log" >&2; die "could not start PostgreSQL"; }
  fi
  if ! "${RUNAS[@]}" "$PGBIN/psql" -h "$SOCK" -p "$PORT" -U "$DBUSER" -d postgres -tAc \
       "SELECT 1 FROM pg_database WHERE datname = '$DBNAME'" | grep -q 1; then
    "${RUNAS[@]}" "$PGBIN/createdb" -h "$SOCK" -p "$PORT" -U "$DBUSER" "$DBNAME"
  fi
  url
}

stop() {
  ours || return 0
  if running; then "${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null; fi
}

case "${1:-}" in
  start) start ;;
  url) running || die "not running (scripts/pg.sh start)"; url ;;
  env) running || die "not running (scripts/pg.sh start)"
       printf "export MDENRICH_DB_URL='%s'\n" "$(url)" ;;
  status) running ;;
  stop) stop ;;
  restart) ours; "${RUNAS[@]}" "$PGBIN/pg_ctl" -D "$DATA" -m fast -w restart >/dev/null ;;
  destroy) stop; if [ -d "$DIR" ]; then ours; rm -rf "$DIR"; fi ;;
  dir) echo "$DIR" ;;
  *) echo "usage: $0 start|url|env|status|stop|restart|destroy|dir" >&2; exit 2 ;;
esac
