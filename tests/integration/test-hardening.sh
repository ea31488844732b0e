#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Small findings of the outside review (issue 10 item 6):
#  - Unseal checks who calls before anything about the passphrase, and its
#    bound (1 to 1024 bytes) and message are docs/CRYPTO.md's;
#  - the daemon forgets a peer's cached credentials only when the bus itself
#    says the peer left, not when a client broadcasts a forged
#    NameOwnerChanged.
source "$(dirname "$0")/lib.sh"

OV_EXTRA_ARGS="--key-mode=passphrase --log-level=debug"
ov_setup
ov_capture_daemon_stderr

wait_for() {
        local i
        for i in $(seq 300); do "$@" && return 0; sleep 0.1; done
        return 1
}
long() { python3 -c "print('x' * $1, end='')"; }

# The bus's own monitor, before the first call activates the daemon: it
# shows the match rules the daemon registers.
dbus-monitor --address "$OV_BUS" >"$OV_DIR/monitor.out" 2>&1 &
monitor=$!
check "a bus monitor runs" wait_for test -s "$OV_DIR/monitor.out"

# --- Unseal: authorization first, then the bound ---
assert_error "an outsider's over-long passphrase is AccessDenied, not InvalidArgs" \
        org.freedesktop.DBus.Error.AccessDenied ovt-eve Unseal "$(long 2000)"
assert_error "an outsider's empty passphrase is AccessDenied" org.freedesktop.DBus.Error.AccessDenied ovt-eve Unseal ""
assert_error "an admin's too is AccessDenied" org.freedesktop.DBus.Error.AccessDenied ovt-bob Unseal "$(long 1025)"
out=$(ov_error_full root Unseal "$(long 1025)")
assert_eq "root: 1025 bytes is InvalidArgs with CRYPTO.md's message" "$out" \
        "org.freedesktop.DBus.Error.InvalidArgs: The passphrase is longer than 1024 bytes"
out=$(ov_error_full root Unseal "")
assert_contains "root: an empty one is InvalidArgs" "$out" "org.freedesktop.DBus.Error.InvalidArgs"
check "nothing was written for those" test ! -e "$OV_DIR/state/master.json"
assert_error "root: 1024 bytes is accepted (sets the passphrase)" "" root Unseal "$(long 1024)"
check "master.json written" test -f "$OV_DIR/state/master.json"

# --- NameOwnerChanged: only the bus's counts ---
rule=$(grep -A1 'member=AddMatch' "$OV_DIR/monitor.out" | grep "member='NameOwnerChanged'")
kill "$monitor"
assert_contains "the daemon's NameOwnerChanged match names the bus as sender" "$rule" "sender='org.freedesktop.DBus'"
"$BUILD_DIR/tests/integration/watch-client" "$OV_BUS" >"$OV_DIR/watch.out" 2>&1 &
watcher=$!
check "a client holds a connection to the daemon" wait_for grep -q ready "$OV_DIR/watch.out"
name=$(busctl --address="$OV_BUS" --json=short call org.freedesktop.DBus /org/freedesktop/DBus \
        org.freedesktop.DBus ListNames | ov_py 'print("\n".join(n for n in d["data"][0] if n.startswith(":")))' |
        while read -r n; do
                p=$(busctl --address="$OV_BUS" --json=short call org.freedesktop.DBus /org/freedesktop/DBus \
                        org.freedesktop.DBus GetConnectionUnixProcessID s "$n" 2>/dev/null |
                        ov_py 'print(d["data"][0])' 2>/dev/null)
                [[ $p == "$watcher" ]] && echo "$n"
        done)
check "its unique name is known" test -n "$name"
forgotten() { grep -qF "Peer $name left the bus" "$OV_DIR/daemon.stderr"; }

check "an outsider broadcasts a forged NameOwnerChanged for it" \
        as ovt-eve gdbus emit --address "$OV_BUS" --object-path /org/freedesktop/DBus \
        --signal org.freedesktop.DBus.NameOwnerChanged "'$name'" "'$name'" "''"
# A call sent after the signal is answered after the daemon read the signal.
ovbus root Status >/dev/null
if forgotten; then fail "the daemon ignored it"; else ok "the daemon ignored it"; fi
kill "$watcher"
wait "$watcher" 2>/dev/null
ovbus root Status >/dev/null
check "it forgets the peer when the bus says it left" wait_for forgotten

ov_finish
