#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Listing and the secret objects (docs/API.md; spec "Viewing Your Secrets"):
# search, type and feature filters, paging, order by name, created/updated
# times, ids across rename and update, the object tree and ObjectManager as
# each caller sees them, and the signals that keep pickers fresh.
source "$(dirname "$0")/lib.sh"

OV_IDLE=120
ov_setup
ov_capture_daemon_stderr

NOOPTS='@a{sv} {}'
TEAMS='https://prod-00.westeurope.logic.azure.com:443/workflows/00000000000000000000000000000000/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=FAKEsignature0000000000000000000000000000000'
AC=AC0123456789abcdef0123456789abcdef
now_us() { date +%s%6N; }
quiet() { "$@" >/dev/null; }

# Secrets of many types; NAMES[i] has TYPES[i].
NAMES=("Ops Slack" "zeta slack" "mixedCASE Slack" "Teams Ops" "alpha AI" "Beta DeepSeek" "Ollama Local"
       "Plivo Line" "Twilio Main" "Voice Eleven")
TYPES=(slack-webhook slack-webhook slack-webhook teams-webhook openai-api-key deepseek-api-key ollama
       plivo twilio-auth-token elevenlabs-api-key)
fields_for() {
        case $1 in
        slack-webhook) echo "{'webhook_url': '$OV_FAKE_SLACK'}" ;;
        teams-webhook) echo "{'webhook_url': '$TEAMS'}" ;;
        openai-api-key) echo "{'api_key': '$OV_FAKE_OPENAI'}" ;;
        deepseek-api-key) echo "{'api_key': 'sk-FAKEfakeFAKEfake00000000'}" ;;
        ollama) echo "{'server_url': 'http://localhost:11434'}" ;;
        plivo) echo "{'auth_id': 'MAFAKE00000000000000', 'auth_token': 'FAKEfakeFAKEfakeFAKEfakeFAKEfakeFAKE0000'}" ;;
        twilio-auth-token) echo "{'region': 'us1', 'account_sid': '$AC', 'auth_token': 'FAKEfakeFAKEfakeFAKEfakeFAKE0000'}" ;;
        elevenlabs-api-key) echo "{'api_key': 'sk_FAKEfakeFAKEfakeFAKEfakeFAKEfake00'}" ;;
        esac
}

# names USER ORG FILTER: the names ListSecrets returns, one per line.
names() {
        local out
        out=$(ovgdbus "$1" ListSecrets "$2" "$3" 2>&1) || { echo "ERROR $out"; return; }
        python3 -c '
import ast, re, sys
s = sys.argv[1]
# gdbus prints ([(id, name, type, uint64 c, uint64 u, uint32 r), ...],)
s = re.sub(r"\b(uint64|uint32)\s+|@a\(sssttu\)\s*", "", s)
for row in ast.literal_eval(s)[0]:
    print(row[1])
' "$out"
}
# rows USER ORG FILTER: "id|name|type|created|updated|refs" per secret.
rows() {
        local out
        out=$(ovgdbus "$1" ListSecrets "$2" "$3" 2>&1) || { echo "ERROR $out"; return; }
        python3 -c '
import ast, re, sys
s = re.sub(r"\b(uint64|uint32)\s+|@a\(sssttu\)\s*", "", sys.argv[1])
for row in ast.literal_eval(s)[0]:
    print("|".join(map(str, row)))
' "$out"
}
# expect_names FILTER-DESCRIPTION PYTHON-PREDICATE-ON(n, t): the names of
# NAMES/TYPES that match, sorted ASCII case-insensitively.
expect_names() {
        python3 -c '
import json, os, sys
names = sys.argv[2].split("\n"); types = sys.argv[3].split("\n")
used_by = {}
for f in os.listdir(sys.argv[4]):
    t = json.load(open(os.path.join(sys.argv[4], f)))
    used_by[t["id"]] = t["used_by"]
pred = eval("lambda n, t, used_by: " + sys.argv[1])
for n in sorted((n for n, t in zip(names, types) if pred(n, t, used_by)), key=lambda s: s.lower()):
    print(n)
' "$1" "$(printf '%s\n' "${NAMES[@]}" | head -c -1)" "$(printf '%s\n' "${TYPES[@]}" | head -c -1)" \
                "$SOURCE_ROOT/policy/types.d"
}

# --- Adding: ids from names, times ---
t0=$(now_us)
for i in "${!NAMES[@]}"; do
        check "add ${NAMES[$i]}" quiet ovgdbus ovt-bob AddSecret acme "${TYPES[$i]}" "${NAMES[$i]}" \
                "$(fields_for "${TYPES[$i]}")" "$NOOPTS"
done
t1=$(now_us)
check "add a globex secret" quiet ovgdbus ovt-carol AddSecret globex slack-webhook "Globex Slack" \
        "$(fields_for slack-webhook)" "$NOOPTS"

all=$(rows ovt-alice acme "$NOOPTS")
assert_eq "ListSecrets returns every secret" "$(wc -l <<<"$all")" "${#NAMES[@]}"
assert_eq "the id of \"Ops Slack\" is its slug" "$(grep '|Ops Slack|' <<<"$all" | cut -d'|' -f1)" ops-slack
assert_eq "the id of \"mixedCASE Slack\" is its slug" "$(grep '|mixedCASE Slack|' <<<"$all" | cut -d'|' -f1)" mixedcase-slack
bad_ids=$(cut -d'|' -f1 <<<"$all" | grep -vE '^[a-z0-9][a-z0-9_-]{0,63}$')
assert_eq "every id is a slug" "$bad_ids" ""
plausible=$(while IFS='|' read -r id name type c u r; do
        [[ $c -ge $t0 && $c -le $t1 && $u -eq $c && $r -eq 0 ]] || echo "$id c=$c u=$u r=$r"
done <<<"$all")
assert_eq "created within the adds, updated = created, no references" "$plausible" ""
types_seen=$(while IFS='|' read -r id name type _; do echo "$name=$type"; done <<<"$all" | sort)
types_expected=$(for i in "${!NAMES[@]}"; do echo "${NAMES[$i]}=${TYPES[$i]}"; done | sort)
assert_eq "each secret has its type" "$types_seen" "$types_expected"
# A second name with the same slug gets another id.
id2=$(ovgdbus ovt-bob AddSecret acme slack-webhook "Ops-Slack!" "$(fields_for slack-webhook)" "$NOOPTS" |
        sed -n "s/^('\([^']*\)'.*/\1/p")
check "a name with a taken slug gets a new id ($id2)" test -n "$id2" -a "$id2" != ops-slack
check "... derived from the name" grep -qE '^ops-slack.+' <<<"$id2"
check "delete it again" quiet ovgdbus ovt-bob DeleteSecret acme "$id2" false

# --- Order, search, filters ---
assert_eq "sorted by name, ignoring case" "$(names ovt-alice acme "$NOOPTS")" "$(expect_names 'True')"
for q in slack SLACK Slack ca " " "ops" "e" "zz"; do
        assert_eq "search [$q] (case-insensitive substring)" \
                "$(names ovt-alice acme "{'search': <'$q'>}")" "$(expect_names "'${q,,}' in n.lower()")"
done
assert_eq "search [] is no filter" "$(names ovt-alice acme "{'search': <''>}")" "$(expect_names 'True')"
for t in slack-webhook ollama plivo; do
        assert_eq "type filter $t" "$(names ovt-alice acme "{'type': <'$t'>}")" "$(expect_names "t == '$t'")"
done
for f in alerts ai surveys call-center-surveys news; do
        assert_eq "feature filter $f" "$(names ovt-alice acme "{'feature': <'$f'>}")" \
                "$(expect_names "'$f' in used_by[t]")"
done
assert_eq "feature alerts has slack and teams" "$(names ovt-alice acme "{'feature': <'alerts'>}" | wc -l)" 4
assert_eq "search and type together" "$(names ovt-alice acme "{'search': <'OPS'>, 'type': <'teams-webhook'>}")" "Teams Ops"
assert_eq "search and feature together" "$(names ovt-alice acme "{'search': <'a'>, 'feature': <'ai'>}")" \
        "$(expect_names "'a' in n.lower() and 'ai' in used_by[t]")"
assert_eq "an unknown type matches nothing" "$(names ovt-alice acme "{'type': <'no-such-type'>}")" ""

# --- Paging: limit and offset over the sorted, filtered list ---
full=$(names ovt-alice acme "$NOOPTS")
paged=""
for off in 0 3 6 9 12; do
        page=$(names ovt-alice acme "{'limit': <uint32 3>, 'offset': <uint32 $off>}")
        [[ -n $page ]] || continue
        assert_eq "page at offset $off has at most 3" "$(( $(wc -l <<<"$page") <= 3 ))" 1
        paged+=$page$'\n'
done
assert_eq "the pages together are the whole list" "${paged%$'\n'}" "$full"
assert_eq "limit 2 offset 1" "$(names ovt-alice acme "{'limit': <uint32 2>, 'offset': <uint32 1>}")" "$(sed -n 2,3p <<<"$full")"
assert_eq "limit 0 is no limit" "$(names ovt-alice acme "{'limit': <uint32 0>}")" "$full"
assert_eq "offset past the end" "$(names ovt-alice acme "{'offset': <uint32 1000>}")" ""
assert_eq "paging applies after the search" \
        "$(names ovt-alice acme "{'search': <'slack'>, 'limit': <uint32 1>, 'offset': <uint32 1>}")" \
        "$(names ovt-alice acme "{'search': <'slack'>}" | sed -n 2p)"

# --- Update keeps the id, bumps the version and Updated ---
get() {         # get USER ORG ID KEY: one metadata value of GetSecret
        ovbus_json "$1" GetSecret ss "$2" "$3" | ov_py "print(d['data'][0]['$4']['data'])"
}
c0=$(get ovt-alice acme ops-slack Created)
u0=$(get ovt-alice acme ops-slack Updated)
assert_eq "a new secret is version 1" "$(get ovt-alice acme ops-slack Version)" 1
ver=$(ovbus_json ovt-bob UpdateSecret 'ssa{ss}' acme ops-slack 1 webhook_url "$OV_FAKE_SLACK2" | ov_py 'print(d["data"][0])')
assert_eq "UpdateSecret returns version 2" "$ver" 2
assert_eq "GetSecret shows version 2" "$(get ovt-alice acme ops-slack Version)" 2
assert_eq "update keeps the id" "$(get ovt-alice acme ops-slack Id)" ops-slack
assert_eq "update keeps Created" "$(get ovt-alice acme ops-slack Created)" "$c0"
u1=$(get ovt-alice acme ops-slack Updated)
check "update moves Updated forward ($u0 -> $u1)" test "$u1" -gt "$u0"
ver=$(ovbus_json ovt-bob UpdateSecret 'ssa{ss}' acme ops-slack 1 webhook_url "$OV_FAKE_SLACK" | ov_py 'print(d["data"][0])')
assert_eq "a second update gives version 3" "$ver" 3
keys=$(ovbus_json ovt-alice GetSecret ss acme ops-slack | ov_py 'print(" ".join(sorted(d["data"][0])))')
for k in Id Name Type Created Updated Version LastUsed References; do
        assert_contains "GetSecret has $k" " $keys " " $k "
done

# --- Rename keeps the id; the list follows the new name ---
check "rename Ops Slack to Aardvark Slack" quiet ovgdbus ovt-bob RenameSecret acme ops-slack "Aardvark Slack"
assert_eq "rename keeps the id" "$(get ovt-alice acme ops-slack Id)" ops-slack
assert_eq "GetSecret shows the new name" "$(get ovt-alice acme ops-slack Name)" "Aardvark Slack"
assert_eq "the renamed secret sorts first" "$(names ovt-alice acme "$NOOPTS" | head -n 1)" "Aardvark Slack"
assert_eq "search finds the new name" "$(names ovt-alice acme "{'search': <'aardvark'>}")" "Aardvark Slack"
assert_eq "search no longer finds the old name" "$(names ovt-alice acme "{'search': <'ops slack'>}")" ""
assert_eq "rename keeps Created" "$(get ovt-alice acme ops-slack Created)" "$c0"
check "renaming to another case of its own name is allowed" quiet ovgdbus ovt-bob RenameSecret acme ops-slack "AARDVARK slack"
assert_eq "... and shows" "$(get ovt-alice acme ops-slack Name)" "AARDVARK slack"
NAMES[0]="AARDVARK slack"

# --- ListOrgs per caller ---
orgs_of() { ovbus_json "$1" ListOrgs | ov_py 'print(" ".join(o for o, r in d["data"][0]))'; }
assert_eq "ListOrgs as ovt-alice" "$(orgs_of ovt-alice)" acme
assert_eq "ListOrgs as ovt-carol" "$(orgs_of ovt-carol)" globex
assert_eq "ListOrgs as root" "$(orgs_of root)" "acme globex"
assert_eq "ListOrgs as ovt-eve" "$(orgs_of ovt-eve)" ""

# --- Secret objects: tree, properties, ObjectManager per caller ---
enc() { python3 -c 'import sys; print("".join(c if c.isascii() and c.isalnum() else "_%02x" % ord(c) for c in sys.argv[1]))' "$1"; }
P=/io/orgvault/Vault1/secret
tree_root=$(busctl --address="$OV_BUS" tree --list io.orgvault.Vault1)
assert_contains "busctl tree shows acme's secret objects" "$tree_root" "$P/acme/$(enc ops-slack)"
assert_contains "busctl tree shows globex's secret objects" "$tree_root" "$P/globex/$(enc globex-slack)"
assert_eq "one object per secret (root)" "$(grep -c "^$P/[^/]*/[^/]*$" <<<"$tree_root")" $(( ${#NAMES[@]} + 1 ))
prop() {        # prop USER ORG ID PROPERTY
        as "$1" busctl --address="$OV_BUS" --json=short get-property io.orgvault.Vault1 "$P/$2/$(enc "$3")" \
                io.orgvault.Vault1.Secret "$4" 2>&1 | ov_py 'print(d["data"])' 2>/dev/null
}
assert_eq "property Id" "$(prop ovt-alice acme ops-slack Id)" ops-slack
assert_eq "property Org" "$(prop ovt-alice acme ops-slack Org)" acme
assert_eq "property Name" "$(prop ovt-alice acme ops-slack Name)" "AARDVARK slack"
assert_eq "property Type" "$(prop ovt-alice acme ops-slack Type)" slack-webhook
assert_eq "property Version" "$(prop ovt-alice acme ops-slack Version)" 3
assert_eq "property Created" "$(prop ovt-alice acme ops-slack Created)" "$c0"
out=$(as ovt-alice busctl --address="$OV_BUS" set-property io.orgvault.Vault1 "$P/acme/$(enc ops-slack)" \
        io.orgvault.Vault1.Secret Name s "Hijack" 2>&1)
check "properties are read-only" test $? -ne 0
assert_eq "... the name did not change" "$(get ovt-alice acme ops-slack Name)" "AARDVARK slack"

# managed USER: "org/id" of every secret object GetManagedObjects shows.
managed() {
        as "$1" busctl --address="$OV_BUS" --json=short call io.orgvault.Vault1 /io/orgvault/Vault1 \
                org.freedesktop.DBus.ObjectManager GetManagedObjects 2>/dev/null |
                ov_py '
for path, ifaces in sorted(d["data"][0].items()):
    s = ifaces.get("io.orgvault.Vault1.Secret")
    if s:
        print(s["Org"]["data"] + "/" + s["Id"]["data"])'
}
acme_ids=$(cut -d'|' -f1 <<<"$all" | sed 's|^|acme/|' | sort)
assert_eq "GetManagedObjects as ovt-alice: acme's secrets" "$(managed ovt-alice | sort)" "$acme_ids"
assert_eq "GetManagedObjects as ovt-bob: acme's secrets" "$(managed ovt-bob | sort)" "$acme_ids"
assert_eq "GetManagedObjects as ovt-carol: globex's" "$(managed ovt-carol)" "globex/globex-slack"
assert_eq "GetManagedObjects as ovt-eve: nothing" "$(managed ovt-eve)" ""
assert_eq "GetManagedObjects as root: both orgs" "$(managed root | sort)" "$(printf '%s\nglobex/globex-slack' "$acme_ids" | sort)"
# A consumer resolves and references, nothing else (docs/POLICY.md): listing,
# and so the objects, belong to members.
assert_eq "GetManagedObjects as consumer ovt-alertd: nothing" "$(managed ovt-alertd)" ""
tree_eve=$(as ovt-eve busctl --address="$OV_BUS" tree --list io.orgvault.Vault1 2>/dev/null)
assert_not_contains "busctl tree as ovt-eve shows no acme object" "$tree_eve" "$P/acme/"
assert_not_contains "busctl tree as ovt-carol shows no acme object" \
        "$(as ovt-carol busctl --address="$OV_BUS" tree --list io.orgvault.Vault1 2>/dev/null)" "$P/acme/"
check "ovt-eve can't read acme's object properties" test -z "$(prop ovt-eve acme ops-slack Name)"

# --- Signals: added, changed, removed; only to callers with a role ---
# monitor USER FILE: a picker as that user (GetManagedObjects, then listens).
monitor() {
        local u=$1 f=$2
        (exec setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups -- \
                "$BUILD_DIR/tests/integration/watch-client" "$OV_BUS" >"$f" 2>&1) &
        MON_PIDS+=($!)
}
MON_PIDS=()
for u in root ovt-bob ovt-alice ovt-eve ovt-carol; do monitor "$u" "$OV_DIR/mon-$u"; done
for u in root ovt-bob ovt-alice ovt-eve ovt-carol; do
        ov_wait_for 30 grep -q '^ready' "$OV_DIR/mon-$u"
done
check "the pickers run" grep -q '^ready' "$OV_DIR/mon-ovt-eve"
check "add Signal Probe" quiet ovgdbus ovt-bob AddSecret acme slack-webhook "Signal Probe" "$(fields_for slack-webhook)" \
        "{'id': <'signal-probe'>}"
check "rename Signal Probe" quiet ovgdbus ovt-bob RenameSecret acme signal-probe "Signal Renamed"
check "delete Signal Probe" quiet ovgdbus ovt-bob DeleteSecret acme signal-probe false
# A call after the delete, answered after its signals were sent, marks the end.
quiet ovgdbus ovt-alice Status
for u in root ovt-bob ovt-alice; do
        ov_wait_for 30 grep -q InterfacesRemoved "$OV_DIR/mon-$u"
done
kill "${MON_PIDS[@]}" 2>/dev/null
wait "${MON_PIDS[@]}" 2>/dev/null
sp="$P/acme/$(enc signal-probe)"
for u in root ovt-bob ovt-alice; do
        m=$(cat "$OV_DIR/mon-$u")
        assert_contains "$u sees InterfacesAdded" "$(grep InterfacesAdded <<<"$m")" "$sp"
        # Changed properties are announced as invalidated (no values in a broadcast).
        assert_contains "$u sees the rename" "$(grep "^$sp: .*PropertiesChanged" <<<"$m")" "'Name'"
        assert_contains "$u sees InterfacesRemoved" "$(grep InterfacesRemoved <<<"$m")" "$sp"
done
for u in ovt-eve ovt-carol; do
        m=$(cat "$OV_DIR/mon-$u")
        assert_not_contains "$u gets no signal about acme's objects" "$m" "$P/acme"
        assert_not_contains "$u doesn't see acme's names" "$m" "Signal"
done

# --- Objects go away on delete ---
check "delete Teams Ops" quiet ovgdbus ovt-bob DeleteSecret acme teams-ops false
assert_not_contains "the tree no longer shows it" "$(busctl --address="$OV_BUS" tree --list io.orgvault.Vault1)" \
        "$P/acme/$(enc teams-ops)"
assert_not_contains "GetManagedObjects no longer shows it" "$(managed root)" "acme/teams-ops"
check "its properties are gone" test -z "$(prop root acme teams-ops Name)"
assert_not_contains "ListSecrets no longer shows it" "$(names ovt-alice acme "$NOOPTS")" "Teams Ops"
assert_error "GetSecret of it: NotFound" io.orgvault.Vault1.Error.NotFound ovt-alice GetSecret acme teams-ops

ov_check_daemon_stderr
ov_finish
