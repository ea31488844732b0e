#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# tools/install-deps (issue 10 item 1) waits for a held dpkg lock instead of
# failing at once: a stand-in holds /var/lib/dpkg/lock-frontend (as
# unattended-upgrades would on a fresh machine) while install-deps' apt-get
# runs an install that changes nothing (procps is installed: it is one of
# install-deps' own packages); it waits, and succeeds once the lock is free.
set -u
: "${SOURCE_ROOT:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
P=0 F=0
ok() { P=$((P + 1)); echo "ok - $*"; }
fail() { F=$((F + 1)); echo "not ok - $*"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else fail "$d"; fi; }
wait_for() {
        local i
        for i in $(seq 300); do "$@" && return 0; sleep 0.1; done
        return 1
}
exited() { ! kill -0 "$1" 2>/dev/null; }
# True once a child apt-get of $1 sleeps between tries of the lock (apt
# polls it once a second; without the timeout it fails at the first try).
apt_waiting() {
        local c
        for c in $(pgrep -P "$1" -x apt-get); do
                [[ $(cat /proc/"$c"/wchan 2>/dev/null) == *nanosleep* ]] && return 0
        done
        return 1
}

# shellcheck source=../../tools/install-deps
source "$SOURCE_ROOT/tools/install-deps"
check "install-deps defines apt_get when sourced" declare -F apt_get
check "procps is installed (nothing to change)" dpkg-query -W procps

tmp=$(mktemp -d /tmp/ovdeps.XXXXXX)
python3 -c '
import fcntl, sys, time
f = open("/var/lib/dpkg/lock-frontend", "r+")
fcntl.lockf(f, fcntl.LOCK_EX)     # what apt and dpkg take (fcntl)
print("held", flush=True)
while True:
    time.sleep(3600)
' >"$tmp/holder.out" &
holder=$!
trap 'kill -KILL "$holder" 2>/dev/null; rm -rf "$tmp"' EXIT
check "a stand-in holds the dpkg frontend lock" wait_for grep -q held "$tmp/holder.out"

(apt_get install -y -qq --no-install-recommends procps >"$tmp/apt.out" 2>&1; echo $? >"$tmp/apt.rc") &
runner=$!
check "install-deps' apt-get waits for the lock" wait_for apt_waiting "$runner"
check "it is still waiting while the lock is held" test ! -e "$tmp/apt.rc"
kill -KILL "$holder"
wait "$holder" 2>/dev/null
check "it finishes once the lock is free" wait_for exited "$runner"
wait "$runner"
rc=$(cat "$tmp/apt.rc" 2>/dev/null)
check "and succeeds" test "$rc" = 0
out=$(cat "$tmp/apt.out")
if [[ $out == *"Could not get lock"* ]]; then fail "it did not fail on the lock: $out"; else ok "it did not fail on the lock"; fi

echo "$P passed, $F failed"
[[ $F -eq 0 ]]
