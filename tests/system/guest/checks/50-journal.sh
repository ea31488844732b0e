# SPDX-License-Identifier: Apache-2.0
# The journal has the audit entries with their ORGVAULT_* fields, and the
# test value is nowhere: not in journalctl --grep, not in -o export, not in
# any file under the state and journal directories.
. "$SYSTEST_LIB"

out=$(journal_export MESSAGE_ID=$MID_ADD ORGVAULT_ORG=acme ORGVAULT_SECRET=ops-slack)
assert_contains "the add is audited (kind)" "$out" "ORGVAULT_KIND=add"
assert_contains "... by alice's uid" "$out" "ORGVAULT_UID=$(id -u alice)"
assert_contains "... its outcome" "$out" "ORGVAULT_OUTCOME=ok"
assert_contains "... its action" "$out" "ORGVAULT_ACTION=AddSecret"
out=$(journal_export MESSAGE_ID=$MID_DENIED ORGVAULT_UID="$(id -u bob)")
assert_contains "member bob's refused add is audited by the daemon" "$out" "ORGVAULT_ACTION=AddSecret"
out=$(journal_export MESSAGE_ID=$MID_DENIED ORGVAULT_UID="$(id -u eve)")
assert_contains "eve's refused ListSecrets is audited" "$out" "ORGVAULT_KIND=denied"

t=$(value_tail)
journalctl --grep="$t" >/dev/null 2>&1
assert_eq "journalctl --grep finds no trace of the value" "$?" 1
check "journalctl -o export holds no trace of the value" bash -c "! journalctl -o export | grep -aqF '$t'"
journalctl --flush >/dev/null 2>&1; sync
hits=$(grep -raslF "$t" /var/lib/orgvault /var/log/journal /run/log/journal 2>/dev/null)
assert_eq "no file under the state and journal dirs holds the value" "$hits" ""
