#!/bin/sh
# pg_ctl for pytest-postgresql: PostgreSQL refuses to run as root, and CI runs the tests as root.
# As root, make the data directory's parent (pytest's temp dir) reachable by the `postgres` user
# and run pg_ctl as that user; as anyone else, run pg_ctl as is.
set -eu
PG_CTL="${TASKFLOW_PG_CTL:-/usr/lib/postgresql/15/bin/pg_ctl}"
if [ "$(id -u)" != 0 ]; then
    exec "$PG_CTL" "$@"
fi
datadir=""
previous=""
for arg in "$@"; do
    case "$previous" in -D | --pgdata) datadir="$arg" ;; esac
    case "$arg" in --pgdata=*) datadir="${arg#--pgdata=}" ;; esac
    previous="$arg"
done
if [ -n "$datadir" ]; then
    parent=$(dirname "$datadir")
    chown postgres "$parent"
    # Only traversal (x), not listing, for every ancestor of pytest's temp dir.
    dir="$parent"
    while [ "$dir" != / ]; do
        dir=$(dirname "$dir")
        chmod o+x "$dir"
    done
fi
cd /tmp
exec runuser -u postgres -- "$PG_CTL" "$@"
