#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Disk full and read-only state dir (docs/API.md, issue 6): the state dir is a
# 2 MiB tmpfs. Filled to the brim, mutations fail with StorageFailure and
# leave no partial or temp file, reads keep working, nothing acknowledged is
# lost across a restart, and adds work again once space returns. Remounted
# read-only: the same, and it recovers on remount rw.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
ov_files_store_only "it fills the state dir's filesystem; the postgresql store's disk is the server's (a dead server is test-pg-hosts.sh)"

RESOLVE=$BUILD_DIR/tests/integration/resolve-client
STORAGE=io.orgvault.Vault1.Error.StorageFailure
NOOPTS='@a{sv} {}'
OV_IDLE=0
ov_setup
ov_capture_daemon_stderr
STATE=$OV_DIR/state
mount -t tmpfs -o size=2m,mode=0700 tmpfs "$STATE" || { fail "mount a tmpfs on the state dir"; ov_finish; exit 1; }
cleanup() {
        ov_stop_daemon
        mountpoint -q "$STATE" && umount "$STATE"
        ov_teardown; ov_unstage
}
trap cleanup EXIT

# Secrets acknowledged so far: id -> value.
declare -A SAVED=()
value_for() { printf 'https://hooks.slack.com/services/TFAKE0000/BFAKE0000/diskfull%016d' "$1"; }
# add N: adds "Fill N" with id fill-N; ADD_ERR gets the error name ("" = added).
add() {
        ADD_ERR=$(ov_error_of ovt-bob AddSecret acme slack-webhook "Fill $1" "{'webhook_url': '$(value_for "$1")'}" \
                "{'id': <'fill-$1'>}")
        [[ -z $ADD_ERR ]] && SAVED[fill-$1]=$(value_for "$1")
        return 0
}
saved_ids() { printf '%s\n' "${!SAVED[@]}" | LC_ALL=C sort | tr '\n' ' ' | sed 's/ $//'; }
# resolved_url ID: the webhook_url the consumer gets ("" on failure).
resolved_url() {
        as ovt-alertd timeout 20 "$RESOLVE" "$OV_BUS" acme "$1" 2>/dev/null |
                python3 -c 'import json,sys; print(json.load(sys.stdin)["fields"]["webhook_url"])' 2>/dev/null
}
listed_ids() { ovbus_json ovt-alice ListSecrets sa{sv} acme 0 | python3 -c 'import json,sys
print(" ".join(sorted(r[0] for r in json.load(sys.stdin)["data"][0])))'; }
quarantined() { ovbus_json root Status | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["Quarantined"]["data"])'; }
temp_files() { find "$STATE" -name '.#*' | wc -l; }
# every_saved_resolves: each acknowledged secret resolves to its value.
every_saved_resolves() {
        local id
        for id in "${!SAVED[@]}"; do
                [[ $(resolved_url "$id") == "${SAVED[$id]}" ]] || { echo "$id"; return 1; }
        done
}
restart() { ov_stop_daemon; ovbus root Status >/dev/null; }

# A few secrets while there is room.
for i in 1 2 3 4 5; do add $i; assert_eq "add fill-$i with room to spare" "$ADD_ERR" ""; done
pid=$(ov_daemon_pid)
check "daemon is running" test -n "$pid"

# Fill the tmpfs, then give back 64 KiB so the adds themselves hit the wall.
dd if=/dev/zero of="$STATE/filler" bs=64k 2>/dev/null
truncate -s -64K "$STATE/filler"
first_error=
n=5
while [[ $n -lt 200 ]]; do
        n=$((n + 1))
        add $n
        first_error=$ADD_ERR
        [[ -n $first_error ]] && break
done
assert_eq "adding to a full disk fails with StorageFailure (add #$n)" "$first_error" "$STORAGE"
check "some adds succeeded before the disk filled up" test "${#SAVED[@]}" -gt 5
assert_eq "the daemon did not crash" "$(ov_daemon_pid)" "$pid"
check "no record for the refused add" test ! -e "$STATE/orgs/acme/secrets/fill-$n.json"
assert_eq "no temp file after the refused add" "$(temp_files)" 0
assert_eq "the refused add is not listed" "$(listed_ids | tr ' ' '\n' | grep -cx "fill-$n")" 0

# Other mutations on the full disk fail the same way and change nothing.
before=$(ov_state_hash)
assert_error "UpdateSecret on a full disk: StorageFailure" "$STORAGE" \
        ovt-bob UpdateSecret acme fill-1 "{'webhook_url': '$(value_for 999)'}"
assert_error "RenameSecret on a full disk: StorageFailure" "$STORAGE" ovt-bob RenameSecret acme fill-2 "Renamed"
assert_error "RotateKeys on a full disk: StorageFailure" "$STORAGE" ovt-bob RotateKeys acme
assert_error "the first add in a new org (its key, org.json) on a full disk: StorageFailure" "$STORAGE" \
        ovt-carol AddSecret globex slack-webhook "Globex First" "{'webhook_url': '$(value_for 500)'}" "{'id': <'g-first'>}"
assert_eq "the refused calls left the state dir as it was" "$(ov_state_hash)" "$before"
assert_eq "no temp file after the refused calls" "$(temp_files)" 0

# Reads keep working on the full disk.
assert_eq "ListSecrets on a full disk lists every saved secret" "$(listed_ids)" \
        "$(saved_ids)"
assert_eq "GetSecret on a full disk" "$(ov_error_of ovt-alice GetSecret acme fill-1)" ""
assert_eq "Resolve on a full disk gives the saved value" "$(resolved_url fill-1)" "${SAVED[fill-1]:-}"
assert_eq "the daemon still runs after the reads (lazy LastUsed write on a full disk)" "$(ov_daemon_pid)" "$pid"

# Nothing saved is lost across a restart on the full disk.
restart
check "every acknowledged secret resolves after a restart on the full disk" every_saved_resolves
assert_eq "nothing quarantined" "$(quarantined)" 0
assert_eq "no temp file after the restart" "$(temp_files)" 0

# Space returns: adds work again.
rm -f "$STATE/filler"
add $n
assert_eq "add works again once space returns" "$ADD_ERR" ""
assert_eq "update works again" "$(ov_error_of ovt-bob UpdateSecret acme fill-1 "{'webhook_url': '$(value_for 1001)'}")" ""
SAVED[fill-1]=$(value_for 1001)
assert_eq "the updated value resolves" "$(resolved_url fill-1)" "${SAVED[fill-1]:-}"
assert_eq "the first add in the new org works now" "$(ov_error_of ovt-carol AddSecret globex slack-webhook "Globex First" \
        "{'webhook_url': '$(value_for 500)'}" "{'id': <'g-first'>}")" ""
assert_eq "... and it reads back" "$(ov_error_of ovt-carol GetSecret globex g-first)" ""

# Read-only state dir.
pid=$(ov_daemon_pid)
if mount -o remount,ro "$STATE"; then ok "remount the state dir read-only"; else fail "remount the state dir read-only"; fi
before=$(ov_state_hash)
assert_error "AddSecret on a read-only state dir: StorageFailure" "$STORAGE" ovt-bob AddSecret acme slack-webhook \
        "Read Only" "{'webhook_url': '$(value_for 2000)'}" "$NOOPTS"
assert_error "UpdateSecret on a read-only state dir: StorageFailure" "$STORAGE" \
        ovt-bob UpdateSecret acme fill-1 "{'webhook_url': '$(value_for 2001)'}"
assert_error "RenameSecret on a read-only state dir: StorageFailure" "$STORAGE" ovt-bob RenameSecret acme fill-2 "Renamed"
assert_error "DeleteSecret on a read-only state dir: StorageFailure" "$STORAGE" ovt-bob DeleteSecret acme fill-3 false
assert_error "RotateKeys on a read-only state dir: StorageFailure" "$STORAGE" ovt-bob RotateKeys acme
assert_eq "the daemon did not crash" "$(ov_daemon_pid)" "$pid"
assert_eq "ListSecrets on a read-only state dir" "$(listed_ids)" \
        "$(saved_ids)"
assert_eq "GetSecret on a read-only state dir" "$(ov_error_of ovt-alice GetSecret acme fill-3)" ""
assert_eq "Resolve on a read-only state dir gives the saved value" "$(resolved_url fill-1)" "${SAVED[fill-1]:-}"
restart
check "after a restart on the read-only state dir every saved secret resolves" every_saved_resolves
assert_error "... and adds still fail with StorageFailure" "$STORAGE" ovt-bob AddSecret acme slack-webhook \
        "Read Only" "{'webhook_url': '$(value_for 2000)'}" "$NOOPTS"
assert_eq "the read-only state dir is unchanged" "$(ov_state_hash)" "$before"

if mount -o remount,rw "$STATE"; then ok "remount the state dir read-write"; else fail "remount the state dir read-write"; fi
add 3000
assert_eq "add works again after remount rw" "$ADD_ERR" ""
assert_eq "delete works again" "$(ov_error_of ovt-bob DeleteSecret acme fill-3 false)" ""
unset 'SAVED[fill-3]'
assert_eq "rotate-keys works again" "$(ov_error_of ovt-bob RotateKeys acme)" ""
restart
check "every acknowledged secret resolves after the last restart" every_saved_resolves
assert_eq "nothing quarantined at the end" "$(quarantined)" 0
assert_eq "no temp file at the end" "$(temp_files)" 0

ov_check_daemon_stderr
umount "$STATE" && ok "unmount the state dir" || fail "unmount the state dir"
trap 'ov_teardown; ov_unstage' EXIT
ov_finish
