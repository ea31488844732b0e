#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# A secret's life over the bus (docs/API.md, issue 14): the trash (DeleteSecret
# moves there, ListTrash, RestoreSecret, PurgeSecret) for every role; a
# deleted, referenced secret restored and its consumer served again; restore
# conflicts; refusals change nothing on disk.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RESOLVE=$BUILD_DIR/tests/integration/resolve-client
OV_IDLE=600
ov_setup
ov_capture_daemon_stderr
OUT=$OV_DIR/resolve.out
SLACK="{'webhook_url': '$OV_FAKE_SLACK'}"

# resolve USER ORG ID: the value in $OUT; the error name, if any, on stdout.
resolve() {
        local u=$1; shift
        if as "$u" timeout 20 "$RESOLVE" "$OV_BUS" "$@" >"$OUT" 2>"$OV_DIR/resolve.err"; then
                echo ""
        else
                local e
                e=$(cat "$OV_DIR/resolve.err")
                echo "${e%%:*}"
        fi
}
cell() {        # cell ok|denied USER METHOD ARGS...
        local want=$1 u=$2 m=$3; shift 3
        local got
        got=$(ov_error_full "$u" "$m" "$@")
        if [[ $want == ok ]]; then
                assert_eq "$m as $u: allowed" "$got" ""
        else
                assert_eq "$m as $u: AccessDenied" "${got%%: *}" org.freedesktop.DBus.Error.AccessDenied
        fi
}
trash_ids() {   # trash_ids USER: "id:name:refs ..." of acme's trash
        ovbus_json "${1:-ovt-alice}" ListTrash s acme |
                ov_py 'print(" ".join("%s:%s:%d" % (e[0], e[1], e[4]) for e in d["data"][0]))'
}
audit_match() {
        python3 -c "import json,sys
sys.exit(0 if any((lambda r: $1)(json.loads(l)) for l in open(sys.argv[1])) else 1)" "$OV_DIR/audit.jsonl"
}

# --- A deleted, referenced secret, restored: the consumer is served again ---
assert_eq "admin adds Ops Slack" "$(ov_add_slack ovt-bob acme "Ops Slack")" ops-slack
cell ok ovt-alertd AddReference acme ops-slack alerts sink:ops-channel
assert_eq "the consumer resolves it" "$(resolve ovt-alertd acme ops-slack)" ""
assert_error "a referenced secret is InUse without force" io.orgvault.Vault1.Error.InUse \
        ovt-bob DeleteSecret acme ops-slack false
cell ok ovt-bob DeleteSecret acme ops-slack true
assert_eq "the consumer gets what it gets for a missing secret" "$(resolve ovt-alertd acme ops-slack)" \
        org.freedesktop.DBus.Error.AccessDenied
assert_error "GetSecret: NotFound" io.orgvault.Vault1.Error.NotFound ovt-alice GetSecret acme ops-slack
assert_eq "ListTrash shows it with its reference" "$(trash_ids)" "ops-slack:Ops Slack:1"
check "the record moved to trash/" bash -c "ls '$OV_DIR/state/orgs/acme/trash/' | grep -q '^ops-slack\.[0-9]*\.json$'"

# --- The role matrix of the trash methods (refusals write nothing) ---
before=$(ov_state_hash)
for u in ovt-alice ovt-bob root; do cell ok "$u" ListTrash acme; done
for u in ovt-eve ovt-carol ovt-alertd ovt-surveyd; do cell denied "$u" ListTrash acme; done
for u in ovt-eve ovt-alice ovt-carol ovt-alertd ovt-surveyd; do
        cell denied "$u" RestoreSecret acme ops-slack
        cell denied "$u" PurgeSecret acme ops-slack
        cell denied "$u" RestoreSecret acme no-such-id
done
cell denied ovt-bob ListTrash globex
cell denied ovt-bob RestoreSecret globex ops-slack
assert_eq "refused trash calls left the state dir byte-identical" "$(ov_state_hash)" "$before"
assert_error "RestoreSecret of a bad id: InvalidArgs" org.freedesktop.DBus.Error.InvalidArgs \
        ovt-bob RestoreSecret acme "Bad/Id"
assert_error "RestoreSecret of an id not in the trash: NotFound" io.orgvault.Vault1.Error.NotFound \
        ovt-bob RestoreSecret acme no-such-id

cell ok ovt-bob RestoreSecret acme ops-slack
assert_eq "restored with its reference" \
        "$(ovbus_json ovt-alice GetSecret ss acme ops-slack | ov_py 'print(d["data"][0]["References"]["data"])')" \
        "[['alerts', 'sink:ops-channel', $(ovbus_json ovt-alice GetSecret ss acme ops-slack | ov_py 'print(d["data"][0]["References"]["data"][0][2])')]]"
assert_eq "the consumer is served again" "$(resolve ovt-alertd acme ops-slack)" ""
assert_contains "... the same value" "$(cat "$OUT")" "$OV_FAKE_SLACK"
assert_eq "the trash is empty" "$(trash_ids)" ""
check "the restore is audited" audit_match 'r["kind"]=="restore" and r["secret"]=="ops-slack" and r["outcome"]=="ok"'

# --- Restore conflicts: a live secret took the id, or the name ---
cell ok ovt-bob DeleteSecret acme ops-slack true
cell ok ovt-bob AddSecret acme slack-webhook "Ops Slack" "$SLACK" "{'id': <'ops-slack-new'>}"
assert_error "restore while a live secret has the name: NameExists" io.orgvault.Vault1.Error.NameExists \
        ovt-bob RestoreSecret acme ops-slack
cell ok ovt-bob RenameSecret acme ops-slack-new "Ops Slack (new)"
cell ok ovt-bob AddSecret acme slack-webhook "Someone else" "$SLACK" "{'id': <'ops-slack'>}"
assert_error "restore while a live secret has the id: NameExists" io.orgvault.Vault1.Error.NameExists \
        ovt-bob RestoreSecret acme ops-slack
assert_eq "the trash still holds it" "$(trash_ids)" "ops-slack:Ops Slack:1"

# --- Purge: destroyed now, the ciphertext gone from disk ---
cell ok ovt-bob PurgeSecret acme ops-slack
assert_eq "purged: the trash is empty" "$(trash_ids)" ""
check "no file of it in trash/" bash -c "! ls '$OV_DIR/state/orgs/acme/trash/' | grep -q ops-slack"
assert_error "a purged secret can't be restored" io.orgvault.Vault1.Error.NotFound \
        ovt-bob RestoreSecret acme ops-slack
check "the purge is audited" audit_match 'r["kind"]=="purge" and r["secret"]=="ops-slack" and r["outcome"]=="ok"'
check "a refused purge is audited" audit_match 'r["action"]=="PurgeSecret" and r["outcome"]=="denied"'

# --- The CLI: trash, restore, purge ---
ctl() { local u=$1; shift; as "$u" "$ORGVAULTCTL" --org=acme --no-pager "$@"; }
cell ok ovt-bob DeleteSecret acme ops-slack-new false
out=$(ctl ovt-alice trash 2>&1)
assert_contains "trash lists it for a member" "$out" "Ops Slack (new)"
assert_contains "... with its id" "$out" "ops-slack-new"
assert_eq "trash --json" "$(ctl ovt-alice trash --json | ov_py 'print([(e["id"], e["references"]) for e in d])')" \
        "[('ops-slack-new', 0)]"
out=$(ctl ovt-alice restore ops-slack-new 2>&1); rc=$?
assert_eq "restore as a member: exit 4 (access denied)" "$rc" 4
out=$(ctl ovt-bob restore "ops slack (NEW)" 2>&1); rc=$?
assert_eq "restore by display name as admin: exit 0" "$rc" 0
assert_contains "... says so" "$out" "Restored \"Ops Slack (new)\" (ops-slack-new)"
cell ok ovt-bob DeleteSecret acme ops-slack-new false
out=$(echo n | ctl ovt-bob purge ops-slack-new 2>&1); rc=$?
assert_eq "purge declined: exit 3" "$rc" 3
assert_contains "... still in the trash" "$(ctl ovt-bob trash)" "ops-slack-new"
out=$(echo y | ctl ovt-bob purge ops-slack-new 2>&1); rc=$?
assert_eq "purge confirmed: exit 0" "$rc" 0
assert_not_contains "... gone from the trash" "$(ctl ovt-bob trash)" "ops-slack-new"
out=$(ctl ovt-bob restore ops-slack-new 2>&1); rc=$?
assert_eq "restore of something not in the trash: exit 5" "$rc" 5

ov_finish
