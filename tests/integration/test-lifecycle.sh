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

# Every message on the bus from here on (the rollback check reads it).
stdbuf -oL busctl --address="$OV_BUS" monitor --json=short >"$OV_DIR/monitor.json" 2>"$OV_DIR/monitor.err" &
MON_PID=$!
for _ in $(seq 100); do
        busctl --address="$OV_BUS" call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus GetId >/dev/null
        grep -q '"member":"GetId"' "$OV_DIR/monitor.json" 2>/dev/null && break
        sleep 0.1
done
check "the bus monitor runs" grep -q '"member":"GetId"' "$OV_DIR/monitor.json"

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
if [[ -n $OV_PG_DB ]]; then
        assert_eq "the record moved to the trash table" \
                "$(ov_psql "$OV_PG_DB" "SELECT id FROM orgvault_trash WHERE org = 'acme' AND NOT EXISTS (SELECT 1 FROM orgvault_records r WHERE r.org = 'acme' AND r.id = 'ops-slack')")" ops-slack
else
        check "the record moved to trash/" bash -c "ls '$OV_DIR/state/orgs/acme/trash/' | grep -q '^ops-slack\.[0-9]*\.json$'"
fi

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

# --- Versions: a bad rotation rolled back without reading the value ---
ROT_GOOD=https://hooks.slack.com/services/TFAKE0000/BFAKE0000/RollProbeGood00000000000
ROT_BAD=https://hooks.slack.com/services/TFAKE0000/BFAKE0000/RollProbeBad000000000000
versions() {    # versions USER ID: "version:by ..." newest first
        ovbus_json "${1:-ovt-alice}" ListVersions ss acme "$2" |
                ov_py 'print(" ".join("%d:%s" % (e[0], e[2]) for e in d["data"][0]))'
}
cell ok ovt-bob AddSecret acme slack-webhook "Pager Hook" "{'webhook_url': '$ROT_GOOD'}" "{'id': <'pager'>}"
cell ok ovt-alertd AddReference acme pager alerts sink:pager
cell ok ovt-bob UpdateSecret acme pager "{'webhook_url': '$ROT_BAD'}"
assert_eq "the consumer now gets the bad value" "$(resolve ovt-alertd acme pager)" ""
assert_contains "... the bad one" "$(cat "$OUT")" RollProbeBad
assert_eq "ListVersions for a member: both versions, who set them" "$(versions ovt-alice pager)" "2:ovt-bob 1:ovt-bob"
before=$(ov_state_hash)
for u in ovt-alice ovt-bob root; do cell ok "$u" ListVersions acme pager; done
for u in ovt-eve ovt-carol ovt-alertd ovt-surveyd; do cell denied "$u" ListVersions acme pager; done
for u in ovt-eve ovt-alice ovt-carol ovt-alertd ovt-surveyd; do cell denied "$u" RollbackSecret acme pager 1; done
cell denied ovt-bob RollbackSecret globex pager 1
assert_eq "refused rollbacks left the state dir byte-identical" "$(ov_state_hash)" "$before"
assert_error "rollback to a version not kept: NotFound" io.orgvault.Vault1.Error.NotFound \
        ovt-bob RollbackSecret acme pager 7
assert_error "rollback to the current version: InvalidArgs" org.freedesktop.DBus.Error.InvalidArgs \
        ovt-bob RollbackSecret acme pager 2
out=$(ovbus ovt-bob RollbackSecret ssu acme pager 1)
assert_eq "RollbackSecret answers only the new version" "$out" "u 3"
assert_eq "the consumer is served the good value again" "$(resolve ovt-alertd acme pager)" ""
assert_contains "... the good one" "$(cat "$OUT")" RollProbeGood
assert_eq "three versions, the rollback set by bob" "$(versions ovt-alice pager)" "3:ovt-bob 2:ovt-bob 1:ovt-bob"
assert_eq "references, id and name stay" \
        "$(ovbus_json ovt-alice GetSecret ss acme pager | ov_py 'm=d["data"][0]; print(m["Name"]["data"], len(m["References"]["data"]), m["Version"]["data"])')" \
        "Pager Hook 1 3"
check "the rollback is audited" audit_match 'r["kind"]=="rollback" and r["secret"]=="pager" and "to version 1" in (r["detail"] or "")'
# The values went to the daemon in the admin's own AddSecret/UpdateSecret;
# nothing the daemon sent (replies, errors, signals) carried either.
sleep_until_monitored() {
        for _ in $(seq 100); do grep -q '"member":"RollbackSecret"' "$OV_DIR/monitor.json" && return 0; sleep 0.1; done
        return 1
}
check "the monitor saw the rollback" sleep_until_monitored
assert_eq "no reply, error or signal holds a value" \
        "$(grep -v '"type":"method_call"' "$OV_DIR/monitor.json" | grep -c 'RollProbe')" 0
assert_eq "... the calls that carried them were the admin's add and update" \
        "$(grep 'RollProbe' "$OV_DIR/monitor.json" | python3 -c 'import json,sys; print(sorted(json.loads(l)["member"] for l in sys.stdin))')" \
        "['AddSecret', 'UpdateSecret']"
check "the rollback's reply is a single u" python3 -c "
import json, sys
calls, replies = set(), []
for line in open(sys.argv[1]):
    m = json.loads(line)
    if m.get('member') == 'RollbackSecret' and m.get('type') == 'method_call':
        calls.add((m.get('sender'), m.get('cookie')))
    elif m.get('type') == 'method_return':
        replies.append(m)
r = [m for m in replies if (m.get('destination'), m.get('reply_cookie')) in calls]
sys.exit(0 if r and all(m['payload']['type'] == 'u' for m in r) else 1)" "$OV_DIR/monitor.json"
kill "$MON_PID" 2>/dev/null

# --- A copied-back old record is refused ---
STALE=https://hooks.slack.com/services/TFAKE0000/BFAKE0000/StaleProbe00000000000000
FRESH=https://hooks.slack.com/services/TFAKE0000/BFAKE0000/FreshProbe00000000000000
cell ok ovt-bob AddSecret acme slack-webhook "Copied Hook" "{'webhook_url': '$STALE'}" "{'id': <'copied'>}"
cell ok ovt-alertd AddReference acme copied alerts sink:copied
# (With the postgresql store the "copy back" is the old JSON put back in the row.)
if [[ -n $OV_PG_DB ]]; then ov_store_record acme copied >"$OV_DIR/copied-v1.json"; else
cp -p "$OV_DIR/state/orgs/acme/secrets/copied.json" "$OV_DIR/copied-v1.json"; fi
cell ok ovt-bob UpdateSecret acme copied "{'webhook_url': '$FRESH'}"
ov_stop_daemon
if [[ -n $OV_PG_DB ]]; then
        ov_psql "$OV_PG_DB" "UPDATE orgvault_records SET record = '$(cat "$OV_DIR/copied-v1.json")'::json WHERE org = 'acme' AND id = 'copied'"
else
cp -p "$OV_DIR/copied-v1.json" "$OV_DIR/state/orgs/acme/secrets/copied.json"; fi
assert_eq "the consumer does not get the stale value" "$(resolve ovt-alertd acme copied)" \
        org.freedesktop.DBus.Error.AccessDenied
assert_not_contains "... nothing of it" "$(cat "$OUT")" StaleProbe
assert_error "a member sees it is gone" io.orgvault.Vault1.Error.NotFound ovt-alice GetSecret acme copied
assert_eq "Status reports it quarantined" \
        "$(ovbus_json root Status | ov_py 'print(d["data"][0]["Quarantined"]["data"])')" 1
if [[ -n $OV_PG_DB ]]; then
        assert_eq "the copy is in orgvault_quarantine" "$(ov_psql "$OV_PG_DB" "SELECT id FROM orgvault_quarantine WHERE org = 'acme'")" copied
        ov_psql "$OV_PG_DB" "SELECT manifest::text FROM orgvault_orgs WHERE org = 'acme'" >"$OV_DIR/manifest.json"
else
        check "the copy is in quarantine/" bash -c "ls '$OV_DIR/state/quarantine/' | grep -q '^acme.copied.json'"
        cp "$OV_DIR/state/orgs/acme/manifest.json" "$OV_DIR/manifest.json"
fi
check "the daemon said why" grep -q "refused record copied.*older than the manifest" "$OV_DIR/daemon.stderr"
check "the manifest is MAC'd" python3 -c "
import json, sys
m = json.load(open(sys.argv[1]))
sys.exit(0 if m['format'] == 2 and len(m['mac']) == 44 and any(e['id'] == 'copied' for e in m['secrets']) else 1)" \
        "$OV_DIR/manifest.json"

# --- Expiry and rotation reminders ---
now=$(( $(date +%s) * 1000000 ))
day=86400000000
cell ok ovt-bob AddSecret acme slack-webhook "Expiring Hook" "{'webhook_url': '$OV_FAKE_SLACK'}" \
        "{'id': <'expiring'>, 'expires': <@t $(( now + 3 * day ))>}"
cell ok ovt-bob AddSecret acme slack-webhook "Rotating Hook" "{'webhook_url': '$OV_FAKE_SLACK'}" \
        "{'id': <'rotating'>, 'rotate_every': <@t $(( 20 * day ))>}"
cell ok ovt-bob AddSecret acme slack-webhook "Expired Hook" "{'webhook_url': '$OV_FAKE_SLACK'}" \
        "{'id': <'expired'>, 'expires': <@t $(( now - day ))>}"
meta() { ovbus_json ovt-alice GetSecret ss acme "$1" | ov_py "m=d['data'][0]; print($2)"; }
assert_eq "GetSecret: Expires" "$(meta expiring 'm["Expires"]["data"]')" "$(( now + 3 * day ))"
assert_eq "GetSecret: not Expired yet" "$(meta expiring 'm["Expired"]["data"]')" "False"
assert_eq "GetSecret: Expired" "$(meta expired 'm["Expired"]["data"]')" "True"
assert_eq "GetSecret: RotateBy is the value's time + rotate_every" \
        "$(meta rotating 'm["RotateBy"]["data"] - m["Updated"]["data"]')" "$(( 20 * day ))"
assert_eq "GetSecret: no reminders, zeros" "$(meta pager '(m["Expires"]["data"], m["RotateBy"]["data"])')" "(0, 0)"
due() { ovbus_json ovt-alice ListSecrets sa{sv} acme 1 due_within t "$1" | ov_py 'print(" ".join(sorted(e[0] for e in d["data"][0])))'; }
assert_eq "due within 7 days" "$(due $(( 7 * day )))" "expired expiring"
assert_eq "due within 30 days" "$(due $(( 30 * day )))" "expired expiring rotating"
assert_eq "an expired secret is still served (a reminder, not a kill switch)" \
        "$(ovbus ovt-alertd AddReference ssss acme expired alerts sink:x >/dev/null; resolve ovt-alertd acme expired)" ""
assert_error "UpdateSecretWithOptions: an unknown option is InvalidArgs" org.freedesktop.DBus.Error.InvalidArgs \
        ovt-bob UpdateSecretWithOptions acme expiring "{'webhook_url': '$OV_FAKE_SLACK2'}" "{'expire': <@t 1>}"
cell ok ovt-bob UpdateSecretWithOptions acme expiring "{'webhook_url': '$OV_FAKE_SLACK2'}" "{'expires': <@t 0>}"
assert_eq "expires cleared by an update" "$(meta expiring 'm["Expires"]["data"]')" 0
for u in ovt-eve ovt-alice ovt-bob ovt-carol ovt-alertd; do cell denied "$u" LogReminders "@t $day"; done
assert_eq "LogReminders as root reports the due secrets" "$(ovbus root LogReminders t $(( 30 * day )))" "u 2"

# What orgvault-reminders.service runs, as the unit says (root, the test bus).
unit=${OV_BUILD_DIR:-$BUILD_DIR}/units/orgvault-reminders.service
exec_start=$(sed -n 's/^ExecStart=[^ ]*orgvaultctl //p' "$unit")
assert_eq "the reminders unit runs orgvaultctl remind" "$exec_start" "remind --due=14 --no-pager"
out=$(as root "$ORGVAULTCTL" $exec_start 2>&1); rc=$?
assert_eq "... which succeeds as root" "$rc" 0
assert_contains "... one secret due within 14 days (the expired one)" "$out" "1 reminder written to the journal"
out=$(as ovt-bob "$ORGVAULTCTL" remind 2>&1); rc=$?
assert_eq "remind as an admin: exit 4" "$rc" 4
check "the reminders unit is hardened" grep -q '^NoNewPrivileges=yes' "$unit"
check "... with no capabilities" grep -qx 'CapabilityBoundingSet=' "$unit"
check "the timer runs it daily" grep -qx 'OnCalendar=daily' "$SOURCE_ROOT/units/orgvault-reminders.timer"

# --- The CLI: history, rollback ---
out=$(ctl ovt-alice history "Pager Hook" 2>&1)
assert_contains "history lists the versions" "$out" "ovt-bob"
assert_eq "history --json" "$(ctl ovt-alice history pager --json | ov_py 'print([e["version"] for e in d])')" "[3, 2, 1]"
out=$(echo n | ctl ovt-bob rollback pager 2 2>&1); rc=$?
assert_eq "rollback declined: exit 3" "$rc" 3
out=$(ctl ovt-bob rollback pager 2 --yes 2>&1); rc=$?
assert_eq "rollback --yes: exit 0" "$rc" 0
assert_contains "... says which version it made" "$out" "version 4"
out=$(ctl ovt-alice rollback pager 1 --yes 2>&1); rc=$?
assert_eq "rollback as a member: exit 4" "$rc" 4
out=$(ctl ovt-alice list --due=7 --no-legend 2>&1)
assert_contains "list --due=7 shows the expired one" "$out" "Expired Hook"
assert_not_contains "... not the one due in 20 days" "$out" "Rotating Hook"
assert_contains "list --due (30 days)" "$(ctl ovt-alice list --due --no-legend)" "Rotating Hook"

ov_finish
