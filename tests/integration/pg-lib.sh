# SPDX-License-Identifier: Apache-2.0
# A real PostgreSQL 15 for the tests, from Debian's packages: a cluster in a
# scratch dir run by a system user (never root), reachable only on a Unix
# socket in that dir (listen_addresses=''). Sourced by lib.sh.
#
#   ov_pg_start DIR      initdb + pg_ctl start; sets OV_PG_SOCK
#   ov_pg_stop [MODE]    pg_ctl stop (fast; "immediate" = crash-like)
#   ov_pg_restart        start again on the same data
#   ov_pg_createdb NAME  a fresh database
#   ov_pg_uri NAME       the store URI for orgvaultd --store=
#   ov_psql NAME SQL     runs SQL, unaligned tuples on stdout

: "${OV_PG_BIN:=/usr/lib/postgresql/15/bin}"
OV_PG_USER=ovt-pg
OV_PG_DIR=${OV_PG_DIR:-}
OV_PG_SOCK=${OV_PG_SOCK:-}

ov_pg_as() { runuser -u "$OV_PG_USER" -- "$@"; }

ov_pg_start() {
        OV_PG_DIR=$1
        id "$OV_PG_USER" >/dev/null 2>&1 || useradd -r -M -d /nonexistent -s /usr/sbin/nologin "$OV_PG_USER" 2>/dev/null ||
                id "$OV_PG_USER" >/dev/null 2>&1 || return 1
        mkdir -p "$OV_PG_DIR"
        chown "$OV_PG_USER" "$OV_PG_DIR"
        chmod 0755 "$OV_PG_DIR"
        OV_PG_SOCK=$OV_PG_DIR
        # trust on the socket for the suite's superuser; the password path
        # is tested with its own role (test-pg-hosts.sh).
        ov_pg_as "$OV_PG_BIN/initdb" -D "$OV_PG_DIR/data" -U orgvault --auth-local=trust --auth-host=reject \
                -E UTF8 --no-locale >"$OV_PG_DIR/initdb.log" 2>&1 || { cat "$OV_PG_DIR/initdb.log"; return 1; }
        cat >>"$OV_PG_DIR/data/postgresql.conf" <<CONF
listen_addresses = ''
unix_socket_directories = '$OV_PG_SOCK'
fsync = on
synchronous_commit = on
max_connections = 200
shared_buffers = 32MB
CONF
        ov_pg_restart
}

ov_pg_restart() {
        ov_pg_as "$OV_PG_BIN/pg_ctl" -D "$OV_PG_DIR/data" -l "$OV_PG_DIR/server.log" -w -t 60 start >/dev/null
}

ov_pg_stop() {
        [[ -n $OV_PG_DIR && -d $OV_PG_DIR/data ]] || return 0
        ov_pg_as "$OV_PG_BIN/pg_ctl" -D "$OV_PG_DIR/data" -m "${1:-fast}" -w -t 60 stop >/dev/null 2>&1 || true
}

ov_pg_running() { ov_pg_as "$OV_PG_BIN/pg_ctl" -D "$OV_PG_DIR/data" status >/dev/null 2>&1; }

ov_pg_createdb() {
        ov_pg_as "$OV_PG_BIN/createdb" -h "$OV_PG_SOCK" -U orgvault "$1"
}

ov_pg_uri() {
        echo "postgresql:///$1?host=$OV_PG_SOCK&user=${2:-orgvault}"
}

ov_psql() {
        local db=$1; shift
        ov_pg_as "$OV_PG_BIN/psql" -h "$OV_PG_SOCK" -U orgvault -d "$db" -X -q -A -t -v ON_ERROR_STOP=1 -c "$*"
}
