#!/bin/sh
# Start PostgreSQL, initialising PGDATA first if it holds no cluster yet.
# Env: POSTGRES_PASSWORD (required on first start), POSTGRES_USER, POSTGRES_DB, PGDATA,
# POSTGRES_SOCKET_DIR (default /var/run/postgresql; tests run this script outside the image).
# Extra arguments go to `postgres` (e.g. -c max_connections=200).
set -eu

: "${PGDATA:=/var/lib/postgresql/data/pgdata}"
: "${POSTGRES_USER:=taskflow}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
SOCKET_DIR="${POSTGRES_SOCKET_DIR:-/var/run/postgresql}"

log() { printf '{"level": "INFO", "logger": "taskflow-postgres", "message": "%s"}\n' "$*"; }

initialise() {
    if [ -z "${POSTGRES_PASSWORD:-}" ]; then
        echo "taskflow-postgres: POSTGRES_PASSWORD must be set to initialise $PGDATA" >&2
        exit 1
    fi
    # Build the cluster beside PGDATA and move it into place only when complete, so a start that
    # dies half-way leaves nothing that looks like a cluster.
    staging="$PGDATA.initialising"
    rm -rf "$staging"
    password_file=$(mktemp)
    trap 'rm -f "$password_file"' EXIT
    printf '%s\n' "$POSTGRES_PASSWORD" > "$password_file"
    log "initialising a new cluster in $PGDATA"
    initdb --pgdata="$staging" --username="$POSTGRES_USER" --pwfile="$password_file" \
        --auth-local=scram-sha-256 --auth-host=scram-sha-256 --encoding=UTF8 --locale=C >/dev/null
    rm -f "$password_file"
    # Pods reach the server over the pod network, not only loopback.
    printf 'host all all 0.0.0.0/0 scram-sha-256\nhost all all ::/0 scram-sha-256\n' >> "$staging/pg_hba.conf"
    if [ "$POSTGRES_DB" != postgres ]; then
        echo "CREATE DATABASE \"$POSTGRES_DB\" OWNER \"$POSTGRES_USER\";" \
            | postgres --single -D "$staging" -c unix_socket_directories="$SOCKET_DIR" postgres >/dev/null
    fi
    mv "$staging" "$PGDATA"
    log "cluster initialised"
}

# Every deploy may bring a new POSTGRES_PASSWORD (the Secret is generated per run) while the volume
# keeps the cluster: set the role's password to the current one on every start, in single-user mode
# before the server listens, so the apps' DATABASE_URL always logs in.
sync_password() {
    if [ -z "${POSTGRES_PASSWORD:-}" ]; then
        log "POSTGRES_PASSWORD is not set; keeping the stored password"
        return
    fi
    escaped=$(printf '%s' "$POSTGRES_PASSWORD" | sed "s/'/''/g")
    printf 'ALTER ROLE "%s" PASSWORD '"'"'%s'"'"';\n' "$POSTGRES_USER" "$escaped" \
        | postgres --single -D "$PGDATA" -c unix_socket_directories="$SOCKET_DIR" -c log_min_messages=FATAL postgres >/dev/null
    log "password of role $POSTGRES_USER set from POSTGRES_PASSWORD"
}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    initialise
else
    sync_password
fi

exec postgres -D "$PGDATA" \
    -c listen_addresses='*' \
    -c unix_socket_directories="$SOCKET_DIR" \
    "$@"
