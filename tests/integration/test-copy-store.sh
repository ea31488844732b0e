#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# orgvaultd --copy-store=FROM --to=TO (issue 16): a files store's orgs copied
# into PostgreSQL with the ciphertext intact (no key used), verified, served
# from there by a daemon with the same master key; copied back into a new
# state dir; a tampered row fails --verify; a second copy onto an org the
# target holds is refused and changes nothing.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
[[ $OV_STORE == postgresql ]] && { echo "skip - test-copy-store copies between both stores in every stage (counted once)"; echo "0 passed, 0 failed"; exit 0; }

RESOLVE=$BUILD_DIR/tests/integration/resolve-client
OV_IDLE=0
ov_setup                # host a on the files store
for n in "Ops Slack" "Second Hook" "Third Hook"; do ov_add_slack ovt-bob acme "$n" >/dev/null; done
ov_add_slack ovt-carol globex "Globex Hook" "$OV_FAKE_SLACK2" >/dev/null
check "a delete (to the trash)" ovbus ovt-bob DeleteSecret ssb acme third-hook false
check "a Resolve on the files store" bash -c "[[ \$(setpriv --reuid=ovt-alertd --regid=\$(id -g ovt-alertd) --init-groups -- '$RESOLVE' '$OV_BUS' acme ops-slack) == *'$OV_FAKE_SLACK'* ]]"
ov_stop_daemon
files_hash=$(ov_state_hash)

ov_pg_start "$(mktemp -d /tmp/ovpg.XXXXXX)" || { fail "PostgreSQL starts"; ov_finish; }
OV_PG_OWN=1
ov_pg_createdb copytest
uri=$(ov_pg_uri copytest)
# The schema: a daemon start makes it (as every host does).
out=$("$ORGVAULTD" --copy-store="$OV_DIR/state" --to="$uri" 2>&1)
assert_contains "copy files -> postgresql" "$out" "Copied 2 org(s), 3 record(s), 2 key document(s): target matches the source"
assert_eq "the source is unchanged" "$(ov_state_hash)" "$files_hash"
rec_file=$(python3 -c 'import json,sys; print(json.dumps(json.load(open(sys.argv[1])), sort_keys=True, separators=(",", ":")))' \
        "$OV_DIR/state/orgs/acme/secrets/ops-slack.json")
rec_row=$(ov_psql copytest "SELECT record::text FROM orgvault_records WHERE org = 'acme' AND id = 'ops-slack'")
assert_eq "the row is the record file's JSON (ciphertext intact)" "$rec_row" "$rec_file"
out=$("$ORGVAULTD" --copy-store="$OV_DIR/state" --to="$uri" --verify 2>&1)
assert_contains "--verify agrees" "$out" "Verified 2 org(s), 3 record(s)"

# A daemon with the same master key serves the copy.
OV_STORE_ARG=--store=$uri ov_write_service_file
assert_eq "the daemon on postgresql lists the copied secrets" \
        "$(ovbus_json ovt-alice ListSecrets sa{sv} acme 0 | ov_py 'print(len(d["data"][0]))')" 2
assert_contains "and the copied trash" "$(ovbus ovt-bob ListTrash s acme)" third-hook
check "and resolves a copied value" bash -c "[[ \$(setpriv --reuid=ovt-alertd --regid=\$(id -g ovt-alertd) --init-groups -- '$RESOLVE' '$OV_BUS' acme ops-slack) == *'$OV_FAKE_SLACK'* ]]"
ov_stop_daemon

# A second copy onto orgs the target holds: refused, nothing written.
before=$(ov_psql copytest "SELECT md5(string_agg(record::text, ',' ORDER BY org, id)) FROM orgvault_records")
out=$("$ORGVAULTD" --copy-store="$OV_DIR/state" --to="$uri" 2>&1); rc=$?
check "copying onto an org the target holds fails" test "$rc" -ne 0
assert_contains "and says so" "$out" "the target holds it already"
assert_eq "the target is unchanged" "$(ov_psql copytest "SELECT md5(string_agg(record::text, ',' ORDER BY org, id)) FROM orgvault_records")" "$before"

# Back: postgresql -> a new state dir, verified, served.
out=$("$ORGVAULTD" --copy-store="$uri" --to="$OV_DIR/back" 2>&1)
assert_contains "copy postgresql -> files" "$out" "Copied 2 org(s), 3 record(s), 2 key document(s)"
check "the trash entry came back as the same file" cmp -s "$(ls "$OV_DIR"/state/orgs/acme/trash/third-hook.*.json)" "$(ls "$OV_DIR"/back/orgs/acme/trash/third-hook.*.json)"
check "the copied-back record file is the original's" cmp -s "$OV_DIR/state/orgs/acme/secrets/ops-slack.json" "$OV_DIR/back/orgs/acme/secrets/ops-slack.json"

# A tampered row: --verify says so.
ov_psql copytest "UPDATE orgvault_records SET record = replace(record::text, '\"version\":1', '\"version\":7')::json WHERE org = 'acme' AND id = 'second-hook'"
out=$("$ORGVAULTD" --copy-store="$OV_DIR/state" --to="$uri" --verify 2>&1); rc=$?
check "--verify fails on a tampered row" test "$rc" -ne 0
assert_contains "naming it" "$out" "acme/second-hook"

ov_finish
