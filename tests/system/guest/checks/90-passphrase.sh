# SPDX-License-Identifier: Apache-2.0
# Passphrase mode under the shipped unit (a drop-in changes only the key mode,
# the state dir and a short idle timeout): unsealed, the vault stays unsealed across an idle exit
# because the cold re-activation finds its keys in the keyring cache; Seal
# seals it; unsealed again, a reboot (91) leaves it sealed.
. "$SYSTEST_LIB"

exec_start=$(systemctl cat orgvaultd.service | sed -n 's/^ExecStart=\(.\+\)/\1/p' | head -n 1)
systemctl stop orgvaultd.service
rm -f /etc/systemd/system/orgvaultd.service.d/50-credential.conf
mkdir -p /etc/systemd/system/orgvaultd.service.d
cat >/etc/systemd/system/orgvaultd.service.d/50-passphrase.conf <<EOF2
[Service]
StateDirectory=orgvault-pp
ExecStart=
ExecStart=$exec_start --key-mode=passphrase --state-dir=/var/lib/orgvault-pp --idle-timeout=5
EOF2
systemctl daemon-reload

status() { timeout 60 busctl call io.orgvault.Vault1 /io/orgvault/Vault1 io.orgvault.Vault1.Manager Status 2>&1; }
sealed() { status | grep -o '"Sealed" b [a-z]*' | awk '{print $3}'; }
# The (fake) passphrase goes through a terminal, as orgvaultctl asks for it.
PASS_FILE=$SYSTEST_STATE/passphrase
(umask 077; tr -dc 'a-z0-9' </dev/urandom | head -c 20 >"$PASS_FILE")
unseal() { timeout 420 /usr/local/lib/orgvault-systest/unseal-pty "$PASS_FILE" >/dev/null 2>&1; }

assert_eq "a passphrase vault starts sealed" "$(sealed)" true
assert_contains "Status: KeyringCache true under the unit" "$(status)" '"KeyringCache" b true'
check "orgvaultctl unseal (first: sets the passphrase)" unseal
assert_eq "unsealed" "$(sealed)" false
fields=$(mktemp); chmod 0600 "$fields"
printf '{"webhook_url": "%s"}' "$(value)" >"$fields"
out=$(as alice timeout 60 orgvaultctl add slack-webhook --name="PP Slack" --fields-json - <"$fields" 2>&1)
rm -f "$fields"
assert_eq "add in passphrase mode" "$(tail -n 1 <<<"$out")" pp-slack
keys=$(as orgvault keyctl show @u 2>&1)
check "the master key is in the orgvault user's keyring" grep -q "user: orgvault:.*:master" <<<"$keys"
pid1=$(main_pid)
check "orgvaultd exits when idle" wait_idle_exit
assert_eq "a cold re-activation starts unsealed (keyring cache)" "$(sealed)" false
check "... in a new process" test "$(main_pid)" != "$pid1" -a "$(main_pid)" != 0
out=$(as bob timeout 60 orgvaultctl list --no-legend)
assert_contains "... and serves" "$out" "PP Slack"
timeout 60 orgvaultctl seal >/dev/null 2>&1
assert_eq "orgvaultctl seal seals" "$(sealed)" true
keys=$(as orgvault keyctl show @u 2>&1)
check "after Seal its master key is gone from the keyring" bash -c '! grep -q "user: orgvault:.*:master"' <<<"$keys"
check "orgvaultd exits when idle" wait_idle_exit
assert_eq "after Seal and an idle exit it starts sealed" "$(sealed)" true
check "orgvaultctl unseal again" unseal
assert_eq "unsealed before the reboot" "$(sealed)" false
reboot_after_this
