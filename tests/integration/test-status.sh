#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Status tells nobody about orgs they can't list (issue 10 item 4): root gets
# every org's counts, a member or admin those of their own orgs, an outsider
# and a consumer (who may not list) zeros; the counts follow adds, deletes
# and quarantine without a rescan.
source "$(dirname "$0")/lib.sh"

ov_setup

counts() {
        ovbus_json "$1" Status | ov_py 'r = d["data"][0]; print(r["Orgs"]["data"], r["Secrets"]["data"], r["Quarantined"]["data"])'
}

for n in 1 2 3; do ov_add_slack ovt-bob acme "Acme $n" >/dev/null; done
ov_add_slack ovt-carol globex "Globex 1" >/dev/null
check "acme has three secrets" test "$(ovbus_json ovt-bob ListSecrets 'sa{sv}' acme 0 | ov_py 'print(len(d["data"][0]))')" = 3

assert_eq "root sees every org" "$(counts root)" "2 4 0"
assert_eq "a member of acme sees acme's" "$(counts ovt-alice)" "1 3 0"
assert_eq "the admin of acme sees acme's" "$(counts ovt-bob)" "1 3 0"
assert_eq "the admin of globex sees globex's" "$(counts ovt-carol)" "1 1 0"
assert_eq "an outsider sees nothing" "$(counts ovt-eve)" "0 0 0"
assert_eq "a consumer (may not list) sees nothing" "$(counts ovt-alertd)" "0 0 0"

# Changes through the daemon are counted at once.
ovbus ovt-bob DeleteSecret ssb acme acme-1 false >/dev/null
ov_add_slack ovt-carol globex "Globex 2" >/dev/null
assert_eq "root after a delete and an add" "$(counts root)" "2 4 0"
assert_eq "acme's member after the delete" "$(counts ovt-alice)" "1 2 0"
assert_eq "globex's admin after the add" "$(counts ovt-carol)" "1 2 0"
assert_eq "the outsider still sees nothing" "$(counts ovt-eve)" "0 0 0"

# A broken record, found when its org is next loaded (after a restart).
ov_stop_daemon
if [[ -n $OV_PG_DB ]]; then     # the postgresql store: a row whose record is cut short
        ov_psql "$OV_PG_DB" "UPDATE orgvault_records SET record = '{\"format\":1}' WHERE org = 'acme' AND id = 'acme-2'"
else
        truncate -s 20 "$OV_DIR/state/orgs/acme/secrets/acme-2.json"
fi
assert_eq "after a restart, before acme is loaded, root counts its files" "$(counts root)" "2 4 0"
ovbus ovt-alice ListSecrets 'sa{sv}' acme 0 >/dev/null
assert_eq "loading acme quarantines the broken record" "$(counts root)" "2 3 1"
assert_eq "acme's member sees acme's quarantined record" "$(counts ovt-alice)" "1 1 1"
assert_eq "globex's admin does not" "$(counts ovt-carol)" "1 2 0"
assert_eq "nor the outsider" "$(counts ovt-eve)" "0 0 0"

ov_finish
