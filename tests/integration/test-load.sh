#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Load (issue 6): 16 concurrent clients as different users mix every kind of
# call for LOAD_SECONDS (default 20). Asserts that no call fails beyond the
# expected denials (counted per client and kind), that the daemon's RSS at
# the end is within 1.5x + 2 MiB of its RSS at 25% of the run (a leak check,
# not a timing), that the same daemon still answers at the end, that the
# disk holds exactly what the clients left, and that the audit log is
# well-formed JSON lines without values.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RESOLVE=$BUILD_DIR/tests/integration/resolve-client
DENIED=org.freedesktop.DBus.Error.AccessDenied
LOAD_SECONDS=${LOAD_SECONDS:-20}
OV_IDLE=0
# ASan keeps freed memory in a quarantine (256 MiB by default) that would
# look like growth; a small one still catches use-after-free.
export ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4
ov_setup
ov_capture_daemon_stderr
LOGS=$OV_DIR/load
mkdir -p "$LOGS"
trap 'kill $(jobs -p) 2>/dev/null; wait; ov_teardown; ov_unstage' EXIT

value() { printf 'https://hooks.slack.com/services/TFAKE0000/BFAKE0000/load%020d' "$1"; }

# expect LOG OUTCOME USER METHOD ARGS...: one call through gdbus; logs
# "METHOD OUTCOME", or "UNEXPECTED METHOD got X" when OUTCOME ("ok" or an
# error name) is not what came back.
expect() {
        local log=$1 want=$2 u=$3 m=$4; shift 4
        local got
        got=$(ov_error_of "$u" "$m" "$@")
        got=${got:-ok}
        if [[ $got == "$want" ]]; then echo "$m $got"; else echo "UNEXPECTED $m got $got"; fi >>"$log"
}
# expect_resolve LOG OUTCOME USER ID: Resolve as a consumer does (memfd checked).
expect_resolve() {
        local log=$1 want=$2 u=$3 id=$4 got
        if as "$u" timeout 20 "$RESOLVE" "$OV_BUS" acme "$id" >/dev/null 2>"$log.err"; then
                got=ok
        else
                got=$(head -c 200 "$log.err"); got=${got%%:*}; got=${got:-failed}
        fi
        if [[ $got == "$want" ]]; then echo "Resolve $got"; else echo "UNEXPECTED Resolve got $got"; fi >>"$log"
}

# Fixtures no client changes.
add_fixture() { ovgdbus "$@" >/dev/null; }
for i in 1 2 3; do
        check "add acme/stable-$i" add_fixture ovt-bob AddSecret acme slack-webhook "Stable $i" \
                "{'webhook_url': '$(value "$i")'}" "{'id': <'stable-$i'>}"
done
check "add acme/stable-ai" add_fixture ovt-bob AddSecret acme openai-api-key "Stable AI" "{'api_key': '$OV_FAKE_OPENAI'}" \
        "{'id': <'stable-ai'>}"
check "add globex/g-stable" add_fixture ovt-carol AddSecret globex slack-webhook "Globex Stable" \
        "{'webhook_url': '$(value 9)'}" "{'id': <'g-stable'>}"
pid=$(ov_daemon_pid)
check "daemon is running" test -n "$pid"

end=$((SECONDS + LOAD_SECONDS))

# An admin's own secrets: add, update, rename, get, delete, again and again.
admin_client() {
        local k=$1 u=$2 org=$3 log=$LOGS/$1 n=0
        while ((SECONDS < end)); do
                n=$((n + 1))
                local id="load-$k-$n"
                expect "$log" ok "$u" AddSecret "$org" slack-webhook "Load $k $n" "{'webhook_url': '$(value $((k * 100000 + n)))'}" \
                        "{'id': <'$id'>}"
                expect "$log" ok "$u" UpdateSecret "$org" "$id" "{'webhook_url': '$(value $((k * 100000 + n + 50000)))'}"
                expect "$log" ok "$u" RenameSecret "$org" "$id" "Load $k $n renamed"
                expect "$log" ok "$u" GetSecret "$org" "$id"
                expect "$log" ok "$u" DeleteSecret "$org" "$id" false
        done
}
member_client() {
        local k=$1 log=$LOGS/$1
        while ((SECONDS < end)); do
                expect "$log" ok ovt-alice ListSecrets acme '@a{sv} {}'
                expect "$log" ok ovt-alice ListSecrets acme "{'search': <'STABLE'>}"
                expect "$log" ok ovt-alice ListSecrets acme "{'type': <'slack-webhook'>, 'limit': <uint32 2>, 'offset': <uint32 1>}"
                expect "$log" ok ovt-alice GetSecret acme stable-$((RANDOM % 3 + 1))
                expect "$log" ok ovt-alice ListOrgs
        done
}
# A member trying what only admins may do.
member_overreach_client() {
        local k=$1 log=$LOGS/$1
        while ((SECONDS < end)); do
                expect "$log" "$DENIED" ovt-alice AddSecret acme slack-webhook "Not Mine" "{'webhook_url': '$(value 7)'}" '@a{sv} {}'
                expect "$log" "$DENIED" ovt-alice UpdateSecret acme stable-1 "{'webhook_url': '$(value 8)'}"
                expect "$log" "$DENIED" ovt-alice DeleteSecret acme stable-2 true
                expect "$log" "$DENIED" ovt-alice RotateKeys acme
                expect_resolve "$log" "$DENIED" ovt-alice stable-1
        done
}
consumer_client() {
        local k=$1 log=$LOGS/$1
        while ((SECONDS < end)); do
                expect_resolve "$log" ok ovt-alertd stable-$((RANDOM % 3 + 1))
                expect_resolve "$log" "$DENIED" ovt-alertd stable-ai
        done
}
surveys_client() {
        local k=$1 log=$LOGS/$1
        while ((SECONDS < end)); do
                expect_resolve "$log" ok ovt-surveyd stable-ai
                expect_resolve "$log" "$DENIED" ovt-surveyd stable-1
        done
}
reference_client() {
        local k=$1 log=$LOGS/$1 n=0
        while ((SECONDS < end)); do
                n=$((n + 1))
                expect "$log" ok ovt-alertd AddReference acme stable-3 alerts "sink:load-$n"
                expect "$log" ok ovt-alertd RemoveReference acme stable-3 alerts "sink:load-$n"
        done
}
outsider_client() {
        local k=$1 log=$LOGS/$1
        while ((SECONDS < end)); do
                expect "$log" "$DENIED" ovt-eve ListSecrets acme '@a{sv} {}'
                expect "$log" "$DENIED" ovt-eve GetSecret acme stable-1
                expect "$log" "$DENIED" ovt-eve AddSecret acme slack-webhook "Intruder" "{'webhook_url': '$(value 6)'}" '@a{sv} {}'
                expect "$log" "$DENIED" ovt-carol GetSecret acme stable-1
                expect "$log" "$DENIED" ovt-eve ListSecrets no-such-org '@a{sv} {}'
                expect_resolve "$log" "$DENIED" ovt-eve stable-1
                expect "$log" ok ovt-eve ListOrgs
        done
}
anyone_client() {
        local k=$1 log=$LOGS/$1
        while ((SECONDS < end)); do
                expect "$log" ok ovt-eve Status
                expect "$log" ok ovt-eve ListTypes "''"
                expect "$log" ok ovt-eve ListTypes alerts
                expect "$log" ok ovt-eve DescribeType twilio-api-key
                expect "$log" ok root Status
        done
}

clients=(
        "admin_client 1 ovt-bob acme" "admin_client 2 ovt-bob acme" "admin_client 3 ovt-bob acme"
        "admin_client 4 ovt-carol globex" "admin_client 5 ovt-carol globex"
        "member_client 6" "member_client 7" "member_overreach_client 8"
        "consumer_client 9" "consumer_client 10" "surveys_client 11" "reference_client 12"
        "outsider_client 13" "outsider_client 14"
        "anyone_client 15" "anyone_client 16"
)
load_start=$SECONDS
for c in "${clients[@]}"; do
        $c &
done

# RSS after warm-up and at the end. Warm: every client answered at least
# once (a condition), and a quarter of the run gone (the sampling point of a
# measurement, not a wait for anything).
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null; }
all_answered() { local k; for k in $(seq 16); do [[ -s $LOGS/$k ]] || return 1; done; }
quarter_gone() { (( SECONDS >= load_start + LOAD_SECONDS / 4 )); }
warm() { all_answered && quarter_gone; }
ov_wait_for "$LOAD_SECONDS" warm
rss_mid=$(rss)
wait
rss_end=$(rss)
echo "# daemon VmRSS: ${rss_mid:-?} kB at 25%, ${rss_end:-?} kB at the end"

total=0
for k in $(seq 16); do
        log=$LOGS/$k
        calls=$(grep -c . "$log" 2>/dev/null)
        total=$((total + ${calls:-0}))
        echo "# client $k (${clients[k - 1]%% *}): $(sort "$log" 2>/dev/null | uniq -c | awk '{ printf "%s %s=%s; ", $2, $3 $4 $5, $1 }')"
        check "client $k made calls" test "${calls:-0}" -gt 0
        assert_eq "client $k: no error beyond the expected denials" "$(grep -c '^UNEXPECTED' "$log" 2>/dev/null)" 0
done
echo "# $total calls in ${LOAD_SECONDS} s"
check "outsiders were denied" grep -q "$DENIED" "$LOGS/13"

check "RSS sampled" test -n "$rss_mid" -a -n "$rss_end"
check "RSS flat: end ${rss_end} kB <= 1.5 x ${rss_mid} kB + 2 MiB" \
        test "$((rss_end * 2))" -le "$((rss_mid * 3 + 4096))"
assert_eq "the same daemon still runs" "$(ov_daemon_pid)" "$pid"
assert_eq "and still answers" "$(ov_error_of ovt-alice GetSecret acme stable-1)" ""

ids() { ovbus_json "$1" ListSecrets sa{sv} "$2" 0 | python3 -c 'import json,sys
print(" ".join(sorted(r[0] for r in json.load(sys.stdin)["data"][0])))'; }
assert_eq "acme holds exactly the fixtures (every admin deleted what it added)" "$(ids ovt-alice acme)" \
        "stable-1 stable-2 stable-3 stable-ai"
assert_eq "globex holds exactly its fixture" "$(ids ovt-carol globex)" "g-stable"
assert_eq "stable-3 has no reference left" \
        "$(ovbus_json ovt-alice GetSecret ss acme stable-3 | python3 -c 'import json,sys
print(len(json.load(sys.stdin)["data"][0]["References"]["data"]))')" 0

audit=$OV_DIR/audit.jsonl
check "audit log written" test -s "$audit"
assert_eq "every audit line is a JSON object" "$(python3 -c 'import json,sys
bad = 0
for line in open(sys.argv[1]):
    try:
        bad += not isinstance(json.loads(line), dict)
    except ValueError:
        bad += 1
print(bad)' "$audit")" 0
# Audited: every mutation, reference change, resolve and denied call (docs/API.md).
audited=$(cat "$LOGS"/? "$LOGS"/?? | grep -cE '^(AddSecret|UpdateSecret|RenameSecret|DeleteSecret|AddReference|RemoveReference|Resolve) |AccessDenied')
check "the audit log has a line for each of the $audited audited calls" test "$(wc -l <"$audit")" -ge "$audited"
assert_eq "no value in the audit log" "$(grep -c 'BFAKE0000\|FAKEload' "$audit")" 0
ov_check_daemon_stderr

ov_finish
