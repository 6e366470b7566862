#!/usr/bin/env bash
# A throw-away PostgreSQL 15 cluster for the tests, on 127.0.0.1 and a free
# port, in a temporary directory.
#
#   postgres_cluster.sh start STATE_DIR [initdb/postgres options...]
#       initdb, start, create the database herald_test; writes
#       STATE_DIR/dsn (a libpq connection string for it) and
#       STATE_DIR/pgdata (where the cluster lives).
#   postgres_cluster.sh stop STATE_DIR
#       stops the cluster and removes its files.
#
# PostgreSQL refuses to run as root: as root, the cluster runs as `nobody`
# (setpriv), in a directory under /tmp that nobody owns. Nothing is
# installed or left running: ctest's fixture (tests/CMakeLists.txt) stops
# it after the last test that needs it, and so do the end-to-end tests that
# start their own.
set -euo pipefail

cmd=${1:?usage: postgres_cluster.sh start|stop STATE_DIR}
state=${2:?usage: postgres_cluster.sh start|stop STATE_DIR}
shift 2
bindir=$(pg_config --bindir)

as_cluster_user() {
  if [ "$(id -u)" = 0 ]; then
    setpriv --reuid=nobody --regid=nogroup --clear-groups -- "$@"
  else
    "$@"
  fi
}

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

stop() {
  [ -f "$state/pgdata" ] || return 0
  local data
  data=$(cat "$state/pgdata")
  if [ -f "$data/postmaster.pid" ]; then
    as_cluster_user "$bindir/pg_ctl" stop -D "$data" -m fast -w >/dev/null 2>&1 || true
  fi
  rm -rf "$(dirname "$data")"
  rm -f "$state/pgdata" "$state/dsn"
}

start() {
  mkdir -p "$state"
  stop
  local root data port
  root=$(mktemp -d /tmp/herald-postgres.XXXXXX)
  data=$root/data
  if [ "$(id -u)" = 0 ]; then chown nobody:nogroup "$root"; fi
  echo "$data" >"$state/pgdata"
  # -N: initdb's own fsync of the template files only; the server keeps
  # fsync and synchronous_commit on.
  as_cluster_user "$bindir/initdb" -D "$data" -U herald --auth=trust \
    -E UTF8 --no-locale -N >"$root/initdb.log" 2>&1 || {
    cat "$root/initdb.log" >&2
    return 1
  }
  for attempt in 1 2 3; do
    port=$(free_port)
    if as_cluster_user "$bindir/pg_ctl" start -D "$data" -w -t 60 \
      -l "$data/server.log" -o "-c listen_addresses=127.0.0.1 -c port=$port \
        -c unix_socket_directories='' -c max_connections=300 $*" \
      >/dev/null; then
      break
    fi
    [ "$attempt" = 3 ] && {
      cat "$data/server.log" >&2
      return 1
    }
  done
  "$bindir/psql" -qX "host=127.0.0.1 port=$port user=herald dbname=postgres" \
    -c 'CREATE DATABASE herald_test' >/dev/null
  echo "host=127.0.0.1 port=$port user=herald dbname=herald_test" >"$state/dsn"
}

case "$cmd" in
  start) start "$@" ;;
  stop) stop ;;
  *)
    echo "usage: postgres_cluster.sh start|stop STATE_DIR" >&2
    exit 2
    ;;
esac
