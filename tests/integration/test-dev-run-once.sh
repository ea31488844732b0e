#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tools/dev-run (issue 10 item 1): a second run in the same scratch dir
# refuses to start, says how to reach the running instance, and leaves the
# first one serving; a run in another scratch dir is independent.
set -u
: "${SOURCE_ROOT:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${BUILD_DIR:=$SOURCE_ROOT/build}"
P=0 F=0
ok() { P=$((P + 1)); echo "ok - $*"; }
fail() { F=$((F + 1)); echo "not ok - $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else fail "$d"; fi; }
assert_contains() { if [[ "$2" == *"$3"* ]]; then ok "$1"; else fail "$1: [$2] lacks [$3]"; fi; }

tmp=$(mktemp -d /tmp/ovdevrun.XXXXXX)
pgids=()
cleanup() {
        local g
        for g in "${pgids[@]}"; do kill -TERM -- "-$g" 2>/dev/null; done
        for g in "${pgids[@]}"; do
                for _ in $(seq 100); do kill -0 -- "-$g" 2>/dev/null || break; sleep 0.1; done
                kill -KILL -- "-$g" 2>/dev/null
        done
        rm -rf "$tmp"
}
trap cleanup EXIT
wait_for() {
        local i
        for i in $(seq 600); do "$@" && return 0; sleep 0.1; done
        return 1
}
ready() { grep -q "orgvault is ready" "$1"; }
exited() { ! kill -0 "$1" 2>/dev/null; }
buses() { pgrep -f -- "--config-file=$1/bus.conf" | wc -l; }
lists_demo() {
        busctl --address="unix:path=$1/bus" call io.orgvault.Vault1 /io/orgvault/Vault1 \
                io.orgvault.Vault1.Manager ListSecrets 'sa{sv}' demo 0 >/dev/null 2>&1
}

# Each instance in its own process group, so cleanup stops it with its bus.
start() {
        local scratch=$1 log=$2
        setsid env ORGVAULT_SCRATCH="$scratch" ORGVAULT_BUILD="$BUILD_DIR" "$SOURCE_ROOT/tools/dev-run" \
                >"$log" 2>&1 </dev/null &
        echo $!
}

first=$(start "$tmp/a" "$tmp/first.log")
pgids+=("$first")
check "the first dev-run comes up" wait_for ready "$tmp/first.log"
check "its bus serves orgvault" wait_for lists_demo "$tmp/a"

# In the foreground, bounded: without the lock it would serve (and replace
# the first's bus) until killed.
rc=0
setsid timeout 120 env ORGVAULT_SCRATCH="$tmp/a" ORGVAULT_BUILD="$BUILD_DIR" "$SOURCE_ROOT/tools/dev-run" \
        >"$tmp/second.log" 2>&1 </dev/null || rc=$?
check "a second dev-run in the same scratch dir exits by itself" test "$rc" -ne 124
check "with an error" test "$rc" -ne 0
msg=$(cat "$tmp/second.log")
assert_contains "it says one is running there" "$msg" "tools/dev-run is already running in $tmp/a (PID $first)"
assert_contains "it says how to reach it" "$msg" "export ORGVAULT_BUS_ADDRESS=unix:path=$tmp/a/bus"
check "one bus runs for that scratch dir" test "$(buses "$tmp/a")" -eq 1
check "the first instance still serves" lists_demo "$tmp/a"

third=$(start "$tmp/b" "$tmp/third.log")
pgids+=("$third")
check "a dev-run in another scratch dir comes up" wait_for ready "$tmp/third.log"
check "and serves" wait_for lists_demo "$tmp/b"
check "the first still serves too" lists_demo "$tmp/a"

# Stopped, the scratch dir is free again.
kill -TERM "$first"
check "the first dev-run stops" wait_for exited "$first"
no_bus() { [[ $(buses "$1") -eq 0 ]]; }
check "its bus is gone" wait_for no_bus "$tmp/a"
again=$(start "$tmp/a" "$tmp/again.log")
pgids+=("$again")
check "then a new dev-run there comes up" wait_for ready "$tmp/again.log"
check "and serves" wait_for lists_demo "$tmp/a"

echo "$P passed, $F failed"
[[ $F -eq 0 ]]
