# SPDX-License-Identifier: Apache-2.0
# The kernel keyring cache under the shipped unit (KeyringMode=private):
# Status reports it working, the keys are in the orgvault user's keyring, the
# daemon never logged it disabled; and systemd-analyze security <= 0.5.
. "$SYSTEST_LIB"

out=$(timeout 60 busctl call io.orgvault.Vault1 /io/orgvault/Vault1 io.orgvault.Vault1.Manager Status 2>&1)
assert_contains "Status: KeyringCache true" "$out" '"KeyringCache" b true'
keys=$(as orgvault keyctl show @u 2>&1)
check "the data key is in the orgvault user's keyring" grep -q 'user: orgvault:.*:org:acme:' <<<"$keys"
check "the start-up probe left no entry" bash -c "! grep -q ':probe' <<<'$keys'"
logs=$(journalctl -b -u orgvaultd.service -o cat)
assert_not_contains "orgvaultd never logged the cache disabled" "$logs" "keyring cache disabled"
score=$(systemd-analyze security orgvaultd.service 2>/dev/null |
        sed -n 's/.*Overall exposure level for orgvaultd.service: \([0-9.]*\).*/\1/p')
echo "$score" >"$SYSTEST_STATE/exposure"
check "systemd-analyze security orgvaultd.service: $score <= 0.5" \
        python3 -c "import sys; sys.exit(0 if 0 <= float('$score' or 'nan') <= 0.5 else 1)"
