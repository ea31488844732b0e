# SPDX-License-Identifier: Apache-2.0
# What the benchmarks (run-bench, run-scale) share: the build, a private
# session-type bus in a scratch dir with orgvaultd D-Bus-activatable on it,
# the floor-alternating client call and the table's arithmetic. Sourced;
# expects SOURCE_ROOT and BUILD_DIR.

SECS=${BENCH_SECONDS:-3}
ROUNDS=6                 # floor and operation alternate, so both see the same load

cd "$SOURCE_ROOT"
"$SOURCE_ROOT/tools/install-deps" --with-bench
[[ -f $BUILD_DIR/build.ninja ]] || meson setup "$BUILD_DIR" -Dbenchmarks=true >/dev/null
meson configure "$BUILD_DIR" -Dbenchmarks=true >/dev/null
ninja -C "$BUILD_DIR" src/orgvaultd tests/bench/bench-client >/dev/null
CLIENT=$BUILD_DIR/tests/bench/bench-client

# The shared harness (tests/integration/lib.sh) for its helpers. The bench
# has no test users, so lib.sh need not stage copies of the programs: the
# build dir stands for the staging dir.
OV_IDLE=0
OV_STAGE=$BUILD_DIR
# shellcheck source=../integration/lib.sh
source "$SOURCE_ROOT/tests/integration/lib.sh"
ORGVAULTD=$BUILD_DIR/src/orgvaultd
# The daemon as installed runs it: no audit file unless asked.
ov_daemon_cmd() {
        # No trailing space: dbus-daemon would pass an empty argument.
        echo "$ORGVAULTD --bus-address=unix:path=$OV_DIR/bus --state-dir=$OV_DIR/state" \
             "--config-dir=$OV_DIR/config --data-dir=$SOURCE_ROOT/policy --runtime-dir=$OV_DIR/run" \
             "--idle-timeout=0 --keyring-timeout=0${BENCH_AUDIT_LOG:+ --audit-log=$OV_DIR/audit.jsonl}"
}
# lib.sh's pgrep pipeline fails under pipefail when no daemon runs.
stop_daemon() { ov_stop_daemon || true; }
GK_PID=
# Not ov_teardown: under set -e its pgrep pipeline would end the trap early.
bench_teardown() {
        set +e
        [[ -n $GK_PID ]] && kill "$GK_PID" 2>/dev/null
        GK_PID=
        [[ -n $OV_DIR ]] || return 0
        stop_daemon
        [[ -n $OV_BUS_PID ]] && kill "$OV_BUS_PID" 2>/dev/null
        OV_BUS_PID=
        if [[ -n ${BENCH_KEEP:-} ]]; then echo "scratch dir kept: $OV_DIR" >&2; else rm -rf "$OV_DIR"; fi
        OV_DIR=
}
# Like ov_setup, in a scratch dir of the bench's own name (other sessions
# clean up /tmp/ovtest.* behind running tests), without test users.
# BENCH_TMPDIR (default /tmp): where the scratch dir goes.
bench_setup() {
        OV_DIR=$(mktemp -d "${BENCH_TMPDIR:-/tmp}/ovbench.XXXXXX")
        chmod 0755 "$OV_DIR"
        mkdir -p "$OV_DIR/state" "$OV_DIR/config/orgs.d" "$OV_DIR/run" "$OV_DIR/services"
        ov_write_bus_conf
        OV_BUS_PID=$(dbus-daemon --config-file="$OV_DIR/bus.conf" --fork --print-pid 2>"$OV_DIR/dbus.log")
        OV_BUS="unix:path=$OV_DIR/bus"
        local i
        for i in $(seq 50); do [[ -S $OV_DIR/bus ]] && break; sleep 0.1; done
        trap bench_teardown EXIT
        RESULTS=$OV_DIR/results
        : >"$RESULTS"
}
# bench_org NAME: an org whose admin and consumer (feature "alerts": the
# Slack webhooks the bench adds) is root, the bench.
bench_org() {
        cat >"$OV_DIR/config/orgs.d/$1.json" <<EOF
{
  "org": "$1",
  "members":   { "users": [], "groups": [], "uids": [0], "gids": [] },
  "admins":    { "users": [], "groups": [], "uids": [0], "gids": [] },
  "consumers": [ { "name": "bench", "units": [], "users": [], "uids": [0], "features": ["alerts"] } ]
}
EOF
}
# BENCH_DEBUG=1: the daemon's stderr into the scratch dir (through sh, which
# adds a fork+exec to activation).
bench_service_file() {
        ov_write_service_file
        if [[ -n ${BENCH_DEBUG:-} ]]; then
                printf '[D-BUS Service]\nName=io.orgvault.Vault1\nExec=/bin/sh -c "exec %s 2>>%s"\n' \
                        "$(ov_daemon_cmd)" "$OV_DIR/daemon.stderr" >"$OV_DIR/services/io.orgvault.Vault1.service"
        fi
}

log() { printf '%s\n' "$*" >&2; }
# client LABEL DEPTH OP ARGS...: one pipelined measurement recorded as LABEL,
# alternating with Peer.Ping to the same daemon (recorded as floor-LABEL).
client() {
        local label=$1 depth=$2; shift 2
        "$CLIENT" --address="$OV_BUS" --depth="$depth" --seconds="$SECS" --warmup=0.3 --label="$label" \
                --floor=ping --rounds="$ROUNDS" "$@" >>"$RESULTS" || log "$label (depth $depth) had failures"
}
# add_client LABEL DEPTH COUNT ORG START: COUNT durable adds alternating with
# the write+fsync+rename+dir-fsync loop in a fresh dir beside the state dir.
add_client() {
        local label=$1 d=$2 count=$3 org=$4 start=$5
        rm -rf "$OV_DIR/floor" && mkdir "$OV_DIR/floor"
        "$CLIENT" --address="$OV_BUS" --depth="$d" --count="$count" --label="$label" \
                --floor=fsync:"$OV_DIR/floor" --rounds="$ROUNDS" ov-add "$org" "$start" \
                >>"$RESULTS" || log "$label (depth $d) had failures"
        rm -rf "$OV_DIR/floor"
}
daemon_rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# The state dir for the next daemon: hard links to a prepared one, so each
# record keeps the stamp (inode, size, mtime) its org index holds and a
# load takes it from the index, as on a running installation (a copy would
# make every load parse every record). The daemon never writes a file in
# place (temp file + rename), so the prepared dir stays as it was.
use_state() {
        stop_daemon
        rm -rf "$OV_DIR/state"
        cp -al "$OV_DIR/$1" "$OV_DIR/state"
}

# The results as RATE/P50/P99[op/depth].
declare -A RATE P50 P99
read_results() {
        local op depth rate p50 p99 k
        while read -r _ op depth _ _ _ rate p50 p99; do
                k="${op#op=}/${depth#depth=}"
                RATE[$k]=${rate#rate=}; P50[$k]=${p50#p50=}; P99[$k]=${p99#p99=}
        done <"$RESULTS"
}
# Median and max of the activation trials labelled $1, in ms.
act_stats() {
        grep "op=$1 " "$RESULTS" | sed 's/.*p50=\([0-9]*\).*/\1/' | sort -n |
                awk '{ v[NR] = $1 } END { printf "%.1f %.1f", v[int((NR + 1) / 2)] / 1000, v[NR] / 1000 }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
met() { awk -v r="$1" -v t="$2" -v dir="$3" 'BEGIN { ok = dir == "ge" ? r >= t : r <= t; print ok ? "yes" : "NO" }'; }
fmt() { [[ -n ${RATE[$1]:-} ]] && printf '%9.0f %8.0f %8.0f' "${RATE[$1]}" "${P50[$1]}" "${P99[$1]}" || printf '%9s %8s %8s' - - -; }
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

BENCH_HDR='%-34s %5s | %9s %8s %8s | %-17s %9s | %6s %-7s %-4s | %9s %8s %8s\n'
bench_header() {
        printf "$BENCH_HDR" "operation" "depth" "calls/s" "p50 µs" "p99 µs" "floor" "floor/s" "ratio" "target" "met?" \
                "gk call/s" "gk p50" "gk p99"
        printf '%s\n' "$(printf '%.0s-' $(seq 150))"
}
row() {   # NAME DEPTH KEY FLOORNAME FLOORKEY TARGET(e.g. ge:0.85) GKKEY
        local name=$1 d=$2 key=$3/$2 fname=$4 fkey=$5/$2 target=$6 gk=${7:-}
        local r=- t=- m=-
        [[ -n ${RATE[$key]:-} && -n ${RATE[$fkey]:-} ]] && r=$(ratio "${RATE[$key]}" "${RATE[$fkey]}")
        if [[ $target != - ]]; then
                t="≥${target#ge:}×"
                [[ $r != - ]] && m=$(met "$r" "${target#ge:}" ge)
        fi
        printf '%-34s %5s | %s | %-17s %9.0f | %6s %-7s %-4s | %s\n' "$name" "$d" "$(fmt "$key")" \
                "$fname" "${RATE[$fkey]:-0}" "$r" "$t" "$m" "$( [[ -n $gk ]] && fmt "$gk/$d" || fmt none)"
}
# A row of one figure: NAME DEPTH TEXT FLOORNAME FLOORTEXT RATIO TARGET MET [NOTE]
figure_row() {
        printf '%-34s %5s | %27s | %-17s %9s | %6s %-7s %-4s | %s\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" "$8" "${9:-}"
}

# gnome-keyring-daemon on the same bus (Secret Service API), its keyring
# filled with $1 items through CreateItem.
GK_PASSWORD=bench-not-a-secret
start_gnome_keyring() {
        GK_DIR=$OV_DIR/gk
        mkdir -p "$GK_DIR/home" "$GK_DIR/data" "$GK_DIR/run"
        chmod 0700 "$GK_DIR/run"
        printf '%s' "$GK_PASSWORD" |
                env DBUS_SESSION_BUS_ADDRESS="$OV_BUS" HOME="$GK_DIR/home" XDG_DATA_HOME="$GK_DIR/data" \
                XDG_RUNTIME_DIR="$GK_DIR/run" gnome-keyring-daemon --unlock --foreground --components=secrets \
                >"$GK_DIR/log" 2>&1 &
        GK_PID=$!
        for _ in $(seq 50); do
                busctl --address="$OV_BUS" status org.freedesktop.secrets >/dev/null 2>&1 && break
                sleep 0.1
        done
        "$CLIENT" --address="$OV_BUS" --depth=16 --count="$1" --label=gk-populate gk-create 0 >>"$RESULTS"
}
