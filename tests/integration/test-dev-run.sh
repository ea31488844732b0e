#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The README's first command: tools/dev-run prints one line to paste, after
# which orgvaultctl is on PATH, its man page on MANPATH, and the demo org
# answers. (#11: a first-time user found neither.)
source "$(dirname "$0")/lib.sh"

scratch=$(mktemp -d /tmp/ovdevrun.XXXXXX)
out=$scratch.out
( cd "$SOURCE_ROOT" && SUDO_USER= ORGVAULT_SCRATCH=$scratch ORGVAULT_BUILD=$(realpath --relative-to="$SOURCE_ROOT" "$OV_BUILD_DIR") \
        exec setsid tools/dev-run >"$out" 2>&1 ) &
pid=$!
line=
for _ in $(seq 600); do
        line=$(grep -m1 '^ *export ORGVAULT_BUS_ADDRESS=' "$out" 2>/dev/null) && break
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
done
check "dev-run prints the line to paste" test -n "$line"
(
        eval "$line"
        assert_eq "orgvaultctl is on PATH" "$(command -v orgvaultctl)" "$OV_BUILD_DIR/src/orgvaultctl"
        check "man orgvaultctl finds the page" eval "man -w orgvaultctl >/dev/null"
        out=$(orgvaultctl --org=demo list 2>&1)
        assert_contains "orgvaultctl reaches the demo org" "$out" "0 secrets listed."
        echo "$OV_PASSED $OV_FAILED" >"$scratch.counts"
)
read -r p f <"$scratch.counts"
OV_PASSED=$((OV_PASSED + p)); OV_FAILED=$((OV_FAILED + f))
kill -TERM -- -"$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
wait "$pid" 2>/dev/null
rm -rf "$scratch" "$scratch.out" "$scratch.counts"
echo "$OV_PASSED passed, $OV_FAILED failed"
[[ $OV_FAILED -eq 0 ]]
