#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# pam_orgvault through a real libpam stack. pam-harness opens a session from
# a test-only service directory (pam_start_confdir: /etc/pam.d is not
# touched) for a real user, reads each key as that user in a forked child
# (sha256 of the exact bytes), then closes the session and looks again. Its
# /dev/log is a socket of its own, so what the module logs is checked too.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# The module is loaded by the harness, as root: from the real build dir.
MODULE=$OV_BUILD_DIR/src/pam/pam_orgvault.so
HARNESS=$BUILD_DIR/tests/integration/pam-harness
CRED=$BUILD_DIR/tests/integration/cred-client
OV_IDLE=600
ov_setup
PAMD=$OV_DIR/pam.d
mkdir -p "$PAMD"
LOG=$OV_DIR/syslog
OUT=$OV_DIR/harness.out

# service NAME CONTROL ARGS...: a stack as a distribution's would be
# (pam_keyinit first, another session module after), with pam_orgvault at CONTROL.
# pam_keyinit without "revoke": the session keyring outlives the close, so a
# key gone after it was removed by pam_orgvault itself.
service() {
        local name=$1 control=$2; shift 2
        cat >"$PAMD/$name" <<EOT
session optional pam_keyinit.so force
session $control $MODULE $*
session required pam_permit.so
EOT
}
# The stack pam_orgvault(8) documents: pam_keyinit "force revoke", whose close
# runs first and revokes the session keyring, so pam_orgvault no longer
# possesses its keys at close and removes them with the user's permission.
service_revoke() {
        local name=$1 control=$2; shift 2
        printf 'session optional pam_keyinit.so force revoke\nsession %s %s %s\n' "$control" "$MODULE" "$*" >"$PAMD/$name"
}
# A stack without pam_keyinit: the session keyring is whatever the caller had.
service_nokeyinit() {
        local name=$1; shift
        printf 'session required %s %s\nsession required pam_permit.so\n' "$MODULE" "$*" >"$PAMD/$name"
}
printf 'session required pam_deny.so\n' >"$PAMD/other"

# session SERVICE USER CREDENTIAL...: one session; the harness's report in $OUT,
# the module's log lines of this session in $OV_DIR/session.log.
session() {
        : >"$LOG"
        "$HARNESS" --syslog="$LOG" "$PAMD" "$@" >"$OUT" 2>>"$OV_DIR/harness.err"
        grep 'pam_orgvault(' "$LOG" >"$OV_DIR/session.log"
}
line() { grep -E "^$1( |$)" "$OUT" | head -n 1; }
field() { line "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }
sha() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
logged() { grep -c -- "$1" "$OV_DIR/session.log"; }
# gone CREDENTIAL: the harness found the key during the session, and after it
# the user can read it neither by serial (invalidated: ENOKEY, or another
# error while the kernel's garbage collector reaps it; never the bytes) nor
# find it by name.
gone() { [[ $(line "after $1") =~ ^after\ $1\ serial:E[A-Z]+\ name:absent$ ]]; }

audit_has() {
        python3 - "$OV_DIR/audit.jsonl" "$@" <<'PY'
import json, sys
path, kind, user, service, secret, outcome = sys.argv[1:]
for l in open(path):
    r = json.loads(l)
    if (r.get("kind"), r.get("user"), r.get("service"), r.get("secret"), r.get("outcome")) == \
       (kind, user, service, secret, outcome) and r.get("uid") == 0:
        sys.exit(0)
sys.exit(1)
PY
}

slack=$(ov_add_slack ovt-bob acme "Ops Slack")
ai=$(ovbus ovt-bob AddSecret sssa{ss}a{sv} acme openai-api-key "Survey AI" 1 api_key "$OV_FAKE_OPENAI" 0 |
     sed -n 's/^sas "\([^"]*\)".*/\1/p')
assert_eq "secrets added" "$slack $ai" "ops-slack survey-ai"
# The whole value as JSON, exactly as the credential socket gives it.
timeout 20 "$CRED" "$OV_DIR/run/credential.sock" alertd.service acme.ops-slack >"$OV_DIR/slack.json"
SLACK_JSON_SHA=$(sha256sum <"$OV_DIR/slack.json" | cut -d' ' -f1)
check "reference value read from the credential socket" test -s "$OV_DIR/slack.json"

ALERTD_UID=$(id -u ovt-alertd) ALERTD_GID=$(id -g ovt-alertd)
CREDS="acme.ops-slack.webhook_url,acme.ops-slack,acme.survey-ai.api_key"
BUS="bus=unix:path=$OV_DIR/bus"

# --- A consumer's session: what its features use, nothing else ---
service ov-optional optional "credentials=$CREDS" "$BUS" timeout=300 bogus=42 socket=/run/orgvault/credential.sock debug
session ov-optional ovt-alertd acme.ops-slack.webhook_url acme.ops-slack acme.survey-ai.api_key
assert_eq "optional: the session opens" "$(line open)" "open PAM_SUCCESS"
assert_eq "field credential: the user reads the exact bytes (sha256)" \
        "$(field 'key acme.ops-slack.webhook_url' sha256)" "$(sha "$OV_FAKE_SLACK")"
assert_eq "whole-value credential: the user reads the JSON the socket gives (sha256)" \
        "$(field 'key acme.ops-slack' sha256)" "$SLACK_JSON_SHA"
assert_eq "key: type user, owned by the user, possessor+user view/read/search only" \
        "$(field 'key acme.ops-slack.webhook_url' describe)" \
        "user;$ALERTD_UID;$ALERTD_GID;0b0b0000;orgvault:acme.ops-slack.webhook_url"
assert_contains "timeout=300: the key expires (minutes left)" "$(field 'key acme.ops-slack' timeout)" "m"
assert_eq "a type the consumer's features do not use: no key" \
        "$(line 'key acme.survey-ai.api_key')" "key acme.survey-ai.api_key absent ENOKEY"
assert_eq "another user without the session keyring cannot read the key by serial" \
        "$(line 'other acme.ops-slack.webhook_url')" "other acme.ops-slack.webhook_url EACCES"
assert_eq "the module never talks to the user" "$(line conversation)" "conversation 0"
assert_eq "nothing put in the PAM environment" "$(grep -c '^env ' "$OUT")" 0
assert_eq "close succeeds" "$(line close)" "close PAM_SUCCESS"
check "close: the field key is gone (by serial and by name)" gone acme.ops-slack.webhook_url
check "close: the whole-value key is gone" gone acme.ops-slack
assert_eq "the refusal is logged in one line" "$(logged 'Credential acme.survey-ai.api_key not loaded for ovt-alertd: refused by orgvaultd')" 1
assert_eq "an unknown option is logged (by name only)" "$(logged 'Unknown option "bogus", ignoring')" 1
assert_eq "socket= is ignored with a debug line" "$(logged 'Option socket= names a credential socket')" 1
assert_eq "a summary says how many failed" "$(logged '1 of 3 credentials not loaded for ovt-alertd')" 1
check "grants are audited with user, PAM service and credential" \
        audit_has resolve ovt-alertd ov-optional ops-slack ok
check "refusals are audited with user, PAM service and credential" \
        audit_has denied ovt-alertd ov-optional survey-ai denied
check "the audit log names the credential asked for" grep -q '"acme.survey-ai.api_key: consumer features do not use the type"' "$OV_DIR/audit.jsonl"
for v in "$OV_FAKE_SLACK" "$OV_FAKE_OPENAI" TFAKE0000 FAKEfake; do
        check "no value in the module's log ($v)" bash -c '! grep -qF -- "$1" "$2"' _ "$v" "$LOG"
        check "no value in the audit log ($v)" bash -c '! grep -qF -- "$1" "$2"' _ "$v" "$OV_DIR/audit.jsonl"
        check "no value in the daemon's log ($v)" bash -c '! grep -qF -- "$1" "$2"' _ "$v" "$OV_DIR/daemon.stderr"
done

# A job of the session, the way cron runs one: orgvaultctl credential reads
# the session keyring (no daemon call), exact bytes, exit 5 when absent, and
# not onto a terminal unless --force.
CTL=$ORGVAULTCTL
JOB="$CTL credential acme.ops-slack.webhook_url | sha256sum | sed 's/^/job-sha /; s/ *-\$//'
$CTL credential acme.survey-ai.api_key; echo job-absent-rc \$?
$CTL credential acme.ops-slack.webhook_url >/dev/full; echo job-full-rc \$?
/usr/bin/python3 -c 'import os, pty, sys; sys.exit(os.waitstatus_to_exitcode(pty.spawn([sys.argv[1], \"credential\", \"acme.ops-slack.webhook_url\"])))' $CTL >/dev/null; echo job-tty-rc \$?
/usr/bin/python3 -c 'import os, pty, sys; sys.exit(os.waitstatus_to_exitcode(pty.spawn([sys.argv[1], \"credential\", \"--force\", \"acme.ops-slack.webhook_url\"])))' $CTL | tr -d '\r' | sha256sum | sed 's/^/job-tty-force-sha /; s/ *-\$//'
source $OV_DIR/orgvaultctl.bash; COMP_WORDS=(orgvaultctl credential acme.ops-slack.w); COMP_CWORD=2; _orgvaultctl; echo job-comp \${COMPREPLY[*]}"
cp "$SOURCE_ROOT/completion/orgvaultctl.bash" "$OV_DIR/" && chmod 0644 "$OV_DIR/orgvaultctl.bash"
: >"$LOG"
"$HARNESS" --syslog="$LOG" --command="$JOB" "$PAMD" ov-optional ovt-alertd acme.ops-slack.webhook_url >"$OUT" 2>>"$OV_DIR/harness.err"
assert_eq "orgvaultctl credential in the session: the exact bytes (sha256)" "$(line job-sha)" "job-sha $(sha "$OV_FAKE_SLACK")"
assert_eq "orgvaultctl credential: exit 5 for a credential not loaded" "$(line job-absent-rc)" "job-absent-rc 5"
assert_eq "orgvaultctl credential: a failed write is a failure" "$(line job-full-rc)" "job-full-rc 1"
assert_eq "orgvaultctl credential: not onto a terminal" "$(line job-tty-rc)" "job-tty-rc 2"
assert_eq "orgvaultctl credential --force: onto a terminal, the exact bytes" "$(line job-tty-force-sha)" "job-tty-force-sha $(sha "$OV_FAKE_SLACK")"
assert_eq "bash completion offers the credentials loaded in the session" "$(line job-comp)" "job-comp acme.ops-slack.webhook_url"
check "orgvaultctl credential after the session: exit 5" bash -c '"$1" credential acme.ops-slack.webhook_url 2>/dev/null; test $? -eq 5' _ "$CTL"

# The documented stack (pam_keyinit revokes the session keyring first at close).
service_revoke ov-revoke optional "credentials=acme.ops-slack.webhook_url,acme.ops-slack" "$BUS" debug
session ov-revoke ovt-alertd acme.ops-slack.webhook_url acme.ops-slack
assert_eq "pam_keyinit force revoke stack: the session opens" "$(line open)" "open PAM_SUCCESS"
assert_eq "... the user reads the key" "$(field 'key acme.ops-slack.webhook_url' sha256)" "$(sha "$OV_FAKE_SLACK")"
check "... close removes the field key (without possessing it any more)" gone acme.ops-slack.webhook_url
check "... and the whole-value key" gone acme.ops-slack
assert_eq "... with no error logged" "$(grep -c 'Cannot invalidate' "$OV_DIR/session.log")" 0

# Two pam_orgvault lines in one stack: close removes both lines' keys.
printf 'session optional pam_keyinit.so force\nsession optional %s credentials=acme.ops-slack.webhook_url %s\nsession required %s credentials=acme.ops-slack %s\n' \
        "$MODULE" "$BUS" "$MODULE" "$BUS" >"$PAMD/ov-twice"
session ov-twice ovt-alertd acme.ops-slack.webhook_url acme.ops-slack
assert_eq "two module lines: the session opens" "$(line open)" "open PAM_SUCCESS"
check "... the first line's key was there" grep -q '^key acme.ops-slack.webhook_url [0-9]' "$OUT"
check "... the second line's key was there" grep -q '^key acme.ops-slack [0-9]' "$OUT"
check "... close removes the first line's key" gone acme.ops-slack.webhook_url
check "... and the second line's" gone acme.ops-slack

# --- su - and runuser -l, the real programs ---
# Debian's /etc/pam.d/su and runuser-l with the module's two lines appended,
# bind-mounted over the originals in a mount namespace of its own, so the
# host's files never change (su - reads su-l, which includes su). The command
# leaves a process of the session running (its pid in a file), so the keyring
# outlives su: a key gone after su returns was removed by the module.
mkdir -p "$OV_DIR/real" && chmod 0777 "$OV_DIR/real"
for svc in su runuser-l; do
        { cat "/etc/pam.d/$svc"
          printf 'session optional pam_keyinit.so force revoke\nsession required %s credentials=acme.ops-slack.webhook_url %s\n' "$MODULE" "$BUS"
        } >"$OV_DIR/real/$svc.pam"
done
REAL_JOB="d=$OV_DIR/real; keyctl pipe %user:orgvault:acme.ops-slack.webhook_url | sha256sum | cut -d' ' -f1 >\$d/sha
keyctl search @s user orgvault:acme.ops-slack.webhook_url >\$d/serial
sleep 60 </dev/null >/dev/null 2>&1 & echo \$! >\$d/holder"
# In a sanitizer build the module needs its runtime first in su's library
# list; su's own allocations are not this test's (leaks off for su only; the
# harness runs above check the module's).
SAN_PRELOAD=$(ldd "$MODULE" | awk '/lib(asan|ubsan)\.so/ {print $3}' | paste -sd: -)
# real_session SERVICE CMD...: CMD (su or runuser) with that service file in place.
real_session() {
        local f=$1; shift
        rm -f "$OV_DIR/real/sha" "$OV_DIR/real/serial" "$OV_DIR/real/holder"
        unshare --mount --propagation private bash -c 'mount --bind "$1" "$2" && shift 2 && exec "$@"' _ \
                "$OV_DIR/real/$f.pam" "/etc/pam.d/$f" \
                env ${SAN_PRELOAD:+LD_PRELOAD=$SAN_PRELOAD ASAN_OPTIONS=detect_leaks=0} "$@" \
                </dev/null >/dev/null 2>>"$OV_DIR/real/err"
}
user_sees_serial() { as ovt-alertd keyctl describe "$1" >/dev/null 2>&1; }
user_lost_serial() { [[ -n $1 ]] && ! user_sees_serial "$1"; }
holder_alive() { [[ -s $OV_DIR/real/holder ]] && kill -0 "$(cat "$OV_DIR/real/holder")" 2>/dev/null; }
for how in su runuser-l; do
        if [[ $how == su ]]; then
                real_session su su -s /bin/sh - ovt-alertd -c "$REAL_JOB"
        else
                real_session runuser-l runuser -l -s /bin/sh ovt-alertd -c "$REAL_JOB"
        fi
        check "$how: the session ran" test $? -eq 0
        assert_eq "$how: keyctl pipe in the session gives the exact bytes (sha256)" "$(cat "$OV_DIR/real/sha" 2>/dev/null)" "$(sha "$OV_FAKE_SLACK")"
        serial=$(cat "$OV_DIR/real/serial" 2>/dev/null)
        check "$how: the session had the key" test -n "$serial"
        check "$how: a process of the session still holds the keyring" holder_alive
        check "$how: after it returns the user cannot see the key any more" user_lost_serial "$serial"
        holder_alive && kill "$(cat "$OV_DIR/real/holder")"
done
check "su -: the grant is audited with the PAM service su-l (which includes su)" audit_has resolve ovt-alertd su-l ops-slack ok
check "runuser -l: audited with runuser-l" audit_has resolve ovt-alertd runuser-l ops-slack ok
check "the host's /etc/pam.d/su and runuser-l are untouched" bash -c '! grep -q pam_orgvault /etc/pam.d/su /etc/pam.d/runuser-l'

# Without timeout= the keys do not expire.
service ov-required required "credentials=acme.ops-slack.webhook_url" "$BUS"
session ov-required ovt-alertd acme.ops-slack.webhook_url
assert_eq "required, all granted: the session opens" "$(line open)" "open PAM_SUCCESS"
assert_eq "no timeout= : the key does not expire" "$(field 'key acme.ops-slack.webhook_url' timeout)" "perm"
assert_eq "no log line above debug when all is well" "$(wc -l <"$OV_DIR/session.log")" 0

# The other consumer gets its own secret and not the Slack one.
service ov-surveys required "credentials=acme.survey-ai.api_key" "$BUS"
session ov-surveys ovt-surveyd acme.survey-ai.api_key acme.ops-slack.webhook_url
assert_eq "surveys consumer reads its AI key (sha256)" "$(field 'key acme.survey-ai.api_key' sha256)" "$(sha "$OV_FAKE_OPENAI")"
assert_eq "... and has no Slack key" "$(line 'key acme.ops-slack.webhook_url')" "key acme.ops-slack.webhook_url absent ENOKEY"

# --- Refusals ---
service ov-req-all required "credentials=$CREDS" "$BUS"
session ov-req-all ovt-eve acme.ops-slack.webhook_url acme.ops-slack
assert_eq "non-consumer, required: the session fails" "$(line open)" "open PAM_SESSION_ERR"
assert_eq "non-consumer gets no key" "$(grep -c '^key .* absent' "$OUT")" 2
assert_eq "non-consumer: one log line per credential" "$(logged 'not loaded for ovt-eve: refused by orgvaultd')" 3
session ov-optional ovt-eve acme.ops-slack.webhook_url
assert_eq "non-consumer, optional: the session opens" "$(line open)" "open PAM_SUCCESS"
assert_eq "... with no key" "$(line 'key acme.ops-slack.webhook_url')" "key acme.ops-slack.webhook_url absent ENOKEY"

session ov-req-all ovt-alertd acme.ops-slack.webhook_url acme.ops-slack
assert_eq "required with one credential refused: the session fails" "$(line open)" "open PAM_SESSION_ERR"
check "... the keys granted meanwhile existed" grep -q '^key acme.ops-slack.webhook_url [0-9]' "$OUT"
check "... and are gone once the failed session ends (pam_end)" gone acme.ops-slack.webhook_url

# The same answer whether the secret exists or not (and for a non-consumer).
denied="org.freedesktop.DBus.Error.AccessDenied: Access denied"
assert_eq "ResolveForUser: a type the user may not use" \
        "$(ov_error_full root ResolveForUser ovt-alertd cron acme.survey-ai)" "$denied"
assert_eq "ResolveForUser: a secret that does not exist: the same answer" \
        "$(ov_error_full root ResolveForUser ovt-alertd cron acme.no-such-secret)" "$denied"
assert_eq "ResolveForUser: an org that does not exist: the same answer" \
        "$(ov_error_full root ResolveForUser ovt-alertd cron nosuchorg.ops-slack)" "$denied"
assert_eq "ResolveForUser: an unknown user: the same answer" \
        "$(ov_error_full root ResolveForUser ovt-no-such-user cron acme.ops-slack)" "$denied"
assert_eq "ResolveForUser: a non-root caller, even the consumer itself: the same answer" \
        "$(ov_error_full ovt-alertd ResolveForUser ovt-alertd cron acme.ops-slack)" "$denied"
assert_eq "ResolveForUser: a user given by uid is the same user" \
        "$(ov_error_full root ResolveForUser "$ALERTD_UID" cron acme.ops-slack.webhook_url)" ""
assert_error "ResolveForUser: a malformed credential id is InvalidArgs" org.freedesktop.DBus.Error.InvalidArgs \
        root ResolveForUser ovt-alertd cron "acme/../ops-slack"
assert_error "ResolveForUser: a field the type lacks, once allowed, is NotFound" io.orgvault.Vault1.Error.NotFound \
        root ResolveForUser ovt-alertd cron acme.ops-slack.api_key
check "the non-root refusal is audited" grep -q '"ops-slack: caller is not root"\|caller is not root' "$OV_DIR/audit.jsonl"

# --- The session keyring must be this session's own ---
service_nokeyinit ov-nokeyinit "credentials=acme.ops-slack.webhook_url" "$BUS"
session ov-nokeyinit ovt-alertd acme.ops-slack.webhook_url
assert_eq "no session keyring: the session fails" "$(line open)" "open PAM_SESSION_ERR"
assert_eq "... with the reason logged" "$(logged 'Not adding credentials for ovt-alertd: there is no session keyring')" 1
: >"$LOG"
keyctl session ovt-shared "$HARNESS" --syslog="$LOG" "$PAMD" ov-nokeyinit ovt-alertd acme.ops-slack.webhook_url >"$OUT" 2>>"$OV_DIR/harness.err"
grep 'pam_orgvault(' "$LOG" >"$OV_DIR/session.log"
assert_eq "root's shared session keyring: the session fails" "$(line open)" "open PAM_SESSION_ERR"
assert_eq "... no key added to it" "$(line 'key acme.ops-slack.webhook_url')" "key acme.ops-slack.webhook_url absent ENOKEY"
assert_eq "... with the reason logged" "$(logged 'the session keyring is not one made for this session')" 1

# --- Options ---
service ov-badopts required "credentials=acme.ops-slack.webhook_url,Not/An.Id" timeout=soon "$BUS"
session ov-badopts ovt-alertd acme.ops-slack.webhook_url
assert_eq "bad option values: a required session fails" "$(line open)" "open PAM_SESSION_ERR"
assert_eq "... the malformed credential id is logged" "$(logged '"Not/An.Id" is no credential id')" 1
assert_eq "... and the unusable timeout" "$(logged 'Option timeout= wants whole seconds')" 1
check "... the good credential was still loaded (and went with the failed session)" gone acme.ops-slack.webhook_url

# --- The daemon down or sealed ---
DOWN="bus=unix:path=$OV_DIR/no-such-bus"
service ov-down-req required "credentials=acme.ops-slack.webhook_url,acme.ops-slack" "$DOWN"
service ov-down-opt optional "credentials=acme.ops-slack.webhook_url,acme.ops-slack" "$DOWN"
session ov-down-req ovt-alertd acme.ops-slack.webhook_url
assert_eq "daemon down, required: the session fails" "$(line open)" "open PAM_SESSION_ERR"
assert_eq "... one line per credential says the vault is unreachable" "$(logged 'not loaded for ovt-alertd: orgvaultd is not reachable')" 2
session ov-down-opt ovt-alertd acme.ops-slack.webhook_url
assert_eq "daemon down, optional: the session opens" "$(line open)" "open PAM_SUCCESS"
assert_eq "... without the key" "$(line 'key acme.ops-slack.webhook_url')" "key acme.ops-slack.webhook_url absent ENOKEY"
assert_eq "... and logs one line per credential" "$(logged 'not loaded for ovt-alertd: orgvaultd is not reachable')" 2

# The bus is up but the daemon cannot start: one activation failure, and the
# module does not try again for each credential.
ov_stop_daemon
cp "$OV_DIR/services/io.orgvault.Vault1.service" "$OV_DIR/service.saved"
printf '[D-BUS Service]\nName=io.orgvault.Vault1\nExec=/bin/false\n' >"$OV_DIR/services/io.orgvault.Vault1.service"
busctl --address="$OV_BUS" call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig
service ov-nostart required "credentials=acme.ops-slack.webhook_url,acme.ops-slack" "$BUS"
session ov-nostart ovt-alertd acme.ops-slack.webhook_url
assert_eq "daemon fails to start, required: the session fails" "$(line open)" "open PAM_SESSION_ERR"
assert_eq "... both credentials logged as unreachable" "$(logged 'not loaded for ovt-alertd: orgvaultd is not reachable')" 2
cp "$OV_DIR/service.saved" "$OV_DIR/services/io.orgvault.Vault1.service"
busctl --address="$OV_BUS" call org.freedesktop.DBus /org/freedesktop/DBus org.freedesktop.DBus ReloadConfig

ovbus root Seal >/dev/null
session ov-required ovt-alertd acme.ops-slack.webhook_url
assert_eq "vault sealed, required: the session fails" "$(line open)" "open PAM_SESSION_ERR"
assert_eq "... and says the vault is sealed" "$(logged 'not loaded for ovt-alertd: the vault is sealed')" 1
session ov-optional ovt-alertd acme.ops-slack.webhook_url
assert_eq "vault sealed, optional: the session opens" "$(line open)" "open PAM_SUCCESS"

# The module runs inside the harness: in a sanitizer build, its reports land here.
if grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$OV_DIR/harness.err"; then
        fail "the harness (and the module in it) has a sanitizer report"
        grep -E -A12 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$OV_DIR/harness.err" | head -n 40 | sed 's/^/    /'
else
        ok "the harness (and the module in it) has no sanitizer report"
fi
ov_finish
