# SPDX-License-Identifier: Apache-2.0
. "$SYSTEST_LIB"
assert_eq "this is the fourth boot" "$(cat "$SYSTEST_STATE/boots")" 4
out=$(timeout 60 busctl call io.orgvault.Vault1 /io/orgvault/Vault1 io.orgvault.Vault1.Manager Status 2>&1)
assert_contains "after a reboot the passphrase vault is sealed" "$out" '"Sealed" b true'
check "orgvaultctl unseal after the reboot" timeout 420 /usr/local/lib/orgvault-systest/unseal-pty "$SYSTEST_STATE/passphrase"
out=$(as bob timeout 60 orgvaultctl list --no-legend)
assert_contains "unsealed again, its secret is there" "$out" "PP Slack"
