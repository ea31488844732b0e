#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The LoadCredential= socket (docs/API.md), driven by cred-client, which does
# what systemd does: bind "\0<hex>/unit/<unit>/<credential id>", connect,
# shut down its write side, read to EOF.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CRED=$BUILD_DIR/tests/integration/cred-client
OV_IDLE=600
ov_setup
SOCK=$OV_DIR/run/credential.sock
OUT=$OV_DIR/cred.out

# cred USER UNIT CREDENTIAL-ID: what the unit would find in its credential
# file, in $OUT (bytes as read, no trailing newline added or stripped).
cred() {
        local u=$1; shift
        as "$u" timeout 20 "$CRED" "$SOCK" "$@" >"$OUT" 2>"$OV_DIR/cred.err"
}
# cred_addr USER ADDRESS: the same with a raw peer address ('@' = abstract).
cred_addr() {
        local u=$1; shift
        as "$u" timeout 20 "$CRED" --address="$1" "$SOCK" >"$OUT" 2>"$OV_DIR/cred.err"
}
got_nothing() { [[ -f $OUT && ! -s $OUT ]]; }
got_slack_url() { printf '%s' "$OV_FAKE_SLACK" | cmp -s - "$OUT"; }

# audit_has KIND UNIT SECRET OUTCOME: a LoadCredential record of the audit log
# matches; a refusal (kind denied) carries the denied MESSAGE_ID.
DENIED_ID=3ea6198b2add4290957ca6732abbf0ad
audit_has() {
        python3 - "$OV_DIR/audit.jsonl" "$DENIED_ID" "$@" <<'PY'
import json, sys
path, denied_id, kind, unit, secret, outcome = sys.argv[1:]
for line in open(path):
    r = json.loads(line)
    if (r.get("kind"), r.get("unit"), r.get("secret"), r.get("outcome"), r.get("action")) == \
            (kind, unit, secret, outcome, "LoadCredential") and \
            (kind != "denied" or r.get("message_id") == denied_id):
        sys.exit(0)
sys.exit(1)
PY
}

# The daemon binds the socket when it starts: start it with a bus call.
ovbus root Status >/dev/null
check "daemon activated" test -n "$(ov_daemon_pid)"
check "credential socket is bound" test -S "$SOCK"
assert_eq "socket is root-only (0600)" "$(stat -c '%a %U' "$SOCK")" "600 root"

id=$(ov_add_slack ovt-bob acme "Ops Slack")
assert_eq "admin adds a Slack webhook" "$id" "ops-slack"
openai=$(ovbus ovt-bob AddSecret sssa{ss}a{sv} acme openai-api-key "Survey AI" 1 api_key "$OV_FAKE_OPENAI" 0 |
         sed -n 's/^sas "\([^"]*\)".*/\1/p')
assert_eq "admin adds an OpenAI key" "$openai" "survey-ai"

# The allowed unit: whole value as JSON, and one field's raw bytes.
cred root alertd.service acme.ops-slack
check "allowed unit: the client read to EOF" test $? -eq 0
json=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["type"], d["fields"]["webhook_url"], len(d["fields"]))' "$OUT" 2>&1)
assert_eq "allowed unit gets the value as JSON" "$json" "slack-webhook $OV_FAKE_SLACK 1"
cred root alertd.service acme.ops-slack.webhook_url
check "allowed unit gets one field's raw bytes, no newline" got_slack_url
check "a grant is audited" audit_has credential alertd.service ops-slack ok
last=$(ovbus_json ovt-alice GetSecret ss acme ops-slack |
       python3 -c 'import json,sys; d=json.load(sys.stdin)["data"][0]; print(d["LastUsed"]["data"] > 0, d.get("LastUsedBy", {}).get("data"))')
assert_eq "use over the socket sets LastUsed (by the consumer)" "$last" "True alerts"

# Units that are not allowed: another consumer's unit (its features don't use
# Slack webhooks), unknown units, and a unit of another org's consumer.
cred root surveyd.service acme.ops-slack
check "another consumer's unit gets nothing" got_nothing
check "the refusal is audited naming unit and credential" audit_has denied surveyd.service ops-slack denied
grep -q 'surveyd.service' "$OV_DIR/audit.jsonl" && ! grep -q 'TFAKE0000' "$OV_DIR/audit.jsonl"
check "the audit log never holds the value" test $? -eq 0
cred root surveyd.service acme.survey-ai.api_key
check "that unit gets the secret its features use" cmp -s <(printf '%s' "$OV_FAKE_OPENAI") "$OUT"
cred root alertd.service acme.survey-ai
check "alerts' unit gets nothing for an AI key" got_nothing
cred root unknownd.service acme.ops-slack
check "an unknown unit gets nothing" got_nothing
check "the unknown unit's refusal is audited" audit_has denied unknownd.service ops-slack denied
cred root alertd.service globex.ops-slack
check "a unit gets nothing from an org it does not consume" got_nothing

# Unknown things, with an allowed unit.
cred root alertd.service acme.no-such-secret
check "unknown secret: nothing" got_nothing
check "an unknown secret is audited as denied, like a forbidden one (no probing)" \
        audit_has denied alertd.service no-such-secret denied
cred root alertd.service acme.ops-slack.api_key
check "field the type lacks: nothing" got_nothing
cred root alertd.service nosuchorg.ops-slack
check "unknown org: nothing" got_nothing

# Non-root peers. The socket is 0600 root, so connecting fails outright.
as ovt-eve timeout 20 "$CRED" "$SOCK" alertd.service acme.ops-slack >"$OUT" 2>/dev/null
check "non-root peer cannot connect to the 0600 socket" test $? -ne 0
check "... and gets nothing" got_nothing
# With the file mode opened up, SO_PEERCRED still keeps them out.
chmod 0666 "$SOCK"
cred ovt-eve alertd.service acme.ops-slack
check "non-root peer naming an allowed unit connects but gets nothing" got_nothing
check "the non-root refusal is audited" audit_has denied alertd.service ops-slack denied
cred ovt-alertd alertd.service acme.ops-slack.webhook_url
check "even the consumer's own user gets nothing on the socket" got_nothing
chmod 0600 "$SOCK"

# Malformed and overlong names get nothing; the daemon keeps serving.
pid=$(ov_daemon_pid)
long_id=$(printf 'i%.0s' $(seq 70))
long_field=$(printf 'f%.0s' $(seq 65))
mkdir -p "$OV_DIR/p/unit/alertd.service"
for addr in \
        "@zz/unit/alertd.service/acme.ops-slack" \
        "@/unit/alertd.service/acme.ops-slack" \
        "@0123/unit/alertd.service" \
        "@0123/unit/alertd/acme.ops-slack" \
        "@0123/units/alertd.service/acme.ops-slack" \
        "@0123/unit/alertd.service/acme.ops-slack.webhook_url.x" \
        "@0123/unit/alertd.service/acme/../ops-slack" \
        "@0123/unit/alertd.service/Acme.ops-slack" \
        "@0123/unit/alertd.service/acme.$long_id" \
        "@0123/unit/alertd.service/acme.ops-slack.$long_field" \
        "$OV_DIR/p/unit/alertd.service/acme.ops-slack" \
        ""; do
        cred_addr root "$addr"
        check "malformed peer address [${addr:0:60}] gets nothing" got_nothing
done
check "no-bind peer's refusal is audited" grep -q '"unparsable peer address' "$OV_DIR/audit.jsonl"
assert_eq "the daemon is still the same process" "$(ov_daemon_pid)" "$pid"
cred root alertd.service acme.ops-slack.webhook_url
check "a valid request after the malformed ones still works" got_slack_url

# A stuck peer (connects, never shuts down, never reads) blocks nobody.
stuck=()
for i in 1 2 3; do
        timeout 30 "$CRED" --stall=15 "$SOCK" alertd.service acme.ops-slack >"$OV_DIR/stuck-$i" &
        stuck+=($!)
done
stuck_connected() { [[ $(cat "$OV_DIR"/stuck-* 2>/dev/null | grep -c '^connected$') -eq 3 ]]; }
check "three stuck peers are connected" ov_wait_for 30 stuck_connected
cred root alertd.service acme.ops-slack.webhook_url
check "a client is served while three peers sit stuck" got_slack_url
kill "${stuck[@]}" 2>/dev/null
wait "${stuck[@]}" 2>/dev/null

# Policy changes apply without a restart.
sed -i 's/"units": \["alertd.service"\]/"units": ["alertd.service", "pager@night.service"]/' "$OV_DIR/config/orgs.d/acme.json"
cred root pager@night.service acme.ops-slack.webhook_url
check "a unit added to the policy gets the value at once" got_slack_url
sed -i 's/, "pager@night.service"//' "$OV_DIR/config/orgs.d/acme.json"
touch -d '+2 seconds' "$OV_DIR/config/orgs.d/acme.json"
cred root pager@night.service acme.ops-slack.webhook_url
check "a unit removed from the policy gets nothing at once" got_nothing

# After a forced delete the credential is gone.
ovbus ovt-bob DeleteSecret ssb acme ops-slack true >/dev/null
cred root alertd.service acme.ops-slack.webhook_url
check "deleted secret: nothing" got_nothing

ov_stop_daemon
check "the daemon removes the socket it bound when it exits" test ! -e "$SOCK"

# Socket activation (orgvault-credential.socket): the daemon takes the
# listener named credential.sock and binds none of its own. The helper starts
# the daemon on the first connection, so the bus call waits for that.
SA=$OV_DIR/sa/credential.sock
mkdir -p "$OV_DIR/sa"
cat >"$OV_DIR/services/io.orgvault.Vault1.service" <<EOT
[D-BUS Service]
Name=io.orgvault.Vault1
Exec=$(command -v systemd-socket-activate) --listen=$SA --fdname=credential.sock $(ov_daemon_cmd)
EOT
ov_reload_bus
ovbus root Status >/dev/null &
status=$!
ov_wait_for 30 test -S "$SA"
as root timeout 20 "$CRED" "$SA" surveyd.service acme.survey-ai.api_key >"$OUT"
check "socket-activated: the allowed unit gets the value" cmp -s <(printf '%s' "$OV_FAKE_OPENAI") "$OUT"
wait "$status"
check "socket-activated: the bus is served too" test $? -eq 0
check "socket-activated: no socket of its own in --runtime-dir" test ! -e "$SOCK"
SOCK=$SA
cred root alertd.service acme.survey-ai.api_key
check "socket-activated: refusals still give nothing" got_nothing
ov_stop_daemon
check "socket-activated: the passed socket is left to its owner" test -S "$SA"

ov_finish
