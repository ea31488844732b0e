# SPDX-License-Identifier: Apache-2.0
. "$SYSTEST_LIB"
assert_eq "this is the third boot" "$(cat "$SYSTEST_STATE/boots")" 3
assert_eq "credential mode still serves after a reboot" "$(run_consumer alertd-cred)" "$(value_sha)"
check "still no master.key" test ! -e /var/lib/orgvault/master.key
out=$(as bob timeout 60 orgvaultctl list --no-legend)
assert_contains "and lists after a reboot" "$out" "Ops Slack"
