# SPDX-License-Identifier: Apache-2.0
# LoadCredential= from orgvault's socket: a consumer unit gets the exact
# bytes (hashes compared, the value never printed), the JSON form too, a
# DynamicUser= consumer too; a unit that is no consumer gets an empty
# credential, and its refusal is in the journal under the denied MESSAGE_ID.
. "$SYSTEST_LIB"

C=acme.ops-slack.webhook_url
consumer_unit alertd "$C"
consumer_unit alertd-dyn "$C" "DynamicUser=yes"
consumer_unit nosy "$C"

cat >/etc/systemd/system/alertd-json.service <<UNIT
[Service]
Type=oneshot
DynamicUser=yes
LoadCredential=acme.ops-slack:$SOCK
ExecStart=/usr/bin/python3 -c 'import hashlib, json, sys; d = json.load(open(sys.argv[1])); print(d["type"], hashlib.sha256(d["fields"]["webhook_url"].encode()).hexdigest())' %d/acme.ops-slack
StandardOutput=truncate:$OUTDIR/alertd-json.out
UNIT
systemctl daemon-reload

assert_eq "a consumer unit gets the exact bytes (sha256)" "$(run_consumer alertd)" "$(value_sha)"
assert_eq "a DynamicUser=yes consumer gets them too" "$(run_consumer alertd-dyn)" "$(value_sha)"
rm -f $OUTDIR/alertd-json.out
timeout 120 systemctl start alertd-json.service
assert_eq "the JSON form (<org>.<id>) has the type and the same field" \
        "$(cat $OUTDIR/alertd-json.out 2>/dev/null)" "slack-webhook $(value_sha)"
assert_eq "a unit that is no consumer gets an empty credential" "$(run_consumer nosy)" "$EMPTY_SHA"
out=$(journal_export MESSAGE_ID=$MID_DENIED ORGVAULT_UNIT=nosy.service)
assert_contains "its refusal is under the denied MESSAGE_ID" "$out" "ORGVAULT_ACTION=LoadCredential"
assert_contains "... naming the secret" "$out" "ORGVAULT_SECRET=ops-slack"
assert_contains "... with outcome denied" "$out" "ORGVAULT_OUTCOME=denied"
out=$(journal_export MESSAGE_ID=$MID_CREDENTIAL ORGVAULT_UNIT=alertd-dyn.service)
assert_contains "the grant to the DynamicUser unit is audited" "$out" "ORGVAULT_OUTCOME=ok"
