# SPDX-License-Identifier: Apache-2.0
# Shared harness for the integration tests: a private dbus-daemon with
# orgvaultd D-Bus-activatable on it, scratch state/config/runtime dirs, test
# users, and assertions that end in "N passed, N failed".
#
# Source it, call ov_setup, write policy with ov_org_policy, then assert with
# ok/fail/assert_eq/... Calls go through busctl (as clients do) or gdbus
# (which prints D-Bus error names; busctl prints only messages).

set -u
: "${SOURCE_ROOT:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${BUILD_DIR:=$SOURCE_ROOT/build}"
: "${ORGVAULTD:=$BUILD_DIR/src/orgvaultd}"
: "${ORGVAULTCTL:=$BUILD_DIR/src/orgvaultctl}"

# The test users run orgvaultctl and the helper clients, and the checkout may
# sit where they can't go (a clone under a 0700 `mktemp -d`). Copies of those
# programs go to a directory every user can enter, laid out like the build
# dir, so BUILD_DIR/ORGVAULTCTL point there; orgvaultd itself runs as root.
ov_stage_programs() {
        local src=$BUILD_DIR f
        OV_STAGE=$(mktemp -d /tmp/ovbin.XXXXXX) || return 1
        chmod 0755 "$OV_STAGE"
        mkdir -p "$OV_STAGE/src" "$OV_STAGE/tests/integration"
        cp "$ORGVAULTCTL" "$OV_STAGE/src/orgvaultctl" || return 1
        for f in "$src"/tests/integration/*; do
                [[ -f $f && -x $f ]] && cp "$f" "$OV_STAGE/tests/integration/"
        done
        chmod -R a+rX "$OV_STAGE"
        OV_BUILD_DIR=$BUILD_DIR         # the real one, for what root runs from it
        BUILD_DIR=$OV_STAGE
        ORGVAULTCTL=$OV_STAGE/src/orgvaultctl
        # Said at once, not as a timeout later: can a test user run them?
        if ! setpriv --reuid=nobody --regid=nogroup --clear-groups -- test -x "$ORGVAULTCTL"; then
                echo "Bail out: test users cannot execute $ORGVAULTCTL (is /tmp mounted noexec or not world-enterable?)" >&2
                return 1
        fi
}
ov_unstage() { [[ -n ${OV_STAGE:-} ]] && rm -rf "$OV_STAGE"; OV_STAGE=; }
if [[ -z ${OV_STAGE:-} ]]; then
        ov_stage_programs || { echo "0 passed, 1 failed"; exit 1; }
        trap 'ov_teardown; ov_unstage' EXIT
fi

OV_PASSED=0
OV_FAILED=0
OV_DIR=
OV_BUS_PID=
OV_IDLE=${OV_IDLE:-30}
OV_EXTRA_ARGS=${OV_EXTRA_ARGS:-}
# The store every test runs against: files (default) or postgresql. With
# postgresql, each test gets a fresh database on the server at OV_PG_SOCK
# (tests/run --store=postgresql starts one for the suite), or starts its
# own server when none is given.
OV_STORE=${OV_STORE:-files}
OV_STORE_ARG=
OV_PG_DB=
OV_PG_OWN=
source "$(dirname "${BASH_SOURCE[0]}")/pg-lib.sh"

ok() { OV_PASSED=$((OV_PASSED + 1)); echo "ok - $*"; }
fail() { OV_FAILED=$((OV_FAILED + 1)); echo "not ok - $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else fail "$d"; fi; }
# ov_wait_for SECONDS CMD...: polls CMD until it succeeds or SECONDS of wall
# time pass (a deadline, not a count of tries: a saturated CPU slows the
# polling, not the bound). Tests wait for conditions, never for a fixed time.
ov_wait_for() {
        local end=$(($(date +%s%N) / 1000000 + $1 * 1000)); shift
        until "$@"; do
                (($(date +%s%N) / 1000000 >= end)) && return 1
                sleep 0.05
        done
}
assert_eq() { if [[ "$2" == "$3" ]]; then ok "$1"; else fail "$1: expected [$3], got [$2]"; fi; }
assert_contains() { if [[ "$2" == *"$3"* ]]; then ok "$1"; else fail "$1: [$2] lacks [$3]"; fi; }
assert_not_contains() { if [[ "$2" != *"$3"* ]]; then ok "$1"; else fail "$1: [$2] contains [$3]"; fi; }

ov_finish() {
        [[ -n $OV_DIR && -z ${OV_STDERR_CHECKED:-} ]] && ov_check_daemon_stderr
        ov_teardown
        echo "$OV_PASSED passed, $OV_FAILED failed"
        [[ $OV_FAILED -eq 0 ]]
}

# Test users and groups; dbus-daemon drops connections from uids NSS lacks.
# Names: ovt-alice (member of acme), ovt-bob (admin of acme), ovt-carol
# (admin of globex), ovt-eve (no role), ovt-alertd (consumer "alerts" in acme),
# ovt-surveyd (consumer "surveys" in acme); group ovt-acme (members of acme).
OV_USERS=(ovt-alice ovt-bob ovt-carol ovt-eve ovt-alertd ovt-surveyd)
ov_create_users() {
        getent group ovt-acme >/dev/null || groupadd -r ovt-acme 2>/dev/null || true
        getent group ovt-acme-admins >/dev/null || groupadd -r ovt-acme-admins 2>/dev/null || true
        local u
        # Another suite may hold the passwd lock for a moment: retry until
        # the user exists, with a deadline.
        for u in "${OV_USERS[@]}"; do
                ov_wait_for 30 ov_ensure_user "$u" || echo "cannot create user $u" >&2
        done
        id -nG ovt-alice | grep -qw ovt-acme || usermod -a -G ovt-acme ovt-alice
}

ov_ensure_user() {
        id "$1" >/dev/null 2>&1 || useradd -r -M -d /nonexistent -s /usr/sbin/nologin "$1" 2>/dev/null
}

# Makes dbus-daemon re-read its config and service files now: ReloadConfig
# returns once it has (a SIGHUP would do it at some later moment).
ov_reload_bus() {
        busctl --address="$OV_BUS" call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig >/dev/null
}

# The daemon's command line; tests may add flags through OV_EXTRA_ARGS.
ov_daemon_cmd() {
        echo "$ORGVAULTD --bus-address=unix:path=$OV_DIR/bus --state-dir=$OV_DIR/state" \
             "--config-dir=$OV_DIR/config --data-dir=$SOURCE_ROOT/policy --runtime-dir=$OV_DIR/run" \
             "--idle-timeout=$OV_IDLE --audit-log=$OV_DIR/audit.jsonl --keyring-timeout=0${OV_STORE_ARG:+ $OV_STORE_ARG}${OV_EXTRA_ARGS:+ $OV_EXTRA_ARGS}"
}

ov_write_service_file() {
        mkdir -p "$OV_DIR/services"
        cat >"$OV_DIR/services/io.orgvault.Vault1.service" <<EOF
[D-BUS Service]
Name=io.orgvault.Vault1
Exec=${OV_EXEC_PREFIX:+$OV_EXEC_PREFIX }$(ov_daemon_cmd)
EOF
}

# Hosts: ov_setup makes host "a" (its own dir, bus and daemon); a test of a
# shared store adds more with ov_add_host and switches with ov_use. All
# hosts of a test use the same store (database).
declare -A OV_HOST_DIR=() OV_HOST_BUS_PID=()
OV_HOST=

ov_setup() {
        ov_create_users
        ov_new_host a
        ov_setup_store || { echo "cannot set up the $OV_STORE store"; exit 1; }
        ov_write_service_file
        trap 'ov_teardown; ov_unstage' EXIT
}

# ov_add_host NAME: another host sharing the store; with the same master
# key as host a (a fleet: docs/CRYPTO.md) unless OV_NEW_MASTER_KEY is set.
ov_add_host() {
        local a_state=${OV_HOST_DIR[a]}/state
        ov_new_host "$1"
        if [[ -z ${OV_NEW_MASTER_KEY:-} && -f $a_state/master.key ]]; then
                cp -p "$a_state/master.key" "$OV_DIR/state/master.key"
        fi
        ov_write_service_file
}

ov_use() {
        OV_HOST=$1
        OV_DIR=${OV_HOST_DIR[$1]}
        OV_BUS_PID=${OV_HOST_BUS_PID[$1]}
        export OV_BUS="unix:path=$OV_DIR/bus"
        export ORGVAULT_BUS_ADDRESS=$OV_BUS
}

# The private bus's config: a session bus on $OV_DIR/bus that activates
# from $OV_DIR/services and lets everyone talk (the daemon's own checks are
# what is tested). Also the benchmarks' bus (bench-lib.sh).
ov_write_bus_conf() {
        cat >"$OV_DIR/bus.conf" <<EOF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-BUS Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <keep_umask/>
  <listen>unix:path=$OV_DIR/bus</listen>
  <auth>EXTERNAL</auth>
  <servicedir>$OV_DIR/services</servicedir>
  <policy context="default">
    <allow user="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
EOF
}

ov_new_host() {
        OV_DIR=$(mktemp -d /tmp/ovtest.XXXXXX)
        chmod 0755 "$OV_DIR"
        mkdir -p "$OV_DIR/state" "$OV_DIR/config/orgs.d" "$OV_DIR/run" "$OV_DIR/services"
        ov_write_bus_conf
        ov_default_policy
        # In the foreground (backgrounded here) so every daemon it activates
        # inherits this stderr: the daemon's log and any sanitizer report
        # land in daemon.stderr, which ov_finish checks.
        : >"$OV_DIR/daemon.stderr"
        # Started from a subshell so it is not a job of the test script: a
        # test's bare `wait` for its own background clients must not wait
        # for the bus.
        # OV_PRIVATE_KEYRING=1: the bus, and every daemon it activates, in an
        # anonymous session keyring not linked to the user keyring, as under
        # systemd's KeyringMode=private.
        local wrap=()
        [[ -n ${OV_PRIVATE_KEYRING:-} ]] && wrap=(keyctl session -)
        ("${wrap[@]}" dbus-daemon --config-file="$OV_DIR/bus.conf" --nofork 2>>"$OV_DIR/daemon.stderr" </dev/null >/dev/null &
         echo $! >"$OV_DIR/bus.pid")
        OV_HOST_DIR[$1]=$OV_DIR
        OV_HOST_BUS_PID[$1]=$(cat "$OV_DIR/bus.pid")
        ov_use "$1"
        ov_wait_for 30 test -S "$OV_DIR/bus" || echo "the private bus did not come up" >&2
}

# A test that is about the files themselves (disk full, a corrupt file)
# says so: with another store it is skipped, counted neither passed nor
# failed, with the reason printed.
ov_files_store_only() {
        [[ $OV_STORE == files ]] && return 0
        echo "skip - $(basename "$0") against the $OV_STORE store: $*"
        echo "0 passed, 0 failed"
        exit 0
}

ov_setup_store() {
        [[ $OV_STORE == postgresql ]] || return 0
        if [[ -z $OV_PG_SOCK ]]; then
                ov_pg_start "$(mktemp -d /tmp/ovpg.XXXXXX)" || return 1
                OV_PG_OWN=1
        fi
        OV_PG_DB=ov_$(basename "$OV_DIR" | tr -c 'a-zA-Z0-9\n' _ | tr 'A-Z' 'a-z')
        ov_pg_createdb "$OV_PG_DB" || return 1
        OV_STORE_ARG=--store=$(ov_pg_uri "$OV_PG_DB")
}

ov_teardown() {
        [[ -n $OV_DIR ]] || return 0
        local h cur=${OV_HOST:-a}
        for h in "${!OV_HOST_DIR[@]}"; do
                [[ $h == "$cur" ]] && continue
                ov_use "$h"
                ov_stop_daemon
                [[ -n $OV_BUS_PID ]] && kill "$OV_BUS_PID" 2>/dev/null
                [[ -n ${OV_KEEP:-} ]] || rm -rf "$OV_DIR"
                unset "OV_HOST_DIR[$h]"
        done
        [[ -n ${OV_HOST_DIR[$cur]:-} ]] && ov_use "$cur"
        ov_stop_daemon
        if [[ -n $OV_PG_OWN ]]; then
                ov_pg_stop immediate
                rm -rf "$OV_PG_DIR"
        elif [[ -n $OV_PG_DB ]]; then
                ov_pg_as "$OV_PG_BIN/dropdb" -h "$OV_PG_SOCK" -U orgvault --if-exists "$OV_PG_DB" 2>/dev/null || true
        fi
        [[ -n $OV_BUS_PID ]] && kill "$OV_BUS_PID" 2>/dev/null
        OV_BUS_PID=
        [[ -n ${OV_KEEP:-} ]] || rm -rf "$OV_DIR"
        OV_DIR=
}

# The pid of the running orgvaultd of this test's bus, if any.
ov_daemon_pid() {
        { pgrep -f -- "--state-dir=$OV_DIR/state" || true; } | head -n 1
}

ov_pid_gone() { ! kill -0 "$1" 2>/dev/null; }
ov_daemon_gone() { [[ -z $(ov_daemon_pid) ]]; }

ov_stop_daemon() {
        local pid
        pid=$(ov_daemon_pid)
        [[ -z $pid ]] && return 0
        kill -TERM "$pid" 2>/dev/null
        ov_wait_for 30 ov_pid_gone "$pid" && return 0
        kill -KILL "$pid" 2>/dev/null
}

# Default policy: acme (members alice by user + group ovt-acme, admin bob,
# consumers alertd [alerts] and surveyd [surveys, call-center-surveys]) and
# globex (admin carol).
ov_default_policy() {
        cat >"$OV_DIR/config/orgs.d/acme.json" <<EOF
{
  "org": "acme",
  "members":   { "users": ["ovt-alice"], "groups": ["ovt-acme"], "uids": [], "gids": [] },
  "admins":    { "users": ["ovt-bob"], "groups": [], "uids": [], "gids": [] },
  "consumers": [
    { "name": "alerts", "units": ["alertd.service"], "users": ["ovt-alertd"], "uids": [], "features": ["alerts"] },
    { "name": "surveys", "units": ["surveyd.service"], "users": ["ovt-surveyd"], "features": ["surveys", "call-center-surveys"] }
  ]
}
EOF
        cat >"$OV_DIR/config/orgs.d/globex.json" <<EOF
{
  "org": "globex",
  "members":   { "users": [], "groups": [], "uids": [], "gids": [] },
  "admins":    { "users": ["ovt-carol"], "groups": [], "uids": [], "gids": [] },
  "consumers": []
}
EOF
}

# as USER CMD...: run as that user with its groups (root: run directly).
as() {
        local u=$1; shift
        if [[ $u == root ]]; then "$@"; return; fi
        setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups -- "$@"
}

# ovbus USER METHOD SIGNATURE ARGS...: busctl call on the Manager.
ovbus() {
        local u=$1 m=$2; shift 2
        as "$u" busctl --address="$OV_BUS" call io.orgvault.Vault1 /io/orgvault/Vault1 \
                io.orgvault.Vault1.Manager "$m" "$@"
}
# Same, JSON output (busctl --json=short).
ovbus_json() {
        local u=$1 m=$2; shift 2
        as "$u" busctl --address="$OV_BUS" --json=short call io.orgvault.Vault1 /io/orgvault/Vault1 \
                io.orgvault.Vault1.Manager "$m" "$@"
}

# ovgdbus USER METHOD GVARIANT-ARGS...: gdbus call; prints the reply, or
# "GDBus.Error:<name>: <message>" on stderr.
ovgdbus() {
        local u=$1 m=$2; shift 2
        as "$u" gdbus call --address "$OV_BUS" --dest io.orgvault.Vault1 --object-path /io/orgvault/Vault1 \
                --method "io.orgvault.Vault1.Manager.$m" -- "$@"
}

# The D-Bus error name a call fails with ("" when it succeeds).
ov_error_of() {
        local out
        if out=$(ovgdbus "$@" 2>&1); then echo ""; return; fi
        out=${out#*GDBus.Error:}
        echo "${out%%:*}"
}

# assert_error DESC ERRORNAME USER METHOD ARGS...
assert_error() {
        local d=$1 e=$2; shift 2
        local got
        got=$(ov_error_of "$@")
        assert_eq "$d" "$got" "$e"
}
assert_allowed() {
        local d=$1; shift
        local got
        got=$(ov_error_of "$@")
        if [[ $got == "" || $got != org.freedesktop.DBus.Error.AccessDenied ]]; then ok "$d"; else fail "$d: $got"; fi
}

# A hash of every file (name, mode, content) under the state dir.
# With the postgresql store, also every row the store holds.
ov_state_hash() {
        { (cd "$OV_DIR/state" && find . -type f -printf '%p %m\n' | sort && find . -type f -print0 | sort -z | xargs -0 -r cat)
          if [[ -n $OV_PG_DB ]]; then
                ov_psql "$OV_PG_DB" "SELECT org, keys::text, keys_rev, usage::text, changes FROM orgvault_orgs ORDER BY org"
                ov_psql "$OV_PG_DB" "SELECT org, id, rev, record::text FROM orgvault_records ORDER BY org, id"
          fi; } | sha256sum | cut -d' ' -f1
}

# Fake values only (DEVELOPERS' rule): they match the types' patterns.
OV_FAKE_SLACK='https://hooks.slack.com/services/TFAKE0000/BFAKE0000/xxxxxxxxxxxxxxxxxxxxxxxx'
OV_FAKE_SLACK2='https://hooks.slack.com/services/TFAKE0001/BFAKE0001/yyyyyyyyyyyyyyyyyyyyyyyy'
OV_FAKE_OPENAI='sk-proj-FAKEfakeFAKEfake_FAKE-fakeFAKEfake0000'

# ov_add USER ORG NAME [URL]: add a Slack webhook through busctl; prints the id.
ov_add_slack() {
        local u=$1 org=$2 name=$3 url=${4:-$OV_FAKE_SLACK}
        ovbus "$u" AddSecret sssa{ss}a{sv} "$org" slack-webhook "$name" 1 webhook_url "$url" 0 |
                sed -n 's/^sas "\([^"]*\)".*/\1/p'
}

# --- Helpers added by the itest scripts (appended; the ones above are unchanged) ---

# ov_error_full USER METHOD GVARIANT-ARGS...: "" when the call succeeds, else
# "<error name>: <message>" (gdbus's "GDBus.Error:" prefix and "(n)" tail cut).
ov_error_full() {
        local out
        if out=$(ovgdbus "$@" 2>&1); then echo ""; return; fi
        out=${out#*GDBus.Error:}
        echo "$out" | head -n 1
}

# ov_py EXPR: runs a Python statement with the JSON on stdin as d (e.g. the
# output of ovbus_json, whose d["data"] holds the out arguments).
ov_py() {
        python3 -c "import json, sys
d = json.load(sys.stdin)
$1"
}

# Activation through sh so the daemon's stderr (logs, sanitizer reports) lands
# in $OV_DIR/daemon.stderr; call after ov_setup, before the first call.
# dbus-daemon caches service files by their mtime in whole seconds and picks
# up a rewrite through inotify only later: ReloadConfig makes it re-read now.
ov_capture_daemon_stderr() {
        # Every activated daemon's stderr already goes to daemon.stderr (see
        # ov_setup); start it afresh for what follows.
        : >"$OV_DIR/daemon.stderr"
}

# Stops the daemon (so a sanitizer build prints its leak report) and asserts
# that its stderr holds no sanitizer report.
ov_check_daemon_stderr() {
        OV_STDERR_CHECKED=1
        ov_stop_daemon
        local f=$OV_DIR/daemon.stderr
        if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$f" 2>/dev/null; then
                fail "daemon stderr has a sanitizer report"
                grep -E -A12 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$f" | head -n 40 | sed 's/^/    /'
        else
                ok "daemon stderr has no sanitizer report"
        fi
}

# What the store holds, whichever it is (files or postgresql), for tests
# that look under the daemon: an org's usage JSON, a record's JSON text, the
# orgs it knows (one a line).
ov_store_usage() {
        if [[ -n $OV_PG_DB ]]; then
                ov_psql "$OV_PG_DB" "SELECT usage::text FROM orgvault_orgs WHERE org = '$1'"
        else
                cat "$OV_DIR/state/orgs/$1/usage.json" 2>/dev/null
        fi
}
ov_store_record() {
        if [[ -n $OV_PG_DB ]]; then
                ov_psql "$OV_PG_DB" "SELECT record::text FROM orgvault_records WHERE org = '$1' AND id = '$2'"
        else
                cat "$OV_DIR/state/orgs/$1/secrets/$2.json" 2>/dev/null
        fi
}
ov_store_orgs() {
        if [[ -n $OV_PG_DB ]]; then
                ov_psql "$OV_PG_DB" "SELECT org FROM orgvault_orgs ORDER BY org"
        else
                ls "$OV_DIR/state/orgs"
        fi
}
