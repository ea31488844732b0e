# SPDX-License-Identifier: Apache-2.0
# Credential mode: the keyfile vault's master key encrypted with
# systemd-creds, a LoadCredentialEncrypted= drop-in, master.key removed; the
# secret is still served (and, in 81, after a reboot).
. "$SYSTEST_LIB"

exec_start=$(systemctl cat orgvaultd.service | sed -n 's/^ExecStart=\(.\+\)/\1/p' | head -n 1)
systemctl stop orgvaultd.service
check "systemd-creds encrypt of master.key" timeout 120 systemd-creds encrypt --name=orgvault.master-key \
        /var/lib/orgvault/master.key /etc/orgvault/master-key.cred
mkdir -p /etc/systemd/system/orgvaultd.service.d
cat >/etc/systemd/system/orgvaultd.service.d/50-credential.conf <<EOF2
[Service]
ExecStart=
ExecStart=$exec_start --key-mode=credential
LoadCredentialEncrypted=orgvault.master-key:/etc/orgvault/master-key.cred
EOF2
systemctl daemon-reload
check "the keyfile is removed" rm /var/lib/orgvault/master.key
consumer_unit alertd-cred acme.ops-slack.webhook_url
systemctl daemon-reload
assert_eq "credential mode serves the secret" "$(run_consumer alertd-cred)" "$(value_sha)"
check "no master.key was written again" test ! -e /var/lib/orgvault/master.key
check "orgvaultd runs with --key-mode=credential" bash -c "tr '\0' ' ' </proc/$(main_pid)/cmdline | grep -q -- --key-mode=credential"
reboot_after_this
