#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# One daemon per state dir (issue 10 item 1): a second orgvaultd on the same
# --state-dir waits for the state lock (<state>/lock) and gives up with a
# clear error while the first keeps serving, having read and written
# nothing; one activated while the lock is held (a daemon finishing its idle
# exit) waits, then serves; a holder that dies leaves no stale lock.
source "$(dirname "$0")/lib.sh"

OV_IDLE=0
ov_setup
ov_capture_daemon_stderr

SLACK="{'webhook_url': '$OV_FAKE_SLACK'}"

has_owner() {
        busctl --address="$OV_BUS" --json=short call org.freedesktop.DBus /org/freedesktop/DBus \
                org.freedesktop.DBus NameHasOwner s io.orgvault.Vault1 | ov_py 'print(str(d["data"][0]).lower())'
}
owner_pid() {
        busctl --address="$OV_BUS" --json=short call org.freedesktop.DBus /org/freedesktop/DBus \
                org.freedesktop.DBus GetConnectionUnixProcessID s io.orgvault.Vault1 | ov_py 'print(d["data"][0])'
}
# wait_for DESC CMD...: polls CMD until it succeeds; generous bound, no
# timing is asserted.
wait_for() {
        local i
        for i in $(seq 300); do
                "$@" && return 0
                sleep 0.1
        done
        return 1
}
owned() { [[ $(has_owner) == true ]]; }
not_owned() { [[ $(has_owner) == false ]]; }
daemon_running() { [[ -n $(ov_daemon_pid) ]]; }
exited() { ! kill -0 "$1" 2>/dev/null; }
# True once process $1 has the state dir's lock file open.
has_lock_open() {
        local fd
        for fd in /proc/"$1"/fd/*; do
                [[ $(readlink "$fd" 2>/dev/null) == "$OV_DIR/state/lock" ]] && return 0
        done
        return 1
}
# True when process $1 holds an exclusive flock on the lock file.
holds_lock() {
        local ino
        ino=$(stat -c %i "$OV_DIR/state/lock")
        grep -Eq "^[0-9]+: FLOCK +ADVISORY +WRITE +$1 [0-9a-f]+:[0-9a-f]+:$ino " /proc/locks
}
daemons() { pgrep -f -- "--state-dir=$OV_DIR/state" | wc -l; }

# --- A first daemon, started by hand, serving ---
# shellcheck disable=SC2046
$(ov_daemon_cmd) 2>>"$OV_DIR/daemon.stderr" </dev/null >/dev/null &
first=$!
check "the first daemon owns the name" wait_for owned
check "an admin adds through it" ovgdbus ovt-bob AddSecret acme slack-webhook "Ops Slack" "$SLACK" "{'id': <'ops-slack'>}"
check "the lock file exists and is empty (holding it writes nothing)" test -f "$OV_DIR/state/lock" -a ! -s "$OV_DIR/state/lock"
check "the first daemon holds it" holds_lock "$first"

# A write of the first daemon that is under way (its temp file): a second
# daemon that cleaned up leftovers without the lock would delete it.
inflight=$OV_DIR/state/.#master.key.0123456789ab
: >"$inflight"
before=$(ov_state_hash)

# --- A second daemon on the same state dir: waits, then gives up ---
second_log=$OV_DIR/second.stderr
# shellcheck disable=SC2046
$(ov_daemon_cmd) --lock-timeout=1 2>"$second_log" </dev/null >/dev/null &
second=$!
check "the second daemon exits" wait_for exited "$second"
wait "$second"
rc=$?
check "the second daemon exits with an error" test "$rc" -ne 0
err=$(cat "$second_log")
assert_contains "it names the running daemon" "$err" "Another orgvaultd (PID $first) is using $OV_DIR/state"
assert_contains "it names the lock" "$err" "$OV_DIR/state/lock was still held after 1.0 s"
assert_not_contains "it did not get as far as the bus" "$err" "Serving"
check "the in-flight temp file of the first daemon is still there" test -e "$inflight"
assert_eq "the second daemon changed nothing in the state dir" "$(ov_state_hash)" "$before"
assert_eq "the first daemon still owns the name" "$(owner_pid)" "$first"
assert_eq "one daemon runs" "$(daemons)" 1
out=$(ovgdbus ovt-alice GetSecret acme ops-slack 2>&1)
assert_contains "the first daemon still answers" "$out" "Ops Slack"
rm -f "$inflight"

# --- Activation while the lock is held (as by a daemon finishing its idle exit) ---
kill -TERM "$first"
check "the first daemon exits on SIGTERM" wait_for exited "$first"
wait "$first" 2>/dev/null
check "the name is free" wait_for not_owned
# A holder that is then killed: a crash must not leave a stale lock.
python3 -c '
import fcntl, sys, time
f = open(sys.argv[1], "r+")
fcntl.flock(f, fcntl.LOCK_EX)
print("held", flush=True)
while True:
    time.sleep(3600)
' "$OV_DIR/state/lock" >"$OV_DIR/holder.out" &
holder=$!
check "a stand-in holds the lock" wait_for grep -q held "$OV_DIR/holder.out"
ovgdbus ovt-alice GetSecret acme ops-slack >"$OV_DIR/activated.out" 2>&1 &
client=$!
check "the call activated a daemon" wait_for daemon_running
waiting=$(ov_daemon_pid)
check "the activated daemon opened the lock" wait_for has_lock_open "$waiting"
assert_eq "while the lock is held it has not taken the name" "$(has_owner)" false
check "the client is still waiting for its answer" kill -0 "$client"
kill -KILL "$holder"
wait "$holder" 2>/dev/null
check "the client is answered once the holder died" wait_for exited "$client"
wait "$client"
check "the call succeeded" test $? -eq 0
assert_contains "with the secret" "$(cat "$OV_DIR/activated.out")" "Ops Slack"
assert_eq "the activated daemon serves" "$(owner_pid)" "$waiting"
check "and holds the lock" holds_lock "$waiting"
assert_eq "one daemon runs" "$(daemons)" 1

ov_finish
