#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# orgvaultctl against a private bus: every verb's success and failure paths,
# as the users of lib.sh (bob admin of acme, alice member, eve nobody, carol
# admin of globex, root admin of both). JSON output goes through python3's
# json module; tables are checked for their columns, order and footer.
source "$(dirname "$0")/lib.sh"
ov_setup
ov_capture_daemon_stderr
# dbus-daemon picks up the rewritten service file asynchronously (inotify);
# until then it would activate the first one. Reload synchronously.
busctl --address="$OV_BUS" call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig
export TZ=UTC

# ctl USER ARGS...: runs orgvaultctl (stdin passed through); sets OUT, ERR, RC.
ctl() {
        local u=$1; shift
        OUT=$(as "$u" "$ORGVAULTCTL" "$@" 2>"$OV_DIR/ctl.err")
        RC=$?
        ERR=$(cat "$OV_DIR/ctl.err")
}
assert_rc() { local e=${ERR//$'\n'/ | }; assert_eq "$1 (exit code; stderr: ${e:0:200})" "$RC" "$2"; }
one_line() { [[ $(printf '%s' "$ERR" | wc -l) -eq 0 && -n $ERR ]]; }
fields() { printf '{"webhook_url": "%s"}' "$1"; }
# denied_audited USER METHOD: the daemon audited a refused METHOD* call of USER
# (the CLI asks the daemon instead of refusing on its own).
denied_audited() {
        python3 - "$OV_DIR/audit.jsonl" "$(id -u "$1")" "$2" <<'PY'
import json, sys
path, uid, method = sys.argv[1:]
sys.exit(0 if any(r.get("kind") == "denied" and (r.get("action") or "").startswith(method) and str(r.get("uid")) == uid
                  and r.get("message_id") == "3ea6198b2add4290957ca6732abbf0ad"
                  for r in map(json.loads, open(path))) else 1)
PY
}

# --- command line ---
ctl root --help
assert_rc "--help" 0
for v in "list [SEARCH]" "describe-type TYPE" "add [TYPE]" "show SECRET" "refs SECRET" "rename SECRET NAME" \
         "update SECRET" "delete SECRET" "status" "seal" "unseal" "rotate-keys" "--fields-json=-" "--no-legend"; do
        assert_contains "--help names $v" "$OUT" "$v"
done
ctl root --version
assert_eq "--version" "$OUT" "orgvaultctl 0.1.0"
ctl root
assert_rc "no command" 2
ctl root frobnicate
assert_rc "unknown command" 2
assert_contains "unknown command is named" "$ERR" 'Unknown command "frobnicate"'
ctl root delete
assert_rc "missing argument" 2
assert_contains "missing argument shows the usage" "$ERR" "usage is 'orgvaultctl delete SECRET [--force] [--yes]'"
ctl root rename a b c
assert_rc "too many arguments" 2
ctl root list --force
assert_rc "an option of another verb" 2
assert_contains "the misplaced option is named" "$ERR" "Option --force does not apply to \"list\""
ctl root add slack-webhook "--webhook_url=$OV_FAKE_SLACK"
assert_rc "a value on the command line is refused" 2
assert_not_contains "the refused value is not printed back" "$ERR" "hooks.slack.com"
ctl root --json=yaml list
assert_rc "unknown --json mode" 2
ctl root --address=unix:path=/nonexistent/bus status
assert_rc "unreachable bus" 1
assert_contains "unreachable bus says what to check" "$ERR" "check --address or \$ORGVAULT_BUS_ADDRESS"
OUT=$(ORGVAULT_BUS_ADDRESS= "$ORGVAULTCTL" --address="$OV_BUS" status 2>&1)
assert_contains "--address reaches the private bus" "$OUT" "Sealed: no"

# --- add (non-interactive) ---
ctl ovt-bob add slack-webhook --name="Ops Slack" --fields-json - < <(fields "$OV_FAKE_SLACK")
assert_rc "admin adds a secret from --fields-json" 0
assert_eq "add prints only the id on stdout" "$OUT" "ops-slack"
assert_contains "add says where it was added" "$ERR" 'Added "Ops Slack" to org acme'
ctl ovt-bob add slack-webhook --name="Dev Slack" --id=dev-hook --fields-json - < <(fields "$OV_FAKE_SLACK2")
assert_eq "--id sets the id" "$OUT" "dev-hook"
# The fake OpenAI key has an unusual shape: a warning at "Next". From stdin
# there is no one to ask: nothing is saved without --yes.
ctl ovt-bob --json add openai-api-key --name="beta OpenAI" --fields-json - <<<"{\"api_key\": \"$OV_FAKE_OPENAI\"}"
assert_rc "a warning without --yes saves nothing (--fields-json)" 3
assert_contains "... the warning is shown with the field's label" "$ERR" "Warning: API Key: "
assert_contains "... and the way on is named" "$ERR" "pass --yes to save"
assert_eq "... nothing on stdout" "$OUT" ""
ctl ovt-bob --json add openai-api-key --name="beta OpenAI" --yes --fields-json - <<<"{\"api_key\": \"$OV_FAKE_OPENAI\"}"
assert_rc "add --json --yes" 0
got=$(ov_py 'print(d["id"], len(d["warnings"]) > 0 and isinstance(d["warnings"], list))' <<<"$OUT")
assert_eq "add --json gives id and warnings" "$got" "beta-openai True"
assert_eq "add --json --yes keeps stderr for the JSON's sake" "$ERR" ""
ctl ovt-bob add slack-webhook --name="Ops Slack" --fields-json - < <(fields "$OV_FAKE_SLACK2")
assert_rc "a taken display name" 6
assert_contains "NameExists says what to do" "$ERR" "pick another display name"
ctl ovt-bob add slack-webhook --name="OPS SLACK" --fields-json - < <(fields "$OV_FAKE_SLACK2")
assert_rc "names are unique ignoring case" 6
ctl ovt-bob add slack-webhook --name=Bad --fields-json - <<<'{"webhook_url": "https://example.com/not-slack-FAKEVALUE"}'
assert_rc "an invalid field" 7
assert_contains "InvalidField names the field" "$ERR" "webhook_url"
check "InvalidField is one line" one_line
ctl ovt-bob add slack-webhook --name=Bad --fields-json - <<<'{"webhook_url": 42}'
assert_rc "a non-string field value" 2
ctl ovt-bob add slack-webhook --name=Bad --fields-json - <<<'{"webhook_url": "FAKEVALUE-in-broken-json'
assert_rc "broken JSON on stdin" 2
assert_not_contains "a JSON error does not quote the input" "$ERR" "FAKEVALUE"
ctl ovt-bob add slack-webhook --name=Bad --fields-json /etc/passwd
assert_rc "a --fields-json file that is not JSON" 2
assert_contains "... is named" "$ERR" "file /etc/passwd is not a JSON object"
ctl ovt-bob add slack-webhook --name=Bad --fields-json /nonexistent/fields.json
assert_rc "a --fields-json file that does not exist" 2
fields "${OV_FAKE_SLACK/TFAKE0000/TFAKE0009}" >"$OV_DIR/fields.json"
chmod 0644 "$OV_DIR/fields.json"
ctl ovt-bob add slack-webhook --name="From File" --fields-json "$OV_DIR/fields.json"
assert_rc "--fields-json FILE adds" 0
assert_eq "... and prints the id" "$OUT" "from-file"
ctl ovt-bob delete from-file --yes
# Ids transliterate Latin letters to ASCII (not "quipe-donn-es").
ctl ovt-bob add slack-webhook --name="Équipe Données" --fields-json - < <(fields "$OV_FAKE_SLACK2")
assert_eq "an accented name gives an ASCII id" "$OUT" "equipe-donnees"
ctl ovt-bob delete equipe-donnees --yes
ctl ovt-bob add slack-webhook --name="Other Hook" --id=dev-hook --fields-json - < <(fields "$OV_FAKE_SLACK2")
assert_rc "a taken --id" 6
assert_contains "a taken --id says to pick another id, not a name" "$ERR" "pick another --id"
assert_not_contains "... not a display name" "$ERR" "display name"
ctl ovt-bob add slack-webhook --fields-json - < <(fields "$OV_FAKE_SLACK")
assert_rc "--fields-json without --name" 2
ctl ovt-bob add no-such-type --name=X --fields-json - <<<'{}'
assert_rc "an unknown type" 5
assert_contains "UnknownType points at types" "$ERR" "orgvaultctl types"
assert_eq "UnknownType says it once" "$ERR" "Unknown secret type no-such-type; see 'orgvaultctl types'."
ctl ovt-bob add slack-webhook --name=X --id='Bad Id' --fields-json - < <(fields "$OV_FAKE_SLACK")
assert_rc "an invalid --id" 2
ctl ovt-alice add slack-webhook --name=Mine --fields-json - < <(fields "$OV_FAKE_SLACK")
assert_rc "a member may not add" 4
check "the daemon audited the member's refused add" denied_audited ovt-alice AddSecret
assert_eq "AccessDenied names the role" "$ERR" \
        "Access denied: adding secrets needs the admin role in org acme; ask an admin of acme for it."
ctl ovt-eve add slack-webhook --name=Mine --fields-json - < <(fields "$OV_FAKE_SLACK")
assert_rc "a user with no org" 4
assert_contains "no org says whom to ask" "$ERR" "no role in any organization"
ctl root add slack-webhook --name=Mine --fields-json - < <(fields "$OV_FAKE_SLACK")
assert_rc "root has several orgs: --org needed" 2
assert_contains "several orgs are listed" "$ERR" "(acme, globex); pick one with --org=ORG"
ctl ovt-bob --org=globex add slack-webhook --name=Theirs --fields-json - < <(fields "$OV_FAKE_SLACK")
assert_rc "an admin of acme may not add to globex (not his org: 5)" 5
ctl ovt-carol add slack-webhook --name="alpha hook" --fields-json - < <(fields "$OV_FAKE_SLACK")
assert_rc "carol adds in her only org" 0
OUT=$(as ovt-bob setsid -w "$ORGVAULTCTL" add slack-webhook </dev/null 2>&1)
RC=$?
assert_eq "interactive add without a terminal (exit code)" "$RC" "2"
assert_contains "no terminal points at --fields-json" "$OUT" "--fields-json -"

# --- list ---
ovbus ovt-alertd AddReference ssss acme ops-slack alerts sink-1 >/dev/null
ctl ovt-alice list
assert_rc "a member lists" 0
header=$(head -n 1 <<<"$OUT")
check "the header is NAME TYPE CREATED USED BY" [ "$(echo $header)" = "NAME TYPE CREATED USED BY" ]
assert_eq "the footer counts the secrets" "$(tail -n 1 <<<"$OUT")" "3 secrets listed."
assert_eq "a blank line precedes the footer" "$(tail -n 2 <<<"$OUT" | head -n 1)" ""
names=$(sed -n '2,4p' <<<"$OUT" | awk '{print $1}' | tr '\n' ' ')
assert_eq "rows are sorted by name, ignoring case" "$names" "beta Dev Ops "
row=$(grep '^Ops Slack' <<<"$OUT")
assert_contains "TYPE column" "$row" "slack-webhook"
assert_eq "USED BY counts references" "$(awk '{print $NF}' <<<"$row")" "1"
created=$(as ovt-alice "$ORGVAULTCTL" list --json | ov_py 'print([s["created"] for s in d if s["id"] == "ops-slack"][0])')
expect=$(TZ=Asia/Tokyo python3 -c "import time; print(time.strftime('%Y-%m-%d %H:%M:%S %Z', time.localtime($created / 1e6)))")
OUT=$(as ovt-alice env TZ=Asia/Tokyo "$ORGVAULTCTL" list Ops)
assert_contains "CREATED is the local date and time" "$OUT" "$expect"
check "no colour when stdout is not a terminal" bash -c '! grep -q $'"'\e'"' <<<"$1"' _ "$OUT"
ctl ovt-alice list SLACK
assert_eq "SEARCH filters by name, any case" "$(tail -n 1 <<<"$OUT")" "2 secrets listed."
ctl ovt-alice list ops
assert_eq "one match says 1 secret" "$(tail -n 1 <<<"$OUT")" "1 secret listed."
ctl ovt-alice list --type=openai-api-key --no-legend
assert_eq "--type filters, --no-legend drops header and footer" "$(echo $OUT | awk '{print $1, $2, $3}')" "beta OpenAI openai-api-key"
ctl ovt-alice list --feature=alerts --no-legend
assert_eq "--feature filters by the features using the type" "$(wc -l <<<"$OUT")" "2"
ctl ovt-alice list nothing-matches
assert_eq "no match" "$(tail -n 1 <<<"$OUT")" "0 secrets listed."
ctl ovt-alice --json=pretty list
got=$(ov_py 'print(len(d), sorted(d[0].keys()), [s["name"] for s in d], [s["references"] for s in d])' <<<"$OUT")
assert_eq "list --json has the documented shape" "$got" \
        "3 ['created', 'id', 'name', 'references', 'type', 'updated'] ['beta OpenAI', 'Dev Slack', 'Ops Slack'] [0, 0, 1]"
ctl ovt-carol list --json
assert_eq "orgs are separate" "$(ov_py 'print([s["id"] for s in d])' <<<"$OUT")" "['alpha-hook']"
ctl root --org=acme list --no-legend
assert_eq "root lists any org with --org" "$(wc -l <<<"$OUT")" "3"
ctl ovt-alice --org=globex list
assert_rc "a member of acme lists globex: not one of her orgs" 5
assert_contains "... her orgs are named" "$ERR" 'No org "globex" that you have a role in (it may not exist); your orgs: acme (member)'
ctl ovt-bob --org=nosuch list
assert_rc "--org=nosuch (exit 5, as the man page says)" 5
assert_contains "... says which orgs there are for him" "$ERR" "your orgs: acme (admin); check --org."
ctl ovt-alice add slack-webhook --name=Mine --fields-json - < <(fields "$OV_FAKE_SLACK")
assert_rc "a role lacking the action is still access denied" 4
ctl ovt-alice list --type=bogus
assert_rc "list --type=bogus is an error" 5
assert_contains "... listing the types" "$ERR" 'Unknown type "bogus" for --type; the types are: '
assert_contains "... by id" "$ERR" "slack-webhook"
ctl ovt-alice list --feature=bogus
assert_rc "list --feature=bogus is an error" 5
assert_contains "... listing the features" "$ERR" "the features are: ai, alerts, call-center-surveys, news, surveys."
ctl ovt-eve types --feature=bogus
assert_rc "types --feature=bogus is an error" 5
ctl ovt-alice --org=Not_An_Org list
assert_rc "an invalid --org" 2
ctl ovt-eve list
assert_rc "eve lists" 4

# --- types, describe-type ---
ctl ovt-eve types
assert_rc "anyone lists types" 0
check "types header" [ "$(head -n 1 <<<"$OUT" | tr -s ' ')" = "TYPE NAME CATEGORY USED BY" ]
assert_eq "the 11 types" "$(tail -n 1 <<<"$OUT")" "11 types listed."
ctl ovt-eve types --feature=alerts --json
assert_eq "types --feature, --json" "$(ov_py 'print(sorted(t["id"] for t in d), d[0]["used_by"])' <<<"$OUT")" \
        "['slack-webhook', 'teams-webhook'] ['alerts']"
ctl ovt-alice describe-type twilio-api-key
assert_rc "describe-type" 0
assert_contains "describe-type lists allowed values" "$OUT" "Allowed values: us1, ie1, au1"
assert_contains "describe-type marks secret fields" "$(grep api_key_secret <<<"$OUT")" "secret: typed with no echo"
assert_contains "describe-type shows the Twilio US1 note" "$OUT" "work only in the US1 (Virginia) region"
assert_not_contains "non-secret fields are not marked" "$(grep account_sid <<<"$OUT")" "secret:"
ctl ovt-alice describe-type openai-protocol --json
assert_eq "describe-type --json" "$(ov_py 'print(d["id"], d["category"], [(f["id"], f["required"], f["secret"]) for f in d["fields"]])' <<<"$OUT")" \
        "openai-protocol ai [('server_url', True, False), ('api_key', False, True)]"
ctl ovt-alice describe-type nope
assert_rc "describe-type of an unknown type" 5

# --- show, refs ---
ctl ovt-alice show "ops slack"
assert_rc "show by display name, any case" 0
assert_contains "show gives the type" "$OUT" "Type: slack-webhook"
assert_contains "show gives the references" "$OUT" "Used by: alerts sink-1"
assert_contains "show gives last use" "$OUT" "Last used: never"
assert_not_contains "show never gives the value" "$OUT" "TFAKE0000"
ctl ovt-alice --json show ops-slack
assert_eq "show --json (snake_case keys)" "$(ov_py 'print(d["id"], d["name"], d["version"], d["org"], d["references"][0]["feature"], d["references"][0]["target"])' <<<"$OUT")" \
        "ops-slack Ops Slack 1 acme alerts sink-1"
assert_eq "show --json: one key convention" "$(ov_py 'print(sorted(d))' <<<"$OUT")" \
        "['created', 'expired', 'expires', 'id', 'last_used', 'last_used_by', 'name', 'org', 'references', 'rotate_by', 'type', 'updated', 'version']"
ctl ovt-alice show no-such
assert_rc "show of a missing secret" 5
assert_contains "not found points at list" "$ERR" "see 'orgvaultctl list'"
ctl ovt-eve --org=acme show ops-slack
assert_rc "show as an outsider (no org of hers: 5)" 5
ctl ovt-alice refs "Ops Slack"
check "refs header" [ "$(head -n 1 <<<"$OUT" | tr -s ' ')" = "FEATURE TARGET ADDED" ]
assert_eq "refs footer" "$(tail -n 1 <<<"$OUT")" "1 reference listed."
ctl ovt-alice refs dev-hook --json
assert_eq "refs --json of an unused secret" "$OUT" "[]"
ctl ovt-alice refs no-such
assert_rc "refs of a missing secret" 5

# --- rename ---
ctl ovt-bob rename "beta OpenAI" "Beta OpenAI prod"
assert_rc "rename" 0
assert_eq "rename says what it did" "$ERR" 'Renamed "beta OpenAI" to "Beta OpenAI prod" in org acme; its id stays beta-openai.'
ctl ovt-alice show beta-openai --json
assert_eq "rename keeps the id" "$(ov_py 'print(d["name"])' <<<"$OUT")" "Beta OpenAI prod"
ctl ovt-bob rename beta-openai "Dev Slack"
assert_rc "rename to a taken name" 6
ctl ovt-bob rename beta-openai $'bad\tname'
assert_rc "rename to a name with a control character" 2
ctl ovt-alice rename beta-openai "Mine"
assert_rc "a member may not rename" 4
assert_contains "rename AccessDenied names the role" "$ERR" "renaming secrets needs the admin role in org acme"
ctl ovt-bob rename no-such "X"
assert_rc "rename of a missing secret" 5

# --- update ---
ctl ovt-bob --json update ops-slack --fields-json - < <(fields "$OV_FAKE_SLACK2")
assert_rc "update from --fields-json" 0
assert_eq "update --json gives the new version" "$(ov_py 'print(d["id"], d["version"])' <<<"$OUT")" "ops-slack 2"
ctl ovt-bob update ops-slack --fields-json - <<<'{"webhook_url": "https://example.com/FAKEVALUE"}'
assert_rc "update with an invalid value" 7
ctl ovt-alice show ops-slack --json
assert_eq "a refused update changes nothing" "$(ov_py 'print(d["version"], len(d["references"]))' <<<"$OUT")" "2 1"
ctl ovt-alice update ops-slack --fields-json - < <(fields "$OV_FAKE_SLACK")
assert_rc "a member may not update" 4
check "the daemon audited the member's refused update" denied_audited ovt-alice UpdateSecret
OUT=$(as ovt-bob setsid -w "$ORGVAULTCTL" update ops-slack </dev/null 2>&1)
assert_contains "interactive update without a terminal" "$OUT" "No terminal"

# --- delete ---
ctl ovt-bob delete "Ops Slack" --yes
assert_rc "delete of a referenced secret" 6
assert_contains "the references are shown" "$ERR" "alerts sink-1"
assert_contains "InUse says what to do" "$ERR" "or pass --force"
ctl ovt-alice list ops --no-legend
assert_eq "a refused delete keeps the secret" "$(wc -l <<<"$OUT")" "1"
ctl ovt-alice delete dev-hook <<<"y"
assert_rc "a member may not delete (asked nothing)" 4
assert_not_contains "a member is not asked to confirm" "$ERR" "[y/N]"
check "the daemon audited the member's refused delete" denied_audited ovt-alice DeleteSecret
ctl ovt-alice list dev --no-legend
assert_eq "a member's refused delete keeps the secret" "$(wc -l <<<"$OUT")" "1"
ctl ovt-bob delete "Dev Slack" <<<"n"
assert_rc "answering n" 3
assert_contains "the confirmation names secret and type" "$ERR" 'Delete secret "Dev Slack" (slack-webhook)? [y/N]'
ctl ovt-bob delete "Dev Slack" </dev/null
assert_rc "no answer (end of input) counts as no" 3
ctl ovt-alice show dev-hook
assert_rc "a declined delete keeps the secret" 0
ctl ovt-bob delete "Dev Slack" <<<"y"
assert_rc "answering y" 0
ctl ovt-alice show dev-hook
assert_rc "the deleted secret is gone" 5
ctl ovt-bob delete "Ops Slack" --force <<<"yes"
assert_rc "--force deletes a referenced secret after confirmation" 0
assert_contains "--force still shows what breaks" "$ERR" "stop working"
ctl ovt-bob delete beta-openai --yes
assert_rc "--yes deletes without asking" 0
assert_not_contains "--yes does not ask" "$ERR" "[y/N]"
ctl ovt-bob delete beta-openai --yes
assert_rc "delete of a missing secret" 5
ctl ovt-alice list
assert_eq "all deleted" "$(tail -n 1 <<<"$OUT")" "0 secrets listed."

# --- status, rotate-keys, seal, unseal ---
ctl ovt-eve status
assert_rc "anyone may see the status" 0
assert_contains "status shows the key mode" "$OUT" "Key mode: keyfile"
ctl ovt-eve status --json
assert_eq "status --json (snake_case keys)" "$(ov_py 'print(d["sealed"], d["key_mode"], d["policy_problems"], d["policy_problems_visible"])' <<<"$OUT")" "False keyfile [] False"
ctl ovt-eve status
assert_contains "status for a non-root user: problems are root's to see" "$OUT" "Policy problems: visible to root only"
ctl root status
assert_contains "status for root: no problems" "$OUT" "Policy problems: none"
echo '{ "org": "broken", "admins": ' >"$OV_DIR/config/orgs.d/broken.json"
ctl root status
assert_contains "status for root counts the problems" "$OUT" "Policy problems: 1 problem:"
assert_contains "... and names the file" "$OUT" "broken.json"
ctl ovt-eve status
assert_contains "... which a non-root user is told are visible to root" "$OUT" "Policy problems: visible to root only"
rm -f "$OV_DIR/config/orgs.d/broken.json"
ctl ovt-carol rotate-keys
assert_rc "an admin rotates her org's keys" 0
assert_eq "rotate-keys says what it did" "$ERR" "Gave org globex a new data key and re-sealed its secrets with it."
ctl ovt-carol show alpha-hook
assert_rc "secrets survive rotation" 0
ctl ovt-alice rotate-keys
assert_rc "a member may not rotate keys" 4
OUT=$(as root setsid -w "$ORGVAULTCTL" unseal </dev/null 2>&1)
assert_contains "unseal needs a terminal" "$OUT" "terminal"
ctl ovt-bob seal
assert_rc "an admin may not seal" 4
assert_contains "seal AccessDenied names root" "$ERR" "sealing the vault needs root"
ctl root seal
assert_rc "root seals" 0
ctl root status --json
assert_eq "the vault is sealed" "$(ov_py 'print(d["sealed"])' <<<"$OUT")" "True"
ctl ovt-carol show alpha-hook
assert_rc "metadata stays readable while sealed" 0
ctl ovt-carol add slack-webhook --name="While sealed" --fields-json - < <(fields "$OV_FAKE_SLACK")
assert_rc "adding to a sealed vault" 8
assert_contains "Sealed says what to do" "$ERR" "orgvaultctl unseal"

# --- bash completion ---
comp() {
        COMP_WORDS=("$@")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMPREPLY=()
        _orgvaultctl
        echo "${COMPREPLY[*]}"
}
ov_stop_daemon
(
        PATH=$(dirname "$ORGVAULTCTL"):$PATH
        source "$SOURCE_ROOT/completion/orgvaultctl.bash"
        ctl ovt-carol add slack-webhook --name="Pager Hook" --fields-json - < <(fields "$OV_FAKE_SLACK") >/dev/null
        assert_eq "completion: verbs" "$(comp orgvaultctl de)" "describe-type delete"
        assert_eq "completion: type ids" "$(comp orgvaultctl describe-type twilio)" "twilio-api-key twilio-auth-token"
        assert_eq "completion: display names" "$(comp orgvaultctl --org=globex show Pa)" 'Pager\ Hook'
        assert_eq "completion: delete options" "$(comp orgvaultctl delete x --f)" "--force"
        echo "$OV_PASSED $OV_FAILED" >"$OV_DIR/comp.counts"
)
read -r OV_PASSED OV_FAILED <"$OV_DIR/comp.counts"

ov_check_daemon_stderr
ov_finish
