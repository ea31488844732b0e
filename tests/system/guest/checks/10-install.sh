# SPDX-License-Identifier: Apache-2.0
# The README's "Installing for real" lines after the build (which the host ran
# in the guest's root): systemd-sysusers, tmpfiles, daemon-reload, reload dbus,
# enable --now the socket, then its users and groups. Each line must succeed.
. "$SYSTEST_LIB"

while IFS= read -r line; do
        [[ -z ${line// } ]] && continue
        check "README step: ${line%%#*}" timeout 120 bash -ec "$line"
done </usr/local/lib/orgvault-systest/readme-steps.sh

check "the orgvault system user exists" id orgvault
check "the state dir is orgvault's, 0700" test "$(stat -c '%U %a' /var/lib/orgvault)" = "orgvault 700"
check "the credential socket listens" test -S "$SOCK"
assert_eq "the socket unit is active" "$(systemctl is-active orgvault-credential.socket)" active
assert_eq "the socket is enabled (starts at boot)" "$(systemctl is-enabled orgvault-credential.socket)" enabled
check "alice is in acme-admins (README users)" bash -c 'id -nG alice | grep -qw acme-admins'
# Not in the README: someone with no role.
useradd --create-home eve

# The README's example policy, with the consumers this test runs.
cat >/etc/orgvault/orgs.d/acme.json <<'JSON'
{ "org": "acme",
  "members": { "users": ["bob"] }, "admins": { "groups": ["acme-admins"] },
  "consumers": [ { "name": "alerts", "users": ["alertd"],
                   "units": ["alertd.service", "alertd-dyn.service", "alertd-json.service",
                             "alertd-boot.service", "alertd-cred.service"],
                   "features": ["alerts"] } ] }
JSON
chmod 0644 /etc/orgvault/orgs.d/acme.json
