#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The "Next" step (docs/API.md): AddSecret and UpdateSecretWithOptions with
# the option validate_only run the checks and authorization of a real call,
# answer with the same errors and warnings, and write nothing: no record, no
# audit line (but a refusal).
source "$(dirname "$0")/lib.sh"

ov_setup
ov_capture_daemon_stderr

E=org.freedesktop.DBus.Error
V=io.orgvault.Vault1.Error
NOOPTS='@a{sv} {}'
VO="{'validate_only': <true>}"
SLACK="{'webhook_url': '$OV_FAKE_SLACK'}"
# A Teams URL on logic.azure.com: valid, with a warning (docs/TYPES.md).
TEAMS_OLD="https://prod-00.westus.logic.azure.com:443/workflows/0123456789abcdef0123456789abcdef/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=FAKEfakeFAKEfakeFAKEfake0000"

audit_lines() { wc -l <"$OV_DIR/audit.jsonl" 2>/dev/null || echo 0; }
ovgdbus_quiet() { ovgdbus "$@" >/dev/null; }

check "setup: add acme/existing" ovgdbus_quiet ovt-bob AddSecret acme slack-webhook "Existing" "$SLACK" "{'id': <'existing'>}"

# busctl: what a shell script or the page's bridge sends.
before=$(ov_state_hash); lines=$(audit_lines)
out=$(ovbus ovt-bob AddSecret 'sssa{ss}a{sv}' acme slack-webhook "" 1 webhook_url "$OV_FAKE_SLACK" \
        1 validate_only b true 2>&1)
assert_eq "busctl: validate_only with no name answers (\"\", no warnings)" "$out" 'sas "" 0'
assert_eq "busctl: validate_only wrote nothing" "$(ov_state_hash)" "$before"
assert_eq "busctl: validate_only audited nothing" "$(audit_lines)" "$lines"
out=$(ovbus_json ovt-bob AddSecret 'sssa{ss}a{sv}' acme teams-webhook "Ops Teams" 1 webhook_url "$TEAMS_OLD" \
        1 validate_only b true | ov_py 'print(d["data"][0] == "" and any("logic.azure.com" in w for w in d["data"][1]))')
assert_eq "busctl: a logic.azure.com URL validates with its warning" "$out" True
assert_eq "busctl: ... and is not saved" "$(ov_state_hash)" "$before"
out=$(ovbus ovt-bob ListSecrets 'sa{sv}' acme 0)
assert_contains "busctl: ListSecrets has one entry" "$out" 'a(sssttu) 1 '
out=$(ovbus ovt-bob AddSecret 'sssa{ss}a{sv}' acme slack-webhook "" 1 webhook_url "https://hooks.slack.com/services/x" \
        1 validate_only b true 2>&1)
assert_contains "busctl: a bad URL is refused with its reason" "$out" "webhook_url"
assert_eq "busctl: ... and nothing changed" "$(ov_state_hash)" "$before"

# Same errors as a real add, message for message.
same_as_add() {
        local d=$1 type=$2 fields=$3 name=${4:-X}
        local real vo
        before=$(ov_state_hash); lines=$(audit_lines)
        vo=$(ov_error_full ovt-bob AddSecret acme "$type" "''" "$fields" "$VO")
        real=$(ov_error_full ovt-bob AddSecret acme "$type" "$name" "$fields" "$NOOPTS")
        assert_eq "$d: validate_only gives the real add's error" "$vo" "$real"
        [[ -n $real ]] || fail "$d: the real add was expected to fail"
        assert_eq "$d: state unchanged" "$(ov_state_hash)" "$before"
}
same_as_add "unknown type" no-such-type "$SLACK"
same_as_add "missing required field" slack-webhook "@a{ss} {}"
same_as_add "unknown field" slack-webhook "{'webhook_url': '$OV_FAKE_SLACK', 'extra': 'x'}"
same_as_add "truncated Slack URL" slack-webhook "{'webhook_url': 'https://hooks.slack.com/services/TFAKE0000'}"
same_as_add "OpenAI key in the Slack type" slack-webhook "{'webhook_url': '$OV_FAKE_OPENAI'}"
same_as_add "bad enum (Twilio region)" twilio-auth-token \
        "{'region': 'eu9', 'account_sid': 'AC0123456789abcdef0123456789abcdef', 'auth_token': '0123456789abcdef0123456789abcdef'}"
err=$(ov_error_of ovt-bob AddSecret acme no-such-type "''" "$SLACK" "$VO")
assert_eq "unknown type is UnknownType" "$err" "$V.UnknownType"
err=$(ov_error_of ovt-bob AddSecret acme slack-webhook "''" "@a{ss} {}" "$VO")
assert_eq "missing field is InvalidField" "$err" "$V.InvalidField"
lines=$(audit_lines)
ov_error_of ovt-bob AddSecret acme slack-webhook "''" "{'webhook_url': 'nope'}" "$VO" >/dev/null
assert_eq "an InvalidField answer to validate_only is not audited" "$(audit_lines)" "$lines"

# Normalisation and tiers as a real add: padded, upper-case host validates;
# an Office 365 connector URL is rejected by its reject_if rule.
out=$(ovgdbus ovt-bob AddSecret acme slack-webhook "''" \
        "{'webhook_url': '  ${OV_FAKE_SLACK/hooks.slack.com/HOOKS.Slack.COM}  '}" "$VO")
assert_eq "normalisation: padded, upper-case host validates" "$out" "('', @as [])"
err=$(ov_error_full ovt-bob AddSecret acme teams-webhook "''" \
        "{'webhook_url': 'https://acme.webhook.office.com/webhookb2/00000000-0000-0000-0000-000000000000@00000000-0000-0000-0000-000000000000/IncomingWebhook/00000000000000000000000000000000/00000000-0000-0000-0000-000000000000'}" "$VO")
assert_contains "tiers: a retired connector URL is refused by its rule" "$err" "retired"

# Mistakes named end to end (docs/TYPES.md): what the page shows at "Next".
err=$(ov_error_full ovt-bob AddSecret acme openai-api-key "''" "{'api_key': 'sk-proj-FAKEfake\u200bFAKEfake_FAKE-fakeFAKEfake0000'}" "$VO")
assert_contains "an invisible character is named with its position" "$err" "U+200B ZERO WIDTH SPACE, at character 17"
err=$(ov_error_full ovt-bob AddSecret acme teams-webhook "''" "$SLACK" "$VO")
assert_contains "a Slack URL as a Teams webhook names the right type" "$err" "this is a Slack webhook URL; use the slack-webhook type"
err=$(ov_error_full ovt-bob AddSecret acme ollama "''" "{'server_url': 'https://ollama.com'}" "$VO")
assert_contains "ollama.com as an Ollama server points to openai-protocol" "$err" "openai-protocol"
out=$(ovgdbus ovt-bob AddSecret acme openai-protocol "''" "{'server_url': 'http://my_vllm:8000/v1'}" "$VO")
assert_eq "a Docker service name with '_' is a valid server" "$out" "('', @as [])"

# A name, when given, is checked as a real add checks it.
err=$(ov_error_of ovt-bob AddSecret acme slack-webhook "'EXISTING'" "$SLACK" "$VO")
assert_eq "a taken name is NameExists at validate_only too" "$err" "$V.NameExists"
err=$(ov_error_of ovt-bob AddSecret acme slack-webhook "'Ops'" "$SLACK" "{'validate_only': <true>, 'id': <'existing'>}")
assert_eq "a taken id is NameExists at validate_only too" "$err" "$V.NameExists"
err=$(ov_error_of ovt-bob AddSecret acme slack-webhook "'Ops'" "$SLACK" "{'validate_only': <'yes'>}")
assert_eq "validate_only must be a boolean" "$err" "$E.InvalidArgs"
err=$(ov_error_of ovt-bob AddSecret acme slack-webhook "''" "$SLACK" "{'validate_only': <false>}")
assert_eq "validate_only false is a real add (an empty name is refused)" "$err" "$E.InvalidArgs"

# Same authorization: a member, a stranger and another org's admin are
# refused, and the refusal is audited.
for u in ovt-alice ovt-eve ovt-carol ovt-alertd; do
        lines=$(audit_lines)
        err=$(ov_error_of $u AddSecret acme slack-webhook "''" "$SLACK" "$VO")
        assert_eq "$u may not validate an add in acme" "$err" "$E.AccessDenied"
        assert_eq "$u's refusal is audited" "$(( $(audit_lines) - lines ))" 1
done
err=$(ov_error_of ovt-alice UpdateSecretWithOptions acme existing "$SLACK" "$VO")
assert_eq "a member may not validate an update" "$err" "$E.AccessDenied"

# The add then works, with the warnings validate_only promised.
out=$(ovbus_json ovt-bob AddSecret 'sssa{ss}a{sv}' acme teams-webhook "Ops Teams" 1 webhook_url "$TEAMS_OLD" 0 |
        ov_py 'print(d["data"][0], any("logic.azure.com" in w for w in d["data"][1]))')
assert_eq "the real add gives the id and the same warning" "$out" "ops-teams True"

# UpdateSecretWithOptions: version 0 and nothing changed; errors as UpdateSecret.
before=$(ov_state_hash); lines=$(audit_lines)
out=$(ovbus ovt-bob UpdateSecretWithOptions 'ssa{ss}a{sv}' acme existing 1 webhook_url "$OV_FAKE_SLACK2" \
        1 validate_only b true)
assert_eq "busctl: UpdateSecretWithOptions validate_only answers (0, no warnings)" "$out" 'uas 0 0'
assert_eq "... wrote nothing" "$(ov_state_hash)" "$before"
assert_eq "... audited nothing" "$(audit_lines)" "$lines"
out=$(ovbus_json ovt-bob GetSecret ss acme existing | ov_py 'print(d["data"][0]["Version"]["data"])')
assert_eq "... the version is still 1" "$out" 1
vo=$(ov_error_full ovt-bob UpdateSecretWithOptions acme existing "{'webhook_url': 'https://hooks.slack.com/x'}" "$VO")
real=$(ov_error_full ovt-bob UpdateSecret acme existing "{'webhook_url': 'https://hooks.slack.com/x'}")
assert_eq "a bad update value: the same error with and without validate_only" "$vo" "$real"
assert_contains "... and it is InvalidField" "$vo" "$V.InvalidField"
err=$(ov_error_of ovt-bob UpdateSecretWithOptions acme nosuch "$SLACK" "$VO")
assert_eq "validate an update of an absent secret: NotFound" "$err" "$V.NotFound"
err=$(ov_error_of ovt-bob UpdateSecretWithOptions acme existing "$SLACK" "{'bogus': <true>}")
assert_eq "an unknown update option is InvalidArgs" "$err" "$E.InvalidArgs"
out=$(ovbus ovt-bob UpdateSecretWithOptions 'ssa{ss}a{sv}' acme existing 1 webhook_url "$OV_FAKE_SLACK2" 0)
assert_eq "UpdateSecretWithOptions with no options updates (version 2)" "$out" 'uas 2 0'
out=$(ovbus ovt-bob UpdateSecret 'ssa{ss}' acme existing 1 webhook_url "$OV_FAKE_SLACK")
assert_eq "the old UpdateSecret signature still works (version 3)" "$out" 'uas 3 0'

ov_finish
