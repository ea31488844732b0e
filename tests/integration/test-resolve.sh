#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Resolve over D-Bus (a sealed memfd, consumers only), references and safe
# delete, LastUsed kept across an idle exit (docs/POLICY.md, docs/API.md; issue 4).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RESOLVE=$BUILD_DIR/tests/integration/resolve-client
OV_IDLE=600
ov_setup
OUT=$OV_DIR/resolve.out

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
# py EXPR: evaluates EXPR with d = the JSON on stdin (busctl --json=short).
py() { python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
secret_meta() { ovbus_json "${2:-ovt-alice}" GetSecret ss acme "$1"; }
# audit_match EXPR: some record r of the audit log satisfies EXPR.
audit_match() {
        python3 -c "import json,sys
sys.exit(0 if any((lambda r: $1)(json.loads(l)) for l in open(sys.argv[1])) else 1)" "$OV_DIR/audit.jsonl"
}

id=$(ov_add_slack ovt-bob acme "Ops Slack")
assert_eq "admin adds a Slack webhook" "$id" "ops-slack"
ai=$(ovbus ovt-bob AddSecret sssa{ss}a{sv} acme openai-api-key "Survey AI" 1 api_key "$OV_FAKE_OPENAI" 0 |
     sed -n 's/^sas "\([^"]*\)".*/\1/p')
assert_eq "admin adds an OpenAI key" "$ai" "survey-ai"
assert_eq "LastUsed is 0 before any use" "$(secret_meta ops-slack | py 'd["data"][0]["LastUsed"]["data"]')" "0"

# Resolve: consumers whose features use the type, nobody else.
assert_eq "consumer alerts resolves the Slack webhook" "$(resolve ovt-alertd acme ops-slack)" ""
val=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sorted(d), d["type"], d["fields"])' "$OUT" 2>&1)
assert_eq "the fd holds the value as JSON" "$val" "['fields', 'type'] slack-webhook {'webhook_url': '$OV_FAKE_SLACK'}"
assert_eq "consumer surveys resolves the OpenAI key" "$(resolve ovt-surveyd acme survey-ai)" ""
assert_eq "... and reads that key" \
        "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["fields"]["api_key"])' "$OUT")" "$OV_FAKE_OPENAI"
for u in ovt-alice ovt-bob root ovt-eve ovt-carol; do
        assert_eq "Resolve as $u (no consumer) is AccessDenied" "$(resolve "$u" acme ops-slack)" \
                org.freedesktop.DBus.Error.AccessDenied
        check "... and gives no value" test ! -s "$OUT"
done
assert_eq "consumer of another feature (surveys) is AccessDenied" "$(resolve ovt-surveyd acme ops-slack)" \
        org.freedesktop.DBus.Error.AccessDenied
assert_eq "alerts may not resolve an AI key" "$(resolve ovt-alertd acme survey-ai)" \
        org.freedesktop.DBus.Error.AccessDenied
assert_eq "a consumer of acme gets nothing from globex" "$(resolve ovt-alertd globex ops-slack)" \
        org.freedesktop.DBus.Error.AccessDenied
assert_eq "a consumer can't probe ids: an unknown secret is AccessDenied too" \
        "$(resolve ovt-alertd acme no-such-secret)" org.freedesktop.DBus.Error.AccessDenied
check "a Resolve is audited" audit_match 'r["kind"]=="resolve" and r["secret"]=="ops-slack" and r["outcome"]=="ok"'
check "a refused Resolve is audited" audit_match 'r["secret"]=="ops-slack" and r["outcome"]!="ok"'
check "the audit log never holds a value" bash -c "! grep -q -e TFAKE0000 -e FAKEfake '$OV_DIR/audit.jsonl'"

meta=$(secret_meta ops-slack | py 'd["data"][0]["LastUsed"]["data"] > 0, d["data"][0]["LastUsedBy"]["data"]')
assert_eq "LastUsed set after use, by the consumer's name" "$meta" "True alerts"

# References: consumer and admin add, members see, member may not change.
assert_allowed "consumer adds a reference" ovt-alertd AddReference acme ops-slack alerts sink:ops-channel
assert_eq "... and it succeeds" "$(ov_error_of ovt-alertd AddReference acme ops-slack alerts sink:ops-channel-2)" ""
assert_eq "admin adds a reference" "$(ov_error_of ovt-bob AddReference acme ops-slack alerts sink:oncall)" ""
assert_error "member may not add a reference" org.freedesktop.DBus.Error.AccessDenied \
        ovt-alice AddReference acme ops-slack alerts sink:x
assert_error "no role: may not add a reference" org.freedesktop.DBus.Error.AccessDenied \
        ovt-eve AddReference acme ops-slack alerts sink:x
assert_error "admin of another org may not add a reference" org.freedesktop.DBus.Error.AccessDenied \
        ovt-carol AddReference acme ops-slack alerts sink:x
assert_error "reference to an unknown secret: NotFound" io.orgvault.Vault1.Error.NotFound \
        ovt-bob AddReference acme no-such-secret alerts sink:x
refs=$(secret_meta ops-slack | py 'json.dumps(d["data"][0]["References"])')
for t in sink:ops-channel sink:ops-channel-2 sink:oncall; do
        assert_contains "GetSecret shows reference $t" "$refs" "\"$t\""
done
assert_not_contains "GetSecret does not show the member's refused reference" "$refs" "sink:x"
count=$(ovbus_json ovt-alice ListSecrets sa{sv} acme 0 | py '[s[5] for s in d["data"][0] if s[0]=="ops-slack"][0]')
assert_eq "ListSecrets counts 3 references" "$count" "3"
assert_eq "consumer removes a reference" "$(ov_error_of ovt-alertd RemoveReference acme ops-slack alerts sink:ops-channel-2)" ""
assert_error "removing an unknown reference: NotFound" io.orgvault.Vault1.Error.NotFound \
        ovt-bob RemoveReference acme ops-slack alerts sink:never-added
assert_error "member may not remove a reference" org.freedesktop.DBus.Error.AccessDenied \
        ovt-alice RemoveReference acme ops-slack alerts sink:oncall
count=$(ovbus_json ovt-alice ListSecrets sa{sv} acme 0 | py '[s[5] for s in d["data"][0] if s[0]=="ops-slack"][0]')
assert_eq "ListSecrets counts 2 references after a removal" "$count" "2"
check "reference changes are audited" audit_match 'r["kind"]=="reference" and r["secret"]=="ops-slack"'

# Consumers touch only what they may use (issues 10 and 11; policy_may_reference):
# surveyd (features surveys, call-center-surveys) may not pin a Slack webhook,
# in its own feature's name or any other, so an admin's delete can't be
# blocked by it; an absent id answers exactly like a forbidden one.
refs_before=$(secret_meta ops-slack | py 'json.dumps(d["data"][0]["References"])')
assert_error "surveyd may not pin a Slack webhook for its own feature" org.freedesktop.DBus.Error.AccessDenied \
        ovt-surveyd AddReference acme ops-slack surveys sink:pinned
assert_error "... nor for a feature it does not have" org.freedesktop.DBus.Error.AccessDenied \
        ovt-surveyd AddReference acme ops-slack alerts sink:pinned
assert_error "... nor remove one" org.freedesktop.DBus.Error.AccessDenied \
        ovt-surveyd RemoveReference acme ops-slack alerts sink:ops-channel
assert_error "a consumer's reference to an absent id is AccessDenied, not NotFound" \
        org.freedesktop.DBus.Error.AccessDenied ovt-surveyd AddReference acme no-such-secret surveys sink:x
assert_error "... for every consumer, removing too" org.freedesktop.DBus.Error.AccessDenied \
        ovt-alertd RemoveReference acme no-such-secret alerts sink:x
assert_error "alertd may not reference for another consumer's feature" org.freedesktop.DBus.Error.AccessDenied \
        ovt-alertd AddReference acme ops-slack surveys sink:x
assert_error "surveyd may not reference the AI key for a feature the type is not used by" \
        org.freedesktop.DBus.Error.InvalidArgs ovt-surveyd AddReference acme survey-ai call-center-surveys sink:x
assert_eq "surveyd references the AI key for surveys" \
        "$(ov_error_of ovt-surveyd AddReference acme survey-ai surveys sink:daily)" ""
assert_eq "... and removes it" "$(ov_error_of ovt-surveyd RemoveReference acme survey-ai surveys sink:daily)" ""
assert_eq "the refused references changed nothing" \
        "$(secret_meta ops-slack | py 'json.dumps(d["data"][0]["References"])')" "$refs_before"
check "a refused reference is audited as denied" \
        audit_match 'r["secret"]=="ops-slack" and r["outcome"]=="denied" and "feature" in (r["detail"] or "")'

# For everyone, admins too, a reference names a feature the type is used by:
# an Infobip secret referenced by alerts is refused, naming the valid ones.
ib=$(ovbus ovt-bob AddSecret sssa{ss}a{sv} acme infobip "Calls Infobip" 4 base_url https://fake00.api.infobip.com \
        api_key 00000000000000000000000000000000-00000000-0000-0000-0000-000000000000 \
        calls_configuration_id fake-calls-config_01 media_stream_config_id 000000000000000000000000 0 |
     sed -n 's/^sas "\([^"]*\)".*/\1/p')
assert_eq "admin adds an Infobip secret" "$ib" "calls-infobip"
msg=$(ovgdbus ovt-bob AddReference acme calls-infobip alerts sink:x 2>&1)
assert_contains "an Infobip secret referenced by alerts is InvalidArgs" "$msg" org.freedesktop.DBus.Error.InvalidArgs
assert_contains "... and the message lists the valid features" "$msg" call-center-surveys
assert_error "an unknown feature is refused for root too" org.freedesktop.DBus.Error.InvalidArgs \
        root AddReference acme ops-slack no-such-feature sink:x
assert_eq "the type's own feature is accepted" \
        "$(ov_error_of ovt-bob AddReference acme calls-infobip call-center-surveys campaign:1)" ""
assert_eq "surveyd references it for call-center-surveys" \
        "$(ov_error_of ovt-surveyd AddReference acme calls-infobip call-center-surveys campaign:2)" ""
assert_eq "Infobip's references: only the valid ones" \
        "$(secret_meta calls-infobip | py 'sorted(r[1] for r in d["data"][0]["References"]["data"])')" \
        "['campaign:1', 'campaign:2']"
check "admin deletes the Infobip secret" test -z "$(ov_error_of ovt-bob DeleteSecret acme calls-infobip true)"

# Delete is refused while referenced, with every reference listed.
# (The record, not the whole state dir: usage.json may be flushed any time.)
record_hash() { ov_store_record acme ops-slack | sha256sum; }
before=$(record_hash)
msg=$(ovgdbus ovt-bob DeleteSecret acme ops-slack false 2>&1)
assert_contains "delete while referenced is InUse" "$msg" "io.orgvault.Vault1.Error.InUse"
assert_contains "the InUse message lists sink:ops-channel" "$msg" "sink:ops-channel"
assert_contains "the InUse message lists sink:oncall" "$msg" "sink:oncall"
assert_not_contains "the InUse message lists no removed reference" "$msg" "sink:ops-channel-2"
assert_eq "the refused delete left the disk as it was" "$(record_hash)" "$before"
assert_eq "the secret is still there" "$(ov_error_of ovt-alice GetSecret acme ops-slack)" ""
assert_error "member may not force a delete" org.freedesktop.DBus.Error.AccessDenied \
        ovt-alice DeleteSecret acme ops-slack true
assert_eq "admin forces the delete" "$(ov_error_of ovt-bob DeleteSecret acme ops-slack true)" ""
assert_error "the secret is gone" io.orgvault.Vault1.Error.NotFound ovt-alice GetSecret acme ops-slack
check "the forced delete is audited with the references it broke" \
        audit_match 'r["kind"]=="delete" and r["secret"]=="ops-slack" and "sink:ops-channel" in (r["detail"] or "") and "sink:oncall" in (r["detail"] or "")'

# A new secret with the same id starts clean.
assert_eq "a new secret gets the same id" "$(ov_add_slack ovt-bob acme "Ops Slack" "$OV_FAKE_SLACK2")" "ops-slack"
fresh() {
        secret_meta ops-slack | py 'len(d["data"][0]["References"]["data"]), d["data"][0]["LastUsed"]["data"]'
}
assert_eq "no old references or LastUsed on the new secret" "$(fresh)" "0 0"
ov_stop_daemon
assert_eq "... nor after a restart" "$(fresh)" "0 0"
assert_eq "no old references in ListSecrets" \
        "$(ovbus_json ovt-alice ListSecrets sa{sv} acme 0 | py '[s[5] for s in d["data"][0] if s[0]=="ops-slack"][0]')" "0"
assert_eq "DeleteSecret without force works when nothing refers to it" "$(ov_error_of ovt-bob DeleteSecret acme survey-ai false)" ""

# LastUsed survives an idle exit: the daemon writes it lazily when it goes.
ov_stop_daemon
OV_IDLE=2
ov_write_service_file
ov_reload_bus
assert_eq "resolve the new secret" "$(resolve ovt-alertd acme ops-slack)" ""
check "... which holds the new value" grep -q TFAKE0001 "$OUT"
used=$(secret_meta ops-slack | py 'd["data"][0]["LastUsed"]["data"], d["data"][0]["LastUsedBy"]["data"]')
check "the daemon exits when idle" ov_wait_for 60 ov_daemon_gone
check "LastUsed was set" test "${used%% *}" -gt 0
assert_eq "LastUsed and LastUsedBy persist across the idle exit" \
        "$(secret_meta ops-slack | py 'd["data"][0]["LastUsed"]["data"], d["data"][0]["LastUsedBy"]["data"]')" "$used"

ov_finish
