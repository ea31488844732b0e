# SPDX-License-Identifier: Apache-2.0
# Before a reboot: remember every secret record and master.key (hashes), and
# install a consumer that starts at boot, so socket activation serves it cold.
. "$SYSTEST_LIB"

state_hashes() { (cd /var/lib/orgvault && find . -type f ! -name '*.lock' | sort | xargs -r sha256sum); }
state_hashes >"$SYSTEST_STATE/state-before-reboot"
check "master.key exists before the reboot" test -s /var/lib/orgvault/master.key
# (Sections may repeat: the extra lines add [Unit] and [Install] entries.)
consumer_unit alertd-boot acme.ops-slack.webhook_url \
        "$(printf '[Unit]\nAfter=orgvault-credential.socket\n[Install]\nWantedBy=multi-user.target\n[Service]')"
systemctl daemon-reload
check "the boot consumer is enabled" systemctl enable alertd-boot.service
reboot_after_this
