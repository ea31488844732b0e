# SPDX-License-Identifier: Apache-2.0
# busctl on the system bus: tree and introspect as root and as a member; an
# outsider sees no secret object.
. "$SYSTEST_LIB"

V=/io/orgvault/Vault1
out=$(timeout 60 busctl tree --list io.orgvault.Vault1 2>&1)
assert_contains "root: busctl tree shows the secret's object" "$out" "$V/secret/acme/"
out=$(as bob timeout 60 busctl tree --list io.orgvault.Vault1 2>&1)
assert_contains "member: busctl tree shows the secret's object" "$out" "$V/secret/acme/"
out=$(as eve timeout 60 busctl tree --list io.orgvault.Vault1 2>&1)
assert_not_contains "outsider: busctl tree shows no secret object" "$out" "$V/secret/"
out=$(timeout 60 busctl introspect io.orgvault.Vault1 $V 2>&1)
assert_contains "root: introspect lists the Manager's methods" "$out" ".AddSecret"
out=$(as bob timeout 60 busctl introspect io.orgvault.Vault1 $V 2>&1)
assert_contains "member: introspect lists the Manager's methods" "$out" ".ListSecrets"
obj=$(as bob timeout 60 busctl tree --list io.orgvault.Vault1 | grep "$V/secret/acme/" | head -n 1)
out=$(as bob timeout 60 busctl introspect io.orgvault.Vault1 "$obj" 2>&1)
assert_contains "member: a secret object's properties" "$out" "io.orgvault.Vault1.Secret"
assert_not_contains "... without the value" "$out" "$(value_tail)"
out=$(as eve timeout 60 busctl introspect io.orgvault.Vault1 "$obj" 2>&1)
assert_not_contains "outsider: the secret object's properties stay hidden" "$out" "Ops Slack"
