#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Crash consistency (docs/FORMAT.md, issue 6): SIGKILL orgvaultd at random moments
# of streams of add / update / rename / delete (to the trash) / rotate-keys /
# restore / purge / rollback, and of batched bursts (several adds, updates and
# renames in flight at once, made durable by one group commit), re-activate it,
# and check that every call answered success is on disk and readable, that
# nothing is quarantined, and that no temp file or half-rotated org survives.
# crash-driver does the trials; this script asserts on its counters.
#
#   CRASH_TRIALS=N   trials (default 200)
#   CRASH_SEED=N     replay a run (the seed is printed)
source "$(dirname "$0")/lib.sh"

trials=${CRASH_TRIALS:-200}
seed=${CRASH_SEED:-$(( $(date +%s%N) % 1000000007 ))}
driver=$BUILD_DIR/tests/integration/crash-driver

OV_IDLE=0               # only SIGKILL ends a daemon here
ov_setup
ov_capture_daemon_stderr
echo "# crash-driver: $trials trials, seed $seed (CRASH_SEED=$seed replays it)"

out=$("$driver" "$OV_BUS" "$OV_DIR/state" acme "$trials" "$seed" ovt-bob ovt-alertd 2>&1)
rc=$?
sed 's/^/# /' <<<"$out"
summary=$(grep '^trials=' <<<"$out" | tail -n 1)
counter() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<" $summary"; }

assert_eq "crash-driver ran to the end (rc 0 or 1, not a harness failure)" "$([[ $rc -le 1 ]] && echo yes)" yes
assert_eq "every trial ran" "$(counter trials)" "$trials"
assert_eq "every acknowledged call is on disk after the restart" "$(counter lost)" 0
assert_eq "no call failed (burst or read-back)" "$(counter call_errors)" 0
assert_eq "every reply said what the model predicts (ids, versions)" "$(counter wrong_replies)" 0
assert_eq "every record resolves after the restart" "$(counter unreadable)" 0
assert_eq "nothing quarantined" "$(counter quarantined)" 0
assert_eq "no temp file survives a restart" "$(counter temp_files)" 0
assert_eq "no org left mid-rotation" "$(counter mid_rotation)" 0

# The run must have exercised what it claims to test.
check "calls were acknowledged before kills" test "$(counter acked)" -gt 0
check "kills landed while a call was in flight" test "$(counter killed_in_flight)" -gt 0
for k in add update rename delete rotate-keys restore purge rollback; do
        check "acknowledged $k calls" test "$(counter "acked_$k")" -gt 0
done
# Batched bursts: several changes in flight, committed as one group.
check "batched trials ran" test "$(counter batched_trials)" -gt 0
check "calls of batched bursts were acknowledged" test "$(counter acked_batched)" -gt 0
if [[ $trials -ge 100 ]]; then
        check "some kills landed with several batched calls in flight" test "$(counter killed_in_batch)" -gt 0
fi
if [[ $trials -ge 100 ]]; then
        for k in add update rotate-keys; do
                check "some kills cut off a $k call" test "$(counter "in_flight_$k")" -gt 0
        done
fi

# A clean stop after all that leaves no temp file and an empty quarantine.
ov_check_daemon_stderr
assert_eq "no temp file after a clean stop" "$(find "$OV_DIR/state" -name '.#*' | wc -l)" 0
assert_eq "quarantine/ is empty" "$(find "$OV_DIR/state/quarantine" -mindepth 1 2>/dev/null | wc -l)" 0
if [[ -n $OV_PG_DB ]]; then
        # crash-driver reads org.json; the database's key documents here.
        assert_not_contains "no org left mid-rotation in the database" \
                "$(ov_psql "$OV_PG_DB" "SELECT keys::text FROM orgvault_orgs")" rotating_to
fi

ov_finish
