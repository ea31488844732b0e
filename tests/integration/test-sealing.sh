#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Passphrase mode end to end: the vault starts sealed, Unseal with a wrong
# passphrase changes nothing, the keyring cache lets the next activation
# after an idle exit start unsealed, Seal revokes it. Then credential mode.
. "$(dirname "$0")/lib.sh"

OV_IDLE=2
OV_EXTRA_ARGS="--key-mode=passphrase --keyring-timeout=120"
OV_PRIVATE_KEYRING=1    # the daemon possesses nothing of the user keyring, as in its unit
ov_setup

status_sealed() { ovbus root Status | grep -o '"Sealed" b [a-z]*' | awk '{print $3}'; }
status_cache() { ovbus root Status | grep -o '"KeyringCache" b [a-z]*' | awk '{print $3}'; }
wait_daemon_gone() { ov_wait_for 60 ov_daemon_gone; }
# Keys this vault put in root's user keyring (descriptions orgvault:<scope>:...):
# those that were not there before the test.
keyring_orgvault_keys() { keyctl show @u 2>/dev/null | awk '/user: orgvault:/ {print $1}' | sort; }
KEYS_BEFORE=$(keyring_orgvault_keys)
new_keys() { comm -13 <(echo "$KEYS_BEFORE") <(keyring_orgvault_keys) | sed '/^$/d'; }
cached_keys() { new_keys | wc -l; }

PASS='correct horse battery staple (fake)'

assert_eq "a passphrase vault starts sealed" "$(status_sealed)" true
assert_eq "Status: the keyring cache works (probed at start)" "$(status_cache)" true
assert_error "adding while sealed is Sealed" io.orgvault.Vault1.Error.Sealed \
        ovt-bob AddSecret acme slack-webhook "Ops Slack" "{'webhook_url': '$OV_FAKE_SLACK'}" "@a{sv} {}"
assert_error "unseal is root's" org.freedesktop.DBus.Error.AccessDenied ovt-bob Unseal "$PASS"

# The first unseal sets the passphrase (master.json); a wrong one then fails.
assert_error "first unseal creates the vault's passphrase" "" root Unseal "$PASS"
check "master.json written" test -f "$OV_DIR/state/master.json"
id=$(ov_add_slack ovt-bob acme "Ops Slack")
assert_eq "add works once unsealed" "$id" ops-slack

ovbus root Seal >/dev/null
assert_eq "Seal seals" "$(status_sealed)" true
# The add left lazy state (org index) that the daemon writes when it is
# idle or exits: let it exit first, so only the Unseal below could write.
check "the daemon exits when idle after Seal" wait_daemon_gone
before=$(ov_state_hash)
assert_error "a wrong passphrase is AccessDenied" org.freedesktop.DBus.Error.AccessDenied root Unseal "wrong (fake)"
assert_eq "... and changes nothing on disk" "$(ov_state_hash)" "$before"
assert_eq "... and stays sealed" "$(status_sealed)" true
assert_error "the right passphrase unseals" "" root Unseal "$PASS"
assert_eq "unsealed" "$(status_sealed)" false
out=$(ovgdbus ovt-alertd Resolve acme ops-slack 2>&1)
check "a consumer resolves after unseal" test -n "$out"

# Idle exit, then re-activation: the keyring cache unseals it.
check "the daemon exits when idle" wait_daemon_gone
assert_eq "re-activated after an idle exit it starts unsealed (keyring cache)" "$(status_sealed)" false
check "the unwrapped keys sit in the user keyring" test "$(cached_keys)" -ge 1
desc=$(keyctl rdescribe "$(new_keys | head -n 1)" 2>/dev/null)
assert_eq "cached keys are possessor/user-only (no group or other bits)" "$(cut -d';' -f4 <<<"$desc" | cut -c5-8)" 0000

# Seal revokes the cache: the next activation is sealed again.
ovbus root Seal >/dev/null
assert_eq "after Seal no key of this vault is left in the keyring" "$(cached_keys)" 0
check "the daemon exits when idle" wait_daemon_gone
assert_eq "after Seal and an idle exit it starts sealed" "$(status_sealed)" true
ov_stop_daemon
ov_teardown

# Credential mode: the master key comes from $CREDENTIALS_DIRECTORY.
OV_IDLE=30
OV_EXTRA_ARGS="--key-mode=credential"
OV_PRIVATE_KEYRING=
ov_setup
mkdir -p "$OV_DIR/creds"
head -c 32 /dev/urandom >"$OV_DIR/creds/orgvault.master-key"
sed -i "s|^Exec=|Exec=/usr/bin/env CREDENTIALS_DIRECTORY=$OV_DIR/creds |" "$OV_DIR/services/io.orgvault.Vault1.service"
busctl --address="$OV_BUS" call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig >/dev/null
assert_eq "credential mode starts unsealed" "$(status_sealed)" false
assert_eq "Status: no keyring cache with --keyring-timeout=0" "$(status_cache)" false
assert_eq "add in credential mode" "$(ov_add_slack ovt-bob acme "Ops Slack")" ops-slack
check "no master.key is written in credential mode" test ! -e "$OV_DIR/state/master.key"
ov_stop_daemon
head -c 32 /dev/urandom >"$OV_DIR/creds/orgvault.master-key"
before=$(ov_state_hash)
assert_error "another master key can't open the org: resolve fails" io.orgvault.Vault1.Error.Sealed \
        ovt-alertd Resolve acme ops-slack
assert_eq "... and nothing on disk changed" "$(ov_state_hash)" "$before"

ov_finish
