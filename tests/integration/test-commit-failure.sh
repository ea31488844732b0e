#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A group commit that fails (fsync answers EIO, as a dying disk does; an
# LD_PRELOAD shim, fail-fsync.c, while a flag file exists): the add it held
# is answered StorageFailure and audited so, no picker is told of it (its
# InterfacesAdded is held until the commit and dropped), it is neither
# listed nor on disk, before or after a restart, and the next add works.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ov_files_store_only "group commit is the files store's (each postgresql write is its own transaction)"

E=io.orgvault.Vault1.Error
OV_IDLE=0
ov_setup
FLAG=$OV_DIR/fail-fsync
SHIM=$BUILD_DIR/tests/integration/fail-fsync.so
check "the fsync shim is built" test -f "$SHIM"
# A sanitizer build's runtime wants to be first; the shim only wraps fsync.
OV_EXEC_PREFIX="/usr/bin/env LD_PRELOAD=$SHIM OV_FAIL_FSYNC=$FLAG ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}verify_asan_link_order=0"
ov_stop_daemon
ov_write_service_file
ov_reload_bus
ov_capture_daemon_stderr

add() {         # add ID NAME: the error name, "" when added
        ov_error_of ovt-bob AddSecret acme slack-webhook "$2" "{'webhook_url': '$OV_FAKE_SLACK'}" "{'id': <'$1'>}"
}
listed() { ovbus ovt-alice ListSecrets sa{sv} acme 0 | grep -q "\"$1\""; }
on_disk() { [[ -n $(find "$OV_DIR/state" -name "*$1*" -print -quit) ]]; }

(exec setpriv --reuid=ovt-alice --regid="$(id -g ovt-alice)" --init-groups -- \
        "$BUILD_DIR/tests/integration/watch-client" "$OV_BUS" >"$OV_DIR/watch.out" 2>&1) &
WATCH_PID=$!
check "a picker (alice) is subscribed" ov_wait_for 30 grep -q '^ready' "$OV_DIR/watch.out"
check "the daemon runs with the shim" bash -c "tr '\\0' '\\n' </proc/$(ov_daemon_pid)/environ | grep -qx 'OV_FAIL_FSYNC=$FLAG'"

assert_eq "an add before the failure" "$(add before-failure "Before Failure")" ""
check "the picker hears of it" ov_wait_for 30 grep -q "InterfacesAdded.*before" "$OV_DIR/watch.out"

touch "$FLAG"
assert_eq "with fsync failing, the add is answered StorageFailure" "$(add lost-on-disk "Lost On Disk")" "$E.StorageFailure"
rm -f "$FLAG"
check "the daemon says the group commit failed" grep -q "A group commit failed" "$OV_DIR/daemon.stderr"
assert_eq "the next add works" "$(add after-failure "After Failure")" ""
# Signals reach the picker in order: once it has heard of after-failure,
# an announcement of lost-on-disk would be in its output already.
check "the picker hears of the next add" ov_wait_for 30 grep -q "InterfacesAdded.*after" "$OV_DIR/watch.out"
assert_not_contains "no picker was told of the add that failed" "$(cat "$OV_DIR/watch.out")" "lost"
if listed lost-on-disk; then fail "the failed add is listed"; else ok "the failed add is not listed"; fi
check "the next add is listed" listed after-failure
assert_error "GetSecret of the failed add: NotFound" "$E.NotFound" ovt-alice GetSecret acme lost-on-disk
if on_disk lost-on-disk; then fail "the failed add left a file"; else ok "the failed add left no file"; fi
audit=$(grep '"lost-on-disk"' "$OV_DIR/audit.jsonl")
assert_contains "the audit log has its StorageFailure" "$audit" "StorageFailure"
assert_not_contains "and no ok for it" "$audit" '"outcome":"ok"'

kill "$WATCH_PID" 2>/dev/null; wait "$WATCH_PID" 2>/dev/null
ov_stop_daemon
if listed lost-on-disk; then fail "after a restart the failed add is listed"; else ok "after a restart the failed add is not listed"; fi
check "after a restart both acknowledged adds are listed" bash -c "$(declare -f listed ovbus as); listed before-failure && listed after-failure"
ov_finish
