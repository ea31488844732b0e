#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Bad input (docs/API.md): each bound and check gets its named error, leaves
# the state dir byte-identical, and never takes the daemon down.
source "$(dirname "$0")/lib.sh"

ov_setup
ov_capture_daemon_stderr

E=org.freedesktop.DBus.Error
V=io.orgvault.Vault1.Error
NOOPTS='@a{sv} {}'
SLACK="{'webhook_url': '$OV_FAKE_SLACK'}"
AC=AC0123456789abcdef0123456789abcdef    # fake SIDs of the right shape
SK=SK0123456789abcdef0123456789abcdef

ovgdbus_quiet() { ovgdbus "$@" >/dev/null; }
rep() { local s; printf -v s '%*s' "$2" ''; echo "${s// /$1}"; }

# bad DESC ERROR [--says TEXT] USER METHOD ARGS...: the call fails with ERROR
# (and its message contains TEXT), and the state dir did not change.
bad() {
        local d=$1 want=$2 says=
        shift 2
        [[ $1 == --says ]] && { says=$2; shift 2; }
        local before got
        before=$(ov_state_hash)
        got=$(ov_error_full "$@")
        assert_eq "$d: $want" "${got%%: *}" "$want"
        [[ -n $says ]] && assert_contains "$d: the message says $says" "$got" "$says"
        assert_eq "$d: state dir unchanged" "$(ov_state_hash)" "$before"
}

# A settled vault to compare against: one secret in acme, one in globex.
check "setup: add acme/existing" ovgdbus_quiet ovt-bob AddSecret acme slack-webhook "Existing" "$SLACK" "{'id': <'existing'>}"
check "setup: add globex/other" ovgdbus_quiet ovt-carol AddSecret globex slack-webhook "Other" "$SLACK" "$NOOPTS"
pid=$(ov_daemon_pid)
check "setup: the daemon runs" test -n "$pid"

# --- Display names: 1-128 characters of UTF-8 text, no control characters ---
bad "name of 129 characters" $E.InvalidArgs ovt-bob AddSecret acme slack-webhook "$(rep n 129)" "$SLACK" "$NOOPTS"
bad "name of 129 two-byte characters" $E.InvalidArgs ovt-bob AddSecret acme slack-webhook "$(rep é 129)" "$SLACK" "$NOOPTS"
bad "empty name" $E.InvalidArgs ovt-bob AddSecret acme slack-webhook "''" "$SLACK" "$NOOPTS"
for c in '\u0001' '\t' '\n' '\r' '\u001b' '\u007f' '\u0085'; do
        bad "name with control character $c" $E.InvalidArgs \
                ovt-bob AddSecret acme slack-webhook "'Ops${c}Slack'" "$SLACK" "$NOOPTS"
        bad "rename to a name with control character $c" $E.InvalidArgs \
                ovt-bob RenameSecret acme existing "'Ops${c}Slack'"
done
bad "rename to 129 characters" $E.InvalidArgs ovt-bob RenameSecret acme existing "$(rep r 129)"
bad "rename to an empty name" $E.InvalidArgs ovt-bob RenameSecret acme existing "''"
# The bound is characters, not bytes: 128 two-byte characters fit.
check "name of 128 two-byte characters is accepted" \
        ovgdbus_quiet ovt-bob AddSecret acme slack-webhook "$(rep é 128)" "$SLACK" "{'id': <'long-name'>}"
bad "name taken, other ASCII case" $V.NameExists ovt-bob AddSecret acme slack-webhook "EXISTING" "$SLACK" "$NOOPTS"
bad "rename onto a taken name" $V.NameExists ovt-bob RenameSecret acme long-name "existing"

# --- Ids and org names: no path elements ---
for id in '..' '../escape' 'a/b' '/abs' '.hidden' 'Upper' "$(rep i 65)" '-lead' 'a.b' ' sp'; do
        bad "option id [$id]" $E.InvalidArgs ovt-bob AddSecret acme slack-webhook "Id Test" "$SLACK" "{'id': <'$id'>}"
        bad "GetSecret id [$id]" $E.InvalidArgs ovt-bob GetSecret acme "'$id'"
done
for id in '..' '../existing' '../../master.key' 'existing/..' 'secrets/existing'; do
        bad "DeleteSecret id [$id]" $E.InvalidArgs ovt-bob DeleteSecret acme "'$id'" true
        bad "UpdateSecret id [$id]" $E.InvalidArgs ovt-bob UpdateSecret acme "'$id'" "$SLACK"
        bad "RenameSecret id [$id]" $E.InvalidArgs ovt-bob RenameSecret acme "'$id'" "New Name"
done
# A malformed org name can't name an org the caller has a role in: either
# answer is right (malformed, or no role), never anything else.
for org in '..' '../acme' 'acme/..' 'acme/../globex' '../../escape' '../escape' '/acme' '.' 'ACME' ''; do
        for u in ovt-bob root; do
                before=$(ov_state_hash)
                got=$(ov_error_full "$u" AddSecret "'$org'" slack-webhook "Org Test" "$SLACK" "$NOOPTS")
                got=${got%%: *}
                if [[ $got == "$E.InvalidArgs" || $got == "$E.AccessDenied" ]]; then
                        ok "AddSecret to org [$org] as $u: $got"
                else
                        fail "AddSecret to org [$org] as $u: got [$got]"
                fi
                assert_eq "AddSecret to org [$org] as $u: state dir unchanged" "$(ov_state_hash)" "$before"
                got=$(ov_error_full "$u" ListSecrets "'$org'" "$NOOPTS")
                got=${got%%: *}
                if [[ $got == "$E.InvalidArgs" || $got == "$E.AccessDenied" ]]; then
                        ok "ListSecrets of org [$org] as $u: $got"
                else
                        fail "ListSecrets of org [$org] as $u: got [$got]"
                fi
        done
done
assert_eq "no org but acme's and globex's" "$(ov_store_orgs | tr '\n' ' ')" "acme globex "
check "nothing escaped the state dir" test ! -e "$OV_DIR/escape" -a ! -e "$OV_DIR/state/escape"
# A display name that looks like a path is only text; its id is a safe slug.
id=$(ovgdbus ovt-bob AddSecret acme slack-webhook "../../etc/passwd" "$SLACK" "$NOOPTS" | sed -n "s/^('\([^']*\)'.*/\1/p")
check "a path-like name gets a slug id [$id]" grep -qE '^[a-z0-9][a-z0-9_-]{0,63}$' <<<"$id"
check "its record is acme's" test -n "$(ov_store_record acme "$id")"
bad "unknown org" $E.AccessDenied ovt-bob AddSecret nosuchorg slack-webhook "X" "$SLACK" "$NOOPTS"

# --- Types and fields ---
bad "unknown type" $V.UnknownType ovt-bob AddSecret acme no-such-type "Typo" "$SLACK" "$NOOPTS"
bad "type with a path" $V.UnknownType ovt-bob AddSecret acme ../types.d/slack-webhook "Typo" "$SLACK" "$NOOPTS"
bad "DescribeType of an unknown type" $V.UnknownType ovt-bob DescribeType no-such-type
bad "unknown field" $V.InvalidField --says colour \
        ovt-bob AddSecret acme slack-webhook "Extra" "{'webhook_url': '$OV_FAKE_SLACK', 'colour': 'red'}" "$NOOPTS"
bad "missing required field" $V.InvalidField --says webhook_url \
        ovt-bob AddSecret acme slack-webhook "Empty" "@a{ss} {}" "$NOOPTS"
bad "required field left blank" $V.InvalidField --says webhook_url \
        ovt-bob AddSecret acme slack-webhook "Blank" "{'webhook_url': '   '}" "$NOOPTS"
bad "missing required field (twilio auth_token)" $V.InvalidField --says auth_token \
        ovt-bob AddSecret acme twilio-auth-token "Twilio" "{'region': 'us1', 'account_sid': '$AC'}" "$NOOPTS"
bad "wrong enum value (region us2)" $V.InvalidField --says "region: must be one of" \
        ovt-bob AddSecret acme twilio-api-key "Twilio Key" \
        "{'region': 'us2', 'account_sid': '$AC', 'api_key_sid': '$SK', 'api_key_secret': 'FAKEfakeFAKEfakeFAKEfake00000000'}" "$NOOPTS"
bad "value pasted into the wrong field (SK as account SID)" $V.InvalidField --says account_sid \
        ovt-bob AddSecret acme twilio-api-key "Twilio Key" \
        "{'region': 'us1', 'account_sid': '$SK', 'api_key_sid': '$SK', 'api_key_secret': 'FAKEfakeFAKEfakeFAKEfake00000000'}" "$NOOPTS"
bad "webhook over http" $V.InvalidField --says webhook_url \
        ovt-bob AddSecret acme slack-webhook "Plain" "{'webhook_url': 'http://hooks.slack.com/services/TFAKE0000/BFAKE0000/xxxxxxxxxxxxxxxxxxxxxxxx'}" "$NOOPTS"
bad "field with a control character" $V.InvalidField --says webhook_url \
        ovt-bob AddSecret acme slack-webhook "Ctl" "{'webhook_url': '$OV_FAKE_SLACK\\u0001'}" "$NOOPTS"
bad "field with an escape sequence" $V.InvalidField --says webhook_url \
        ovt-bob AddSecret acme slack-webhook "Esc" "{'webhook_url': '\\u001b[2J$OV_FAKE_SLACK'}" "$NOOPTS"
bad "field of 8 KiB + 1" $V.InvalidField --says "webhook_url: is longer than 8192" \
        ovt-bob AddSecret acme slack-webhook "Big" "{'webhook_url': 'https://hooks.slack.com/$(rep x $((8192 - 24 + 1)))'}" "$NOOPTS"
bad "value over 64 KiB in all" $V.InvalidField --says 65536 \
        ovt-bob AddSecret acme slack-webhook "Huge" "{'webhook_url': '$(rep x 66000)'}" "$NOOPTS"
many="'webhook_url': '$OV_FAKE_SLACK'"
for i in $(seq 16); do many+=", 'f$i': 'v'"; done
bad "17 fields" $V.InvalidField --says "at most 16" ovt-bob AddSecret acme slack-webhook "Many" "{$many}" "$NOOPTS"
# A malformed field name is a malformed argument, not a field to name.
bad "field name of 2 KiB" $E.InvalidArgs \
        ovt-bob AddSecret acme slack-webhook "Key" "{'webhook_url': '$OV_FAKE_SLACK', '$(rep k 2048)': 'v'}" "$NOOPTS"
bad "field name with a control character" $E.InvalidArgs \
        ovt-bob AddSecret acme slack-webhook "Key" "{'webhook_url': '$OV_FAKE_SLACK', 'a\\u0001b': 'v'}" "$NOOPTS"
bad "empty field name" $E.InvalidArgs \
        ovt-bob AddSecret acme slack-webhook "Key" "{'webhook_url': '$OV_FAKE_SLACK', '': 'v'}" "$NOOPTS"
bad "a field given twice" $E.InvalidArgs \
        ovt-bob AddSecret acme slack-webhook "Twice" "[{'webhook_url', '$OV_FAKE_SLACK'}, {'webhook_url', '$OV_FAKE_SLACK2'}]" "$NOOPTS"
bad "update: field of 8 KiB + 1" $V.InvalidField --says webhook_url \
        ovt-bob UpdateSecret acme existing "{'webhook_url': 'https://hooks.slack.com/$(rep x $((8192 - 24 + 1)))'}"
bad "update: unknown field" $V.InvalidField --says colour \
        ovt-bob UpdateSecret acme existing "{'webhook_url': '$OV_FAKE_SLACK', 'colour': 'red'}"
bad "update: missing required field" $V.InvalidField --says webhook_url ovt-bob UpdateSecret acme existing "@a{ss} {}"
bad "update of a missing secret" $V.NotFound ovt-bob UpdateSecret acme no-such "$SLACK"
bad "rename of a missing secret" $V.NotFound ovt-bob RenameSecret acme no-such "Whatever"
bad "delete of a missing secret" $V.NotFound ovt-bob DeleteSecret acme no-such true

# --- Options and filters ---
bad "unknown AddSecret option" $E.InvalidArgs ovt-bob AddSecret acme slack-webhook "Opt" "$SLACK" "{'colour': <'red'>}"
bad "AddSecret option id of the wrong type" $E.InvalidArgs ovt-bob AddSecret acme slack-webhook "Opt" "$SLACK" "{'id': <7>}"
bad "unknown filter key" $E.InvalidArgs ovt-alice ListSecrets acme "{'colour': <'red'>}"
bad "filter limit of the wrong type" $E.InvalidArgs ovt-alice ListSecrets acme "{'limit': <'3'>}"
bad "filter search of the wrong type" $E.InvalidArgs ovt-alice ListSecrets acme "{'search': <3>}"
bad "search of 257 bytes" $E.InvalidArgs ovt-alice ListSecrets acme "{'search': <'$(rep s 257)'>}"
bad "type filter of 257 bytes" $E.InvalidArgs ovt-alice ListSecrets acme "{'type': <'$(rep t 257)'>}"
bad "feature filter of 257 bytes" $E.InvalidArgs ovt-alice ListSecrets acme "{'feature': <'$(rep f 257)'>}"
bad "search with a control character" $E.InvalidArgs ovt-alice ListSecrets acme "{'search': <'a\\u0001'>}"
bad "ListTypes feature of 257 bytes" $E.InvalidArgs ovt-alice ListTypes "$(rep f 257)"
got=$(ov_error_full ovt-alice ListSecrets acme "{'search': <'$(rep s 256)'>}")
assert_eq "search of 256 bytes is accepted" "$got" ""

# --- The wrong signature is refused by the bus layer ---
before=$(ov_state_hash)
out=$(as ovt-bob busctl --address="$OV_BUS" call io.orgvault.Vault1 /io/orgvault/Vault1 \
        io.orgvault.Vault1.Manager AddSecret ss acme slack-webhook 2>&1)
assert_contains "AddSecret with signature ss fails" "$out" "Call failed"
assert_eq "wrong signature: state dir unchanged" "$(ov_state_hash)" "$before"

# --- Invalid UTF-8 and NUL never reach the daemon ---
# D-Bus strings are UTF-8 without NUL: busctl (sd-bus) refuses to build such a
# message, gdbus can't parse it, and dbus-daemon drops a connection that
# sends one anyway (raw_call below writes the bytes straight to the socket).
before=$(ov_state_hash)
out=$(as ovt-bob busctl --address="$OV_BUS" call io.orgvault.Vault1 /io/orgvault/Vault1 \
        io.orgvault.Vault1.Manager AddSecret 'sssa{ss}a{sv}' acme slack-webhook $'Bad\xff\xfeName' \
        1 webhook_url "$OV_FAKE_SLACK" 0 2>&1)
check "busctl refuses to send invalid UTF-8" test $? -ne 0
hex() { printf %s "$1" | od -An -tx1 | tr -d ' \n'; }
raw_call() {    # raw_call ORG_HEX ID_HEX: GetSecret with arbitrary bytes
        as ovt-bob /usr/bin/python3 - "$OV_DIR/bus" "$1" "$2" <<'EOF'
import os, socket, struct, sys

def pad(b, n):
    return b + b"\0" * (-len(b) % n)

def string(b):
    return struct.pack("<I", len(b)) + b + b"\0"

def field(code, sig, value):
    # one (yv) header field; a signature value has a one-byte length
    head = bytes([code, 1]) + sig + b"\0"
    if sig == b"g":
        return head + bytes([len(value)]) + value + b"\0"
    return pad(head, 4) + string(value)

def message(serial, path, iface, member, dest, sig, body):
    fields = [field(1, b"o", path), field(2, b"s", iface), field(3, b"s", member), field(6, b"s", dest)]
    if sig:
        fields.append(field(8, b"g", sig))
    arr = b""
    for f in fields:
        arr = pad(arr, 8) + f
    head = b"l" + bytes([1, 0, 1]) + struct.pack("<III", len(body), serial, len(arr)) + arr
    return pad(head, 8) + body

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
s.sendall(b"\0AUTH EXTERNAL " + str(os.getuid()).encode().hex().encode() + b"\r\n")
if not s.recv(4096).startswith(b"OK"):
    print("auth-failed")
    sys.exit(0)
s.sendall(b"BEGIN\r\n")
s.sendall(message(1, b"/org/freedesktop/DBus", b"org.freedesktop.DBus", b"Hello", b"org.freedesktop.DBus", b"", b""))
body = pad(string(bytes.fromhex(sys.argv[2])), 4) + string(bytes.fromhex(sys.argv[3]))
s.sendall(message(2, b"/io/orgvault/Vault1", b"io.orgvault.Vault1.Manager", b"GetSecret",
                  b"io.orgvault.Vault1", b"ss", body))
s.settimeout(10)
data = b""
try:
    while b"io.orgvault.Vault1.Error" not in data:
        chunk = s.recv(65536)
        if not chunk:
            print("disconnected")
            sys.exit(0)
        data += chunk
    print("answered")
except socket.timeout:
    print("timeout")
EOF
}
assert_eq "raw GetSecret of a missing id is answered (the raw client works)" \
        "$(raw_call "$(hex acme)" "$(hex no-such)")" answered
assert_eq "raw GetSecret with invalid UTF-8: the bus drops the sender" \
        "$(raw_call "$(hex acme)" fffe)" disconnected
assert_eq "raw GetSecret with a NUL inside a string: the bus drops the sender" \
        "$(raw_call "$(hex acme)" "$(hex exi)00$(hex sting)")" disconnected
assert_eq "invalid UTF-8: state dir unchanged" "$(ov_state_hash)" "$before"

# --- The daemon survived all of it ---
assert_eq "the same daemon process still serves" "$(ov_daemon_pid)" "$pid"
check "and still answers" ovgdbus_quiet ovt-alice GetSecret acme existing

ov_check_daemon_stderr
ov_finish
