#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# orgvaultctl's interactive add through a pseudo-terminal (test-ctl-pty.py),
# then checks on the bus that exactly what was typed got saved.
source "$(dirname "$0")/lib.sh"
ov_setup
ov_capture_daemon_stderr
# dbus-daemon picks up the rewritten service file asynchronously (inotify);
# until then it would activate the first one. Reload synchronously.
busctl --address="$OV_BUS" call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig

while IFS= read -r line; do
        case $line in
        "ok - "*) ok "${line#ok - }" ;;
        "not ok - "*) fail "${line#not ok - }" ;;
        "exit 0") ;;
        "exit "*) fail "test-ctl-pty.py ended with status ${line#exit }" ;;
        *) echo "$line" ;;
        esac
done < <(ORGVAULTCTL=$ORGVAULTCTL timeout 120 python3 "$(dirname "$0")/test-ctl-pty.py" ovt-bob; echo "exit $?")

names=$(as ovt-bob "$ORGVAULTCTL" list --json | ov_py 'print(" ".join(sorted(s["id"] for s in d)))')
assert_eq "the interactive adds saved exactly the completed secrets" "$names" "local-llm pty-declined pty-slack pty-yes"
ver=$(as ovt-bob "$ORGVAULTCTL" show pty-slack --json | ov_py 'print(d["version"])')
assert_eq "^C during update left the value unchanged" "$ver" "1"
type=$(as ovt-bob "$ORGVAULTCTL" show "Local LLM" --json | ov_py 'print(d["type"])')
assert_eq "the type picked was stored" "$type" "openai-protocol"
if grep -q 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\|zzzzzzzzzzzzzzzz' "$OV_DIR/audit.jsonl" "$OV_DIR/daemon.stderr" 2>/dev/null; then
        fail "a typed value reached the audit log or the daemon's log"
else
        ok "no typed value in the audit log or the daemon's log"
fi
ov_check_daemon_stderr
ov_finish
