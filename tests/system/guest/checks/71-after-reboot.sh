# SPDX-License-Identifier: Apache-2.0
# After the reboot: every secret and master.key as before; the consumer that
# started at boot got its credential from a cold, socket-activated orgvaultd.
. "$SYSTEST_LIB"

assert_eq "this is a new boot" "$(cat "$SYSTEST_STATE/boots")" 2
state_hashes() { (cd /var/lib/orgvault && find . -type f ! -name '*.lock' | sort | xargs -r sha256sum); }
before=$(grep -E 'master.key|secrets/' "$SYSTEST_STATE/state-before-reboot")
after=$(state_hashes | grep -E 'master.key|secrets/')
check "there were records to compare" test -n "$before"
assert_eq "a reboot keeps every secret record and master.key" "$after" "$before"
wait_until 120 test -s $OUTDIR/alertd-boot.out
assert_eq "the boot consumer was served cold through socket activation" \
        "$(cut -d' ' -f1 $OUTDIR/alertd-boot.out 2>/dev/null)" "$(value_sha)"
started=$(journalctl -b -u orgvaultd.service -o cat | grep -c '^Started ')
check "orgvaultd was started by systemd this boot" test "$started" -ge 1
out=$(as bob timeout 60 orgvaultctl list --no-legend)
assert_contains "the secret is listed after the reboot" "$out" "Ops Slack"
systemctl disable alertd-boot.service >/dev/null 2>&1
