# SPDX-License-Identifier: Apache-2.0
# pam_orgvault on a real host, set up as pam_orgvault(8) says (the module
# from the PAM module dir, by its bare name):
#  - cron: a real cron job of the consumer account alertd reads its webhook
#    URL from the session keyring into a file only alertd can read; once cron
#    closes the session the key is gone;
#  - su - alertd and a systemd-run -p PAMName= -p User=alertd unit read it too;
#  - with a pam_keyinit that does not revoke (so nothing but this module
#    removes the key) and a process of the session still holding the
#    keyring, the key is gone after su returns while the keyring lives on;
#  - eve, no consumer, gets nothing: su - opens (optional) without a key, a
#    PAMName= unit with the module required fails, and each refusal is in
#    the journal under the denied MESSAGE_ID with the PAM service.
# Every session runs guest/pam-session, which stays in the session until the
# check says go, so the key is looked at from outside while the session is
# open (it must be there) and again after it closed (it must be gone).
. "$SYSTEST_LIB"
first=$(($(wc -l <"$RESULTS") + 1))

C=acme.ops-slack.webhook_url
P=/run/orgvault-systest-pam      # a 0700 dir per user for what its sessions saw
# What every session runs: a file of the guest dir (one written to /run
# could not be run there: exit 126).
SESSION=$(dirname "$SYSTEST_LIB")/pam-session

# --- helpers ---
ready() { test -e "$P/$1/$2.ready"; }                 # USER NAME: the session script waits
release() { : >"$P/$1/$2.go"; }
serial_of() { cat "$P/$1/$2.serial" 2>/dev/null; }
keyring_of() { cat "$P/$1/$2.keyring" 2>/dev/null; }
# value_ok USER NAME: the session read exactly the test value (the files are compared; nothing printed).
value_ok() { test -s "$P/$1/$2.value" && cmp -s "$P/$1/$2.value" "$VALUE_FILE"; }
no_key() { [[ -e $P/$1/$2.rc && $(cat "$P/$1/$2.rc") != 0 && ! -s $P/$1/$2.value && ! -s $P/$1/$2.serial ]]; }
private_ok() { [[ $(stat -c '%U %a' "$P/$1/$2.value" 2>/dev/null) == "$1 600" ]]; }
# What USER sees of a key by serial from outside the session: describe needs
# only the view permission the key grants its user.
key_alive() { [[ $2 =~ ^[0-9]+$ ]] && as "$1" keyctl describe "$2" >/dev/null 2>&1; }
key_gone() { [[ $2 =~ ^[0-9]+$ ]] && ! as "$1" keyctl describe "$2" >/dev/null 2>&1; }
module_log() { journalctl -q -b -o cat 2>/dev/null | grep -aF "pam_orgvault($1:session)"; }
module_logged() { module_log "$1" | grep -qF -- "$2"; }
# stack_append FILE LINE...: the lines at the end of a PAM service file (restored by restore FILE).
stack_append() { local f=$1; shift; [[ -e $SYSTEST_STATE/pam.$(basename "$f") ]] ||
        cp -p "$f" "$SYSTEST_STATE/pam.$(basename "$f")"; printf '%s\n' "$@" >>"$f"; }
restore() { cp -p "$SYSTEST_STATE/pam.$(basename "$1")" "$1"; }

pam_unix=$(find /usr/lib /lib -path '*/security/pam_unix.so' 2>/dev/null | head -n 1)
pamdir=$(dirname "$(readlink -f "$pam_unix")")
check "pam_orgvault.so is installed in the system's PAM module dir ($pamdir)" test -f "$pamdir/pam_orgvault.so"
check "pam_orgvault(8) is installed" bash -c 'ls /usr/share/man/man8/pam_orgvault.8* >/dev/null 2>&1'

rm -rf "$P"
install -d -m 0755 "$P"
for u in alertd eve; do install -d -m 0700 -o "$u" -g "$(id -gn "$u")" "$P/$u"; done

# --- cron: pam_orgvault(8)'s two lines after Debian's /etc/pam.d/cron ---
stack_append /etc/pam.d/cron "session optional pam_keyinit.so force revoke" \
        "session optional pam_orgvault.so credentials=$C debug"
check "cron is running" timeout 60 systemctl start cron.service
# alertd has no home (a system user): HOME=/ so that cron's chdir works.
printf 'HOME=/\n* * * * * %s cron\n' "$SESSION" | crontab -u alertd -
check "cron started alertd's job (the next minute)" wait_until 240 ready alertd cron
crontab -r -u alertd
check "cron job: keyctl pipe %user:orgvault:$C wrote exactly the test value" value_ok alertd cron
check "... into a file only alertd can read (its own, 0600)" private_ok alertd cron
check "cron job: orgvaultctl credential gives the same bytes" cmp -s "$P/alertd/cron.ctl" "$VALUE_FILE"
s=$(serial_of alertd cron)
check "while the cron session is open, its key ($s) is there" key_alive alertd "$s"
assert_eq "... a user key of alertd's, possessor and user view/read/search only" \
        "$(as alertd keyctl rdescribe "$s" 2>&1)" "user;$(id -u alertd);$(id -g alertd);0b0b0000;orgvault:$C"
release alertd cron
check "after cron closed the session, the key ($s) is gone" wait_until 60 key_gone alertd "$s"
check "the grant is audited with the user and the PAM service (cron)" wait_until 30 journal_match \
        ORGVAULT_ACTION=ResolveForUser MESSAGE_ID="$MID_RESOLVE" ORGVAULT_USER=alertd ORGVAULT_SERVICE=cron ORGVAULT_OUTCOME=ok
check "the module logged the key it loaded (key $s)" wait_until 30 module_logged cron "loaded as key $s"
check "... and its removal when cron closed the session" wait_until 30 module_logged cron "Key $s invalidated"
restore /etc/pam.d/cron

# --- su -: the man page's lines in /etc/pam.d/su (su - runs su-l, which includes it) ---
stack_append /etc/pam.d/su "session optional pam_keyinit.so force revoke" \
        "session optional pam_orgvault.so credentials=$C"
timeout 150 su -s /bin/sh - alertd -c "$SESSION su" </dev/null >/dev/null 2>&1 &
pid=$!
check "su - alertd: the session ran" wait_until 120 ready alertd su
check "su - alertd: keyctl pipe wrote exactly the test value" value_ok alertd su
s=$(serial_of alertd su)
check "... its key ($s) is there while su runs" key_alive alertd "$s"
release alertd su
wait "$pid"
assert_eq "su - alertd exits 0" "$?" 0
check "after su returned, the key ($s) is gone" wait_until 60 key_gone alertd "$s"

timeout 150 su -s /bin/sh - eve -c "$SESSION su" </dev/null >/dev/null 2>&1 &
pid=$!
check "su - eve (no consumer): the session opens (the module is optional)" wait_until 120 ready eve su
check "... with no key in it (keyctl pipe failed, nothing read)" no_key eve su
assert_eq "... orgvaultctl credential exits 5 (absent)" "$(cat "$P/eve/su.ctl-rc" 2>/dev/null)" 5
release eve su
wait "$pid"
check "eve's refusal is in the journal under the denied MESSAGE_ID, with the PAM service su-l" \
        wait_until 30 journal_match ORGVAULT_ACTION=ResolveForUser \
        MESSAGE_ID="$MID_DENIED" ORGVAULT_USER=eve ORGVAULT_SERVICE=su-l ORGVAULT_OUTCOME=denied
check "the module logged it (no value)" wait_until 30 module_logged su-l "Credential $C not loaded for eve"
restore /etc/pam.d/su

# --- the module alone removes the key: pam_keyinit without revoke, required ---
stack_append /etc/pam.d/su "session optional pam_keyinit.so force" \
        "session required pam_orgvault.so credentials=$C"
timeout 150 su -s /bin/sh alertd -c "$SESSION hold hold" </dev/null >/dev/null 2>&1 &
pid=$!
check "su alertd (no revoke at close): the session ran" wait_until 120 ready alertd hold
check "... keyctl pipe wrote exactly the test value" value_ok alertd hold
s=$(serial_of alertd hold); ring=$(keyring_of alertd hold); holder=$(cat "$P/alertd/hold.holder" 2>/dev/null)
check "... its key ($s) is there while su runs" key_alive alertd "$s"
release alertd hold
wait "$pid"
assert_eq "su alertd exits 0" "$?" 0
check "after su returned, the key ($s) is gone" wait_until 60 key_gone alertd "$s"
check "... while the session keyring ($ring) lives on" key_alive alertd "$ring"
check "... held by a process of the session (pid $holder)" kill -0 "${holder:-0}"
[[ -n $holder ]] && kill "$holder" 2>/dev/null
restore /etc/pam.d/su

# --- systemd units with PAMName=: the man page's service file, verbatim ---
cat >/etc/pam.d/alertd <<EOT
session  required  pam_unix.so
session  optional  pam_keyinit.so force revoke
session  required  pam_orgvault.so credentials=$C timeout=3600
EOT
timeout 150 systemd-run --quiet --wait --unit=orgvault-systest-pam-alertd -p PAMName=alertd -p User=alertd \
        "$SESSION" unit </dev/null >/dev/null 2>&1 &
pid=$!
check "systemd-run -p PAMName=alertd -p User=alertd: the unit ran" wait_until 120 ready alertd unit
check "... keyctl pipe wrote exactly the test value" value_ok alertd unit
s=$(serial_of alertd unit)
check "... its key ($s) is there while the unit runs" key_alive alertd "$s"
expiry=$(as alertd awk -v k="$(printf '%08x' "${s:-0}")" '$1 == k { print $4 }' /proc/keys)
check "... with timeout=3600 (expiry $expiry)" test -n "$expiry" -a "$expiry" != perm
release alertd unit
wait "$pid"
assert_eq "the unit succeeded (systemd-run --wait)" "$?" 0
check "after the unit stopped, the key ($s) is gone" wait_until 60 key_gone alertd "$s"

timeout 150 systemd-run --quiet --wait --unit=orgvault-systest-pam-eve -p PAMName=alertd -p User=eve \
        "$SESSION" unit </dev/null >/dev/null 2>&1
rc=$?
check "a PAMName=alertd unit of eve (no consumer) fails: the module is required (status $rc)" test "$rc" -ne 0 -a "$rc" -ne 124
check "... its command never ran" test ! -e "$P/eve/unit.once"
check "... and the refusal is in the journal under the denied MESSAGE_ID, with the PAM service alertd" \
        wait_until 30 journal_match ORGVAULT_ACTION=ResolveForUser \
        MESSAGE_ID="$MID_DENIED" ORGVAULT_USER=eve ORGVAULT_SERVICE=alertd ORGVAULT_OUTCOME=denied
systemctl reset-failed orgvault-systest-pam-eve.service >/dev/null 2>&1
rm -f /etc/pam.d/alertd

# --- no trace of the value in the journal (its random tail, from a root-only file) ---
tail_file=$(mktemp); value_tail >"$tail_file"
check "the journal holds no trace of the value" bash -c "! journalctl -q -b -o export | grep -aqF -f '$tail_file'"
rm -f "$tail_file"

# On a failure, what the sessions and the journal said, as comment lines of
# the results (the session logs hold only keyctl's and orgvaultctl's errors;
# the journal was just checked to hold no value).
if tail -n +"$first" "$RESULTS" | grep -q '^not ok'; then
        { for f in "$P"/*/*.log; do [[ -s $f ]] && sed "s|^|${f#"$P"/}: |" "$f"; done
          journalctl -q -b -o short-monotonic --no-pager 2>/dev/null |
                grep -aE 'pam_orgvault|pam_keyinit|CRON|cron\[|ResolveForUser|orgvault-systest-pam|su\[' | tail -n 60
        } | head -n 100 | sed 's/^/# 65-pam: /' >>"$RESULTS"
fi
rm -rf "$P"
