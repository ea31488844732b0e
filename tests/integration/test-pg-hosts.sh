#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# One org vault across many hosts (issue 16): a real PostgreSQL 15 started
# here in a scratch dir (Unix socket only, run by a system user), and two
# orgvaultd "hosts", each on its own private bus with its own state dir,
# sharing it. An add on A is listed, resolvable and signalled on B;
# concurrent updates of one secret from both lose nothing and overwrite
# nothing silently; a rotation on A while B resolves; kill -9 of a daemon and
# an immediate PostgreSQL stop during streams of writes lose no acknowledged
# write; with the database down reads and Resolve are served, writes answer
# StorageFailure and Status says degraded, and everything recovers; a host
# with another master key refuses to serve; the password comes from the
# credential, never argv.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[[ $OV_STORE == postgresql ]] && { echo "skip - test-pg-hosts runs its own server in every stage (counted once)"; echo "0 passed, 0 failed"; exit 0; }

OV_STORE=postgresql
OV_PG_SOCK=             # its own server: it stops and restarts it
OV_IDLE=0               # hosts stay up (a host that idles out just loads fresh)
RESOLVE=$BUILD_DIR/tests/integration/resolve-client
WATCH=$BUILD_DIR/tests/integration/watch-client
E=io.orgvault.Vault1.Error
NOOPTS='@a{sv} {}'
P=/io/orgvault/Vault1/secret

ov_setup
PGDB=$OV_PG_DB

# wait_for DESC SECONDS CMD...: CMD succeeds within the deadline (polled).
wait_for() {
        local d=$1 t=$2; shift 2
        local end=$((SECONDS + t))
        while ((SECONDS < end)); do
                "$@" >/dev/null 2>&1 && { ok "$d"; return 0; }
                sleep 0.05
        done
        fail "$d (not within ${t}s)"
        return 1
}
listed() { ovbus ovt-alice ListSecrets sa{sv} acme 0 | grep -q "\"$1\""; }
resolves_to() { [[ $(as ovt-alertd timeout 20 "$RESOLVE" "$OV_BUS" acme "$1" 2>/dev/null) == *"$2"* ]]; }
version_of() { ovbus_json ovt-alice GetSecret ss acme "$1" | ov_py 'print(d["data"][0]["Version"]["data"])'; }
status_store() { ovbus_json ovt-alice Status | ov_py 'print(d["data"][0]["Store"]["data"])'; }
# update HOST ID URL: "" on success, else the error name.
update() {
        ov_use "$1"
        local out
        if out=$(ovgdbus ovt-bob UpdateSecret acme "$2" "{'webhook_url': '$3'}" 2>&1); then echo ""; return; fi
        out=${out#*GDBus.Error:}; echo "${out%%:*}"
}

# --- Two hosts, the same master key (host b gets a's master.key, as
# LoadCredentialEncrypted= would give every host the same one) ---
ov_use a
assert_eq "host a serves on the postgresql store" "$(ovbus_json ovt-alice Status | ov_py 'print(d["data"][0]["StoreKind"]["data"])')" postgresql
ov_add_host b
ov_use b
assert_eq "host b serves too, Store ok" "$(status_store)" ok
assert_eq "the schema is versioned (every step recorded)" "$(ov_psql "$PGDB" "SELECT string_agg(version::text, ' ' ORDER BY version) FROM orgvault_schema_version")" "1 2 3"

# A picker on host b.
(exec "$WATCH" "$OV_BUS" >"$OV_DIR/watch.out" 2>&1) &
WATCH_PID=$!
wait_for "the picker on b is subscribed" 10 grep -q '^ready' "$OV_DIR/watch.out"

ov_use a
id=$(ov_add_slack ovt-bob acme "Ops Slack")
assert_eq "add on a" "$id" ops-slack
ov_use b
wait_for "a's add is listed on b" 10 listed ops-slack
check "a's add resolves on b" resolves_to ops-slack "$OV_FAKE_SLACK"
wait_for "b's picker got InterfacesAdded for it" 10 grep -q "InterfacesAdded $P/acme/ops_2dslack" "$OV_DIR/watch.out"

rec=$(ov_psql "$PGDB" "SELECT record::text FROM orgvault_records WHERE org = 'acme' AND id = 'ops-slack'")
assert_contains "the row holds the JSON record (FORMAT.md)" "$rec" '"ciphertext":'
assert_not_contains "the row holds no plaintext" "$rec" "hooks.slack.com"

# Rename on b, seen on a (and its picker signal there is the same code path).
ov_use b
check "rename on b" ovbus ovt-bob RenameSecret sss acme ops-slack "Ops Slack Renamed"
ov_use a
wait_for "b's rename is seen on a" 10 bash -c "busctl --address='$OV_BUS' --json=short call io.orgvault.Vault1 /io/orgvault/Vault1 io.orgvault.Vault1.Manager GetSecret ss acme ops-slack | grep -q 'Ops Slack Renamed'"
ov_use b
wait_for "b's picker got PropertiesChanged" 10 grep -q "PropertiesChanged" "$OV_DIR/watch.out"

# --- Concurrent updates of one secret from both hosts ---
ov_use a
v0=$(version_of ops-slack)
for h in a b; do
        (ok_n=0; conflicts=0; others=0
         for i in $(seq 15); do
                 e=$(update "$h" ops-slack "https://hooks.slack.com/services/TFAKE0000/BFAKE0000/$h$(printf %023d "$i")" 2>/dev/null)
                 case $e in "") ok_n=$((ok_n + 1)) ;; "$E.Conflict") conflicts=$((conflicts + 1)) ;; *) others=$((others + 1)); echo "$e" >>"$OV_DIR/other-errors";; esac
         done
         echo "$ok_n $conflicts $others" >"$OV_DIR/conc-$h") &
done
wait $(jobs -p | grep -v "^$WATCH_PID$") 2>/dev/null
read -r ok_a conf_a oth_a <"$OV_DIR/conc-a"
read -r ok_b conf_b oth_b <"$OV_DIR/conc-b"
echo "# concurrent updates: a ok=$ok_a conflict=$conf_a other=$oth_a; b ok=$ok_b conflict=$conf_b other=$oth_b"
assert_eq "no error but Conflict in concurrent updates" "$((oth_a + oth_b))" 0
[[ -f $OV_DIR/other-errors ]] && sed 's/^/# /' "$OV_DIR/other-errors"
expect=$((v0 + ok_a + ok_b))
ov_use a
assert_eq "the row's version counts every acknowledged update (none overwritten)" \
        "$(ov_psql "$PGDB" "SELECT record::json->>'version' FROM orgvault_records WHERE org = 'acme' AND id = 'ops-slack'")" "$expect"
wait_for "host a shows that version" 10 bash -c "[[ \$(busctl --address='$OV_BUS' --json=short call io.orgvault.Vault1 /io/orgvault/Vault1 io.orgvault.Vault1.Manager GetSecret ss acme ops-slack | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"data\"][0][\"Version\"][\"data\"])') == $expect ]]"
ov_use b
wait_for "host b shows that version" 10 bash -c "[[ \$(busctl --address='$OV_BUS' --json=short call io.orgvault.Vault1 /io/orgvault/Vault1 io.orgvault.Vault1.Manager GetSecret ss acme ops-slack | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"data\"][0][\"Version\"][\"data\"])') == $expect ]]"
a_val=$(ov_use a; as ovt-alertd "$RESOLVE" "$OV_BUS" acme ops-slack 2>&1)
b_val=$(ov_use b; as ovt-alertd "$RESOLVE" "$OV_BUS" acme ops-slack 2>&1)
assert_eq "both hosts resolve the same last value" "$a_val" "$b_val"
check "after a Conflict a retry succeeds" test -z "$(update b ops-slack "$OV_FAKE_SLACK")"

# --- Rotation on a while b resolves ---
ov_use b
(fails=0; n=0; end=$((SECONDS + 30))
 while [[ ! -f $OV_DIR/rot-done ]] && ((SECONDS < end)); do
         n=$((n + 1))
         v=$(as ovt-alertd "$RESOLVE" "$OV_BUS" acme ops-slack 2>&1) || fails=$((fails + 1))
         [[ $v == *"$OV_FAKE_SLACK"* ]] || fails=$((fails + 1))
 done
 echo "$n $fails" >"$OV_DIR/rot-resolves") &
RES_PID=$!
ov_use a
rot_ok=0
for i in 1 2 3; do ovbus ovt-bob RotateKeys s acme >/dev/null 2>&1 && rot_ok=$((rot_ok + 1)); done
ov_use b
touch "$OV_DIR/rot-done"
wait "$RES_PID"
read -r n_res res_fails <"$OV_DIR/rot-resolves"
assert_eq "three rotations on a" "$rot_ok" 3
check "b resolved during the rotations ($n_res calls)" test "$n_res" -gt 0
assert_eq "every Resolve on b during the rotations gave the value" "$res_fails" 0
assert_eq "one key left after the rotations" \
        "$(ov_psql "$PGDB" "SELECT json_array_length(keys->'keys') FROM orgvault_orgs WHERE org = 'acme'")" 1
wait_for "b resolves after the rotations" 10 resolves_to ops-slack "$OV_FAKE_SLACK"
wait_for "b adds under the new key" 10 ovbus ovt-bob AddSecret sssa{ss}a{sv} acme slack-webhook "After Rotation" 1 webhook_url "$OV_FAKE_SLACK2" 0
ov_use a
wait_for "a resolves b's add after the rotations" 10 resolves_to after-rotation "$OV_FAKE_SLACK2"

# --- Database down: reads served, writes StorageFailure, recovery ---
ov_pg_stop fast
for h in a b; do
        ov_use "$h"
        check "db down: $h lists" listed ops-slack
        check "db down: $h resolves" resolves_to ops-slack "$OV_FAKE_SLACK"
        e=$(ov_error_of ovt-bob AddSecret acme slack-webhook "Down $h" "{'webhook_url': '$OV_FAKE_SLACK'}" "$NOOPTS")
        assert_eq "db down: an add on $h is StorageFailure" "$e" "$E.StorageFailure"
        assert_eq "db down: $h's Status says Store degraded" "$(status_store)" degraded
        check "db down: orgvaultctl status says 'Store: degraded'" bash -c "'$ORGVAULTCTL' status | grep -Eq 'Store: degraded'"
done
ov_pg_restart
ov_use a
wait_for "db back: an add on a succeeds" 20 ovbus ovt-bob AddSecret sssa{ss}a{sv} acme slack-webhook "After Outage" 1 webhook_url "$OV_FAKE_SLACK" 0
ov_use b
wait_for "db back: b lists a's add made right after the outage" 20 listed after-outage
wait_for "db back: b's Status says ok" 20 bash -c "busctl --address='$OV_BUS' --json=short call io.orgvault.Vault1 /io/orgvault/Vault1 io.orgvault.Vault1.Manager Status | grep -q '\"ok\"'"
assert_eq "nothing from the outage was written" "$(ov_psql "$PGDB" "SELECT count(*) FROM orgvault_records WHERE name LIKE 'Down %'")" 0

# --- kill -9 of a daemon and an immediate PostgreSQL stop during streams of
# writes: every acknowledged add is there afterwards ---
# stream HOST N: adds with ids s-HOST-I; each acknowledged id a line in
# acked-HOST (under host a's dir).
stream() {
        ov_use "$1"
        local i
        for i in $(seq "$2"); do
                busctl --address="$OV_BUS" call io.orgvault.Vault1 /io/orgvault/Vault1 io.orgvault.Vault1.Manager \
                        AddSecret sssa{ss}a{sv} acme slack-webhook "Stream $1 $i" 1 webhook_url "$OV_FAKE_SLACK" \
                        1 id s "s-$1-$i" >/dev/null 2>&1 && echo "s-$1-$i" >>"${OV_HOST_DIR[a]}/acked-$1"
        done
}
: >"${OV_HOST_DIR[a]}/acked-a"; : >"${OV_HOST_DIR[a]}/acked-b"
(stream a 60) & SA=$!
(stream b 60) & SB=$!
wait_for "writes are flowing" 20 bash -c "[[ \$(cat '${OV_HOST_DIR[a]}'/acked-* | wc -l) -ge 10 ]]"
ov_use b; kill -9 "$(ov_daemon_pid)"
wait_for "more writes after the kill (b re-activated)" 20 bash -c "[[ \$(cat '${OV_HOST_DIR[a]}'/acked-* | wc -l) -ge 30 ]]"
ov_pg_stop immediate
ov_pg_restart
wait "$SA" "$SB"
ov_use a; kill -9 "$(ov_daemon_pid)" 2>/dev/null
acked=$(cat "${OV_HOST_DIR[a]}"/acked-* | sort -u)
n_acked=$(grep -c . <<<"$acked")
echo "# $n_acked acknowledged adds across a kill -9 and an immediate PostgreSQL stop"
check "adds were acknowledged" test "$n_acked" -gt 30
in_db=$(ov_psql "$PGDB" "SELECT id FROM orgvault_records WHERE org = 'acme' ORDER BY id")
lost=$(comm -23 <(echo "$acked") <(echo "$in_db" | sort -u) | wc -l)
assert_eq "0 acknowledged writes lost (in the database)" "$lost" 0
# missing_on: the acknowledged ids this host does not list. Host a was
# restarted (it loads them); host b ran through the outage and catches up
# when it listens again (its reconnect timer), so it is waited for.
missing_on() {
        local l x
        l=$(ovbus_json ovt-alice ListSecrets sa{sv} acme 0) || { echo "(ListSecrets failed)"; return; }
        while read -r x; do [[ $l == *"\"$x\""* ]] || echo "$x"; done <<<"$acked"
}
none_missing() { [[ -z $(missing_on) ]]; }
ov_use a
m=$(missing_on)
assert_eq "0 acknowledged writes missing on a after its restart" "$(grep -c . <<<"$m")" 0
ov_use b
if ! wait_for "0 acknowledged writes missing on b once it listens again" 20 none_missing; then
        echo "# missing on b:"; missing_on | sed "s/^/#   /"; tail -n 30 "$OV_DIR/daemon.stderr" | sed "s/^/# /"
fi
last=$(tail -n 1 "${OV_HOST_DIR[a]}/acked-a")
check "a stream's last acknowledged add resolves" resolves_to "$last" "$OV_FAKE_SLACK"
assert_eq "no row is unusable" "$(ov_psql "$PGDB" "SELECT count(*) FROM orgvault_records WHERE record::json->>'id' <> id")" 0

kill "$WATCH_PID" 2>/dev/null; wait "$WATCH_PID" 2>/dev/null

# --- A host with another master key refuses to serve, writing nothing ---
before=$(ov_psql "$PGDB" "SELECT md5(string_agg(org || id || rev || record::text, ',' ORDER BY org, id)) || (SELECT md5(string_agg(keys::text, ',')) FROM orgvault_orgs) FROM orgvault_records")
OV_NEW_MASTER_KEY=1 ov_add_host c
ov_use c
assert_eq "host c (another master key) starts sealed" \
        "$(ovbus_json ovt-alice Status | ov_py 'print(d["data"][0]["Sealed"]["data"])')" True
e=$(ov_error_full ovt-alertd Resolve acme ops-slack)
assert_contains "a Resolve on c is refused: Sealed" "$e" "$E.Sealed"
assert_contains "with the reason" "$e" "master key is not the one the postgresql store was first used with"
e=$(ov_error_of ovt-bob AddSecret acme slack-webhook "From C" "{'webhook_url': '$OV_FAKE_SLACK'}" "$NOOPTS")
assert_eq "an add on c is refused: Sealed" "$e" "$E.Sealed"
check "its log says why" grep -q "master key is not the one the postgresql store was first used with" "$OV_DIR/daemon.stderr"
assert_eq "host c wrote nothing to the database" \
        "$(ov_psql "$PGDB" "SELECT md5(string_agg(org || id || rev || record::text, ',' ORDER BY org, id)) || (SELECT md5(string_agg(keys::text, ',')) FROM orgvault_orgs) FROM orgvault_records")" "$before"
ov_stop_daemon

# --- The password: from the credential orgvault.pg-password, never argv ---
ov_psql "$PGDB" "CREATE ROLE ovt_host LOGIN PASSWORD 'FAKE-pg-password-0000'; GRANT ALL ON ALL TABLES IN SCHEMA public TO ovt_host; GRANT ALL ON SCHEMA public TO ovt_host"
sed -i '1i local all ovt_host scram-sha-256' "$OV_PG_DIR/data/pg_hba.conf"
ov_psql "$PGDB" "SELECT pg_reload_conf()" >/dev/null
# Host d as CRYPTO.md's fleet recipe runs one: the master key and the
# database password both from credentials (what LoadCredentialEncrypted=
# hands over), nothing in its state dir.
ov_add_host d
mkdir -p "$OV_DIR/creds"
mv "$OV_DIR/state/master.key" "$OV_DIR/creds/orgvault.master-key"
printf 'FAKE-pg-password-0000\n' >"$OV_DIR/creds/orgvault.pg-password"
chmod 0400 "$OV_DIR/creds/orgvault.pg-password"
OV_EXTRA_ARGS=--key-mode=credential OV_STORE_ARG=--store=$(ov_pg_uri "$PGDB" ovt_host) \
        OV_EXEC_PREFIX="/usr/bin/env CREDENTIALS_DIRECTORY=$OV_DIR/creds" ov_write_service_file
check "host d (credential mode, the fleet key) connects with the credential's password" listed ops-slack
check "host d resolves" resolves_to ops-slack "$OV_FAKE_SLACK"
check "the password is not on d's command line" bash -c "! tr '\\0' ' ' </proc/$(ov_daemon_pid)/cmdline | grep -q FAKE-pg-password"
rm "$OV_DIR/creds/orgvault.pg-password"
ov_stop_daemon
e=$(ov_error_of ovt-alice Status)
check "without the credential d cannot connect: ${e:-served}" test -n "$e"
bad_uri="postgresql://ovt_host:FAKE-pg-password-0000@/$PGDB?host=$OV_PG_SOCK"
out=$("$ORGVAULTD" --bus-address=unix:path=/nonexistent --state-dir="$OV_DIR/state2" --data-dir="$SOURCE_ROOT/policy" \
        --config-dir="$OV_DIR/config" --store="$bad_uri" --keyring-timeout=0 2>&1)
assert_contains "a password in the URI is refused" "$out" "must not hold a password"
assert_not_contains "and not echoed" "$out" FAKE-pg-password

ov_use a
ov_finish
