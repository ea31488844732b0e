#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Activation (docs/ARCHITECTURE.md, docs/API.md; issue 3 item 4): the first call starts the
# daemon through the bus; after --idle-timeout with no call it releases its
# name and exits; the next call starts it again with every secret as it was.
source "$(dirname "$0")/lib.sh"

# Long enough that a saturated CPU can't let the daemon idle out between
# two checks of one running daemon; the idle exits are waited for.
OV_IDLE=8
ov_setup
ov_capture_daemon_stderr

ovgdbus_quiet() { ovgdbus "$@" >/dev/null; }
NOOPTS='@a{sv} {}'
SLACK="{'webhook_url': '$OV_FAKE_SLACK'}"

has_owner() {
        busctl --address="$OV_BUS" --json=short call org.freedesktop.DBus /org/freedesktop/DBus \
                org.freedesktop.DBus NameHasOwner s io.orgvault.Vault1 | ov_py 'print(str(d["data"][0]).lower())'
}
owner_pid() {
        busctl --address="$OV_BUS" --json=short call org.freedesktop.DBus /org/freedesktop/DBus \
                org.freedesktop.DBus GetConnectionUnixProcessID s io.orgvault.Vault1 | ov_py 'print(d["data"][0])'
}
# Polls (without calling the daemon, which would keep it alive) until no
# orgvaultd of this test runs; generous bound, no timing is asserted.
wait_gone() { ov_wait_for 60 ov_daemon_gone; }
# "id name type created updated" per secret of acme, as ovt-alice sees them.
listing() {
        ovbus_json ovt-alice ListSecrets 'sa{sv}' acme 0 |
                ov_py 'print("\n".join(" ".join(map(str, r[:5])) for r in d["data"][0]))'
}

# --- Cold start: nothing runs, the name is activatable ---
check "no daemon before the first call" test -z "$(ov_daemon_pid)"
assert_eq "the name has no owner before the first call" "$(has_owner)" false
names=$(busctl --address="$OV_BUS" call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus \
        ListActivatableNames)
assert_contains "the name is activatable" "$names" '"io.orgvault.Vault1"'

# Several clients at once: each is answered, by one daemon.
pids=()
for i in 1 2 3 4 5; do
        ovgdbus ovt-bob AddSecret acme slack-webhook "Cold $i" "$SLACK" "{'id': <'cold-$i'>}" >"$OV_DIR/cold-$i.out" 2>&1 &
        pids+=($!)
done
for i in 1 2 3 4 5; do
        wait "${pids[$((i - 1))]}"
        check "cold call $i was answered" test $? -eq 0
done
first=$(ov_daemon_pid)
check "the first call started the daemon" test -n "$first"
assert_eq "exactly one daemon runs" "$(pgrep -f -- "--state-dir=$OV_DIR/state" | wc -l)" 1
assert_eq "the name is owned" "$(has_owner)" true
assert_eq "the owner is the daemon process" "$(owner_pid)" "$first"

# More state: an update, a rename, and (with Resolve) a recorded use.
check "update cold-2" ovgdbus ovt-bob UpdateSecret acme cold-2 "{'webhook_url': '$OV_FAKE_SLACK2'}"
check "rename cold-3" ovgdbus ovt-bob RenameSecret acme cold-3 "Warm 3"
check "delete cold-5" ovgdbus ovt-bob DeleteSecret acme cold-5 false
resolved=0
if as ovt-alertd busctl --address="$OV_BUS" call io.orgvault.Vault1 /io/orgvault/Vault1 \
        io.orgvault.Vault1.Manager Resolve ss acme cold-1 >/dev/null 2>&1; then
        resolved=1
fi
check "a consumer resolved cold-1" test $resolved -eq 1
before=$(listing)
assert_eq "four secrets before the idle exit" "$(wc -l <<<"$before")" 4
get_before=$(ovgdbus ovt-alice GetSecret acme cold-2)

# --- Idle exit ---
check "the daemon exits when idle" wait_gone
check "the daemon process is gone" test -z "$(ov_daemon_pid)"
assert_eq "it released the name" "$(has_owner)" false
check "no sanitizer report at the idle exit" bash -c "! grep -qE 'ERROR: (Address|Leak)Sanitizer|runtime error:' '$OV_DIR/daemon.stderr'"
idle_hash=$(ov_state_hash)

# The lazily kept LastUsed reached the disk before the exit.
assert_contains "LastUsed of cold-1 was written at exit" "$(ov_store_usage acme)" '"cold-1"'

# --- Re-activation: every secret as it was ---
after=$(listing)
second=$(ov_daemon_pid)
check "the next call started the daemon again" test -n "$second"
check "as a new process" test "$second" != "$first"
assert_eq "the same secrets with the same names and times" "$after" "$before"
assert_eq "GetSecret of cold-2 is unchanged (version, times)" "$(ovgdbus ovt-alice GetSecret acme cold-2)" "$get_before"
last_used=$(ovbus_json ovt-alice GetSecret ss acme cold-1 | ov_py 'print(d["data"][0]["LastUsed"]["data"])')
check "LastUsed of cold-1 survived the restart ($last_used)" test "${last_used:-0}" -gt 0
status=$(ovbus_json root Status | ov_py 'print(d["data"][0]["Secrets"]["data"])')
assert_eq "Status counts the secrets" "$status" 4
assert_eq "reading after re-activation wrote nothing" "$(ov_state_hash)" "$idle_hash"

# --- And once more after a second idle exit: writes made by the second run persist ---
check "add after re-activation" ovgdbus ovt-bob AddSecret acme slack-webhook "Second Run" "$SLACK" "$NOOPTS"
expected=$(listing)
check "the daemon exits when idle again" wait_gone
assert_eq "it released the name again" "$(has_owner)" false
assert_eq "after the third activation the listing is the same" "$(listing)" "$expected"

ov_check_daemon_stderr
ov_finish
