# SPDX-License-Identifier: Apache-2.0
# Sourced by every check script in the VM: assertions that append to the
# results file, bounded waits, and the test's fixed names.
set -u
RESULTS=$SYSTEST_STATE/results
ok() { echo "ok - $*" >>"$RESULTS"; }
fail() { echo "not ok - $*" >>"$RESULTS"; }
check() { local d=$1; shift; if "$@"; then ok "$d"; else fail "$d"; fi; }
assert_eq() { if [[ "$2" == "$3" ]]; then ok "$1"; else fail "$1: expected [$3], got [$2]"; fi; }
assert_contains() { if [[ "$2" == *"$3"* ]]; then ok "$1"; else fail "$1: [${2:0:300}] lacks [$3]"; fi; }
assert_not_contains() { if [[ "$2" != *"$3"* ]]; then ok "$1"; else fail "$1: contains [$3]"; fi; }
# The next check script runs after a real reboot.
reboot_after_this() { touch "$SYSTEST_STATE/reboot"; }

# wait_until SECONDS CMD...: CMD succeeds before the deadline.
wait_until() {
        local end=$((SECONDS + $1)); shift
        until "$@"; do ((SECONDS >= end)) && return 1; sleep 0.2; done
}

# as USER CMD...: CMD as USER (a login-less runuser, no shell in between).
as() { local u=$1; shift; runuser -u "$u" -- "$@"; }

MID_ADD=23c17e834c124c928d4bd91cbf25c853
MID_DENIED=3ea6198b2add4290957ca6732abbf0ad
MID_RESOLVE=19b51aa4d031488d8d42c9d6c2be9651
MID_CREDENTIAL=b330af8fa37244b8a3b1caa27932339d
SOCK=/run/orgvault/credential.sock

main_pid() { systemctl show -p MainPID --value orgvaultd.service; }
daemon_gone() { [[ $(main_pid) == 0 ]]; }
# The daemon's idle timeout is 30 s: generous for a slow TCG guest.
wait_idle_exit() { wait_until 120 daemon_gone; }

# The test secret's value lives only in this root-only file (made by the
# CLI check): a fresh fake webhook URL each run, so a grep for it means something.
VALUE_FILE=$SYSTEST_STATE/value
value() { cat "$VALUE_FILE"; }
value_tail() { local v; v=$(value); echo "${v##*/}"; }
value_sha() { printf '%s' "$(value)" | sha256sum | cut -d' ' -f1; }

# Where consumer units write what they saw: persistent, so a unit that runs
# at boot (before anything could create a directory in /run) can write too.
OUTDIR=$SYSTEST_STATE/out
mkdir -p "$OUTDIR"

# consumer_unit NAME CREDENTIAL [EXTRA-LINE]: a oneshot unit that loads one
# credential from orgvault's socket and writes only its hash (never the value)
# to $OUTDIR/NAME.out.
consumer_unit() {
        local name=$1 cred=$2 extra=${3:-}
        cat >"/etc/systemd/system/$name.service" <<UNIT
[Unit]
Description=orgvault system test consumer $name
[Service]
Type=oneshot
$extra
LoadCredential=$cred:$SOCK
ExecStart=/usr/bin/sha256sum %d/$cred
StandardOutput=truncate:$OUTDIR/$name.out
UNIT
}
# run_consumer NAME: starts it (bounded) and prints the hash it saw.
run_consumer() {
        rm -f "$OUTDIR/$1.out"
        timeout 120 systemctl start "$1.service" || return 1
        cut -d' ' -f1 "$OUTDIR/$1.out"
}
EMPTY_SHA=$(printf '' | sha256sum | cut -d' ' -f1)

# journal_export MATCH...: this boot's journal entries matching, export form.
journal_export() { journalctl -q -b -o export "$@" 2>/dev/null; }
# journal_match NEEDLE MATCH...: an entry of this boot matching has NEEDLE
# (journald stores entries asynchronously: use it under wait_until).
journal_match() { local n=$1; shift; journal_export "$@" | grep -aqF -- "$n"; }
