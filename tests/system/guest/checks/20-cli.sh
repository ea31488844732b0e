# SPDX-License-Identifier: Apache-2.0
# orgvaultctl as a real admin and member on the system bus, with orgvaultd
# activated by systemd (D-Bus SystemdService=), idle exit, re-activation.
. "$SYSTEST_LIB"

assert_eq "orgvaultd is not running before the first call" "$(main_pid)" 0
# A fresh fake value for this run (never printed; only its hash is compared).
tail=$(tr -dc 'a-z0-9' </dev/urandom | head -c 24)
(umask 077; printf 'https://hooks.slack.com/services/TFAKE0000/BFAKE0000/%s' "$tail" >"$VALUE_FILE")
fields=$(mktemp); chmod 0600 "$fields"
printf '{"webhook_url": "%s"}' "$(value)" >"$fields"

out=$(as alice timeout 60 orgvaultctl add slack-webhook --name="Ops Slack" --fields-json - <"$fields" 2>&1)
assert_eq "admin alice adds a secret (its id)" "$(tail -n 1 <<<"$out")" ops-slack
pid1=$(main_pid)
check "orgvaultd was activated by systemd (MainPID $pid1)" test "$pid1" -gt 0
assert_eq "orgvaultd.service is active" "$(systemctl is-active orgvaultd.service)" active
assert_eq "it runs as orgvault" "$(stat -c %U "/proc/$pid1")" orgvault
out=$(as alice timeout 60 orgvaultctl list --no-legend)
assert_contains "admin lists it" "$out" "Ops Slack"
out=$(as bob timeout 60 orgvaultctl list --no-legend)
assert_contains "member bob lists it" "$out" "Ops Slack"
out=$(as bob timeout 60 orgvaultctl show ops-slack 2>&1)
assert_contains "member bob shows it" "$out" "slack-webhook"
assert_not_contains "show never prints the value" "$out" "$(value_tail)"
as bob timeout 60 orgvaultctl add slack-webhook --name="Bob's" --fields-json - <"$fields" >/dev/null 2>&1
assert_eq "member bob's add is refused (exit 4)" "$?" 4
as eve timeout 60 orgvaultctl --org=acme list >/dev/null 2>&1
assert_eq "eve (no role) is told acme is no org of hers (exit 5)" "$?" 5
out=$(as eve timeout 60 busctl call io.orgvault.Vault1 /io/orgvault/Vault1 io.orgvault.Vault1.Manager \
        ListSecrets 'sa{sv}' acme 0 2>&1)
assert_contains "eve's ListSecrets on the bus is refused" "$out" "ccess denied"
rm -f "$fields"

check "orgvaultd exits when idle" wait_idle_exit
out=$(as bob timeout 60 orgvaultctl list --no-legend)
assert_contains "a call re-activates it" "$out" "Ops Slack"
pid2=$(main_pid)
check "a new process ($pid1 then $pid2)" test "$pid2" -gt 0 -a "$pid2" != "$pid1"
