#!/usr/bin/env bash
# Measure GlusterFS's own geo-replication daemon (the Python gsyncd of the installed GlusterFS, 10.3 here) doing a first
# sync of a FILES-file tree from the testbed's mvol to its svol, GeoSync doing the same first sync (a session from
# gluster://mvol to gluster://svol, one turn), and `rsync -a` of the same tree between two fresh normal mounts, one
# after the other on the same tree. Prints the times and the ratios. Run as root, testbed up, GeoSync built:
#
#   bash tests/bench/Measure-Gsyncd.sh
#
# How gsyncd runs here (no glusterd geo-replication session, nothing in /var/lib/glusterd):
#   - a throw-away sshd (tests/fixtures/sshd/sshd-fixture.sh) is started INSIDE the testbed's network namespace, on that
#     namespace's 127.0.0.1, so that the secondary gsyncd it spawns can mount svol from `localhost` as gsyncd does;
#   - ONE gsyncd worker is started directly, as gsyncd's monitor would start it (`unshare -m --propagation private
#     gsyncd worker ...`), inside the namespace, with a private config file: change_detector xsync (hybrid crawl, so no
#     changelog and no volume option is needed), its own working dir, state, pid and log files, the fixture's ssh key,
#     port and known_hosts, and a remote gsyncd that is a wrapper running the real gsyncd with a private secondary config
#     (so the secondary's logs and aux mount land in the private directory too);
#   - the clock runs from the worker's start until svol holds all files with the same content (gsyncd's log line
#     "finished hybrid crawl" is the cue; svol is then checked through a fresh mount, and polled if still incomplete).
#
# Everything it starts or writes is undone on exit, also on failure or timeout (trap): processes by PID (the worker,
# the secondary gsyncd, ssh, rsync and glusterfs clients are found by the private directory in their command line or
# environment, or as descendants of the fixture's sshd), its mounts, the trees in mvol and svol, xattrs that appeared or
# changed on the brick roots (stime, entry_stime, volume-mark; the marker's own xtime on mvol's root is left as the
# writes made it), the sshd and the private directory.
#
# Environment: FILES (10000), DIRS (100), FILE_SIZE (4096), SYNC_JOBS (3, gsyncd's default), TIMEOUT (900 s, hard),
# KEEP_LOGS (a directory to copy gsyncd's logs into; default: not kept), TESTBED_ENV (/var/tmp/geosync-testbed/env).
set -euo pipefail

FILES=${FILES:-10000}
DIRS=${DIRS:-100}
FILE_SIZE=${FILE_SIZE:-4096}
SYNC_JOBS=${SYNC_JOBS:-3}
TIMEOUT=${TIMEOUT:-900}
KEEP_LOGS=${KEEP_LOGS:-}
# true: the secondary gsyncd keeps its svol aux mount attached (gsyncd's own secondary-access-mount option). Needed
# with Debian 12's rsync 3.5.0+ds1-0+deb12u1: its receiver resolves the destination /proc/<pid>/cwd component by
# component and, for a lazily unmounted mount (gsyncd's default), the link reads "/", so rsync lands in the host's root,
# finds no .gfid there and, with --existing, copies nothing: every file arrives empty. false reproduces that.
SECONDARY_ACCESS_MOUNT=${SECONDARY_ACCESS_MOUNT:-true}
TESTBED_ENV=${TESTBED_ENV:-/var/tmp/geosync-testbed/env}
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SSHD_FIXTURE=$HERE/../fixtures/sshd/sshd-fixture.sh
REPO=$(cd "$HERE/../.." && pwd)
TOP=gsyncd-bench-$$
RSYNC_TOP=gsyncd-bench-rsync-$$
T_SCRIPT0=$EPOCHREALTIME

log() { printf '[%6.1f s] %s\n' "$(echo "$EPOCHREALTIME - $T_SCRIPT0" | bc)" "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "must run as root"
[ -r "$TESTBED_ENV" ] || die "no testbed env file $TESTBED_ENV (is the testbed up?)"
# shellcheck disable=SC1090
source "$TESTBED_ENV"
for tool in nsenter unshare glusterfs rsync getfattr setfattr md5sum bc ssh; do
    command -v "$tool" >/dev/null || die "$tool is missing"
done
[ -x "$GEOSYNC_TB_GSYNCD" ] || die "no gsyncd at $GEOSYNC_TB_GSYNCD"
[ -r "$REPO/out/GeoSync/GeoSync.psd1" ] || die "GeoSync is not built; run bash build.sh first"
[[ $FILES =~ ^[0-9]+$ && $DIRS =~ ^[0-9]+$ && $FILE_SIZE =~ ^[0-9]+$ && $FILE_SIZE -ge 16 ]] || die "bad FILES/DIRS/FILE_SIZE"

NS="nsenter --net=$GEOSYNC_TB_NETNS_PATH"
MBRICK=$GEOSYNC_TB_MVOL_BRICK
SBRICK=$GEOSYNC_TB_SVOL_BRICK
# Short: ssh's ControlPath (TMPDIR/gsyncd-aux-ssh-XXXXXXXX/<32 hex>.sock plus ssh's own suffix) must fit in 108 bytes.
WORK=$(mktemp -d /tmp/gsb.XXXXXX)
MNT_PREFIX=$GEOSYNC_TB_MOUNT_DIR/gsb-$$
WATCHDOG=""
WORKER_PID=""
SSHD_HOME=""
SSHD_PID=""
BG_PID=""
STATUS=1

# ---- processes -------------------------------------------------------------------------------------------------------

descendants() { # all descendants of $1, deepest last
    local kid
    for kid in $(ps -o pid= --ppid "$1" 2>/dev/null); do
        echo "$kid"
        descendants "$kid"
    done
}

# Processes of gsyncd's that are ours by construction: the worker and the secondary gsyncd (started by
# bin/gsyncd-secondary) and everything they spawn carry GSB_WORK=$WORK in their environment (the script itself does
# not); the glusterfs clients of gsyncd's aux mounts (they daemonize) have --log-file=$WORK/log/... in their command
# line. The benchmark's own normal mounts log to $WORK/mlog instead and are found by ours_mounts.
ours() { ours_matching "$WORK/log/"; }
ours_mounts() { ours_matching "$WORK/mlog/"; }
ours_matching() {
    local p comm
    for p in /proc/[0-9]*; do
        p=${p#/proc/}
        comm=$(cat "/proc/$p/comm" 2>/dev/null) || continue
        if [[ $comm == glusterfs* ]]; then
            { tr '\0' '\n' <"/proc/$p/cmdline"; } 2>/dev/null | grep -qF -- "--log-file=$1" && echo "$p"
        elif [ "$1" = "$WORK/log/" ]; then
            { tr '\0' '\n' <"/proc/$p/environ"; } 2>/dev/null | grep -qxF -- "GSB_WORK=$WORK" && echo "$p"
        fi
    done
    return 0
}

kill_pids() { # signal, pids...
    local sig=$1 p
    shift
    for p in "$@"; do kill "-$sig" "$p" 2>/dev/null || true; done
}

wait_gone() { # seconds, pids...
    local limit=$1 p alive i
    shift
    for ((i = 0; i < limit * 10; i++)); do
        alive=0
        for p in "$@"; do [ -d "/proc/$p" ] && ! grep -q '^State:\s*Z' "/proc/$p/status" 2>/dev/null && alive=1; done
        [ "$alive" -eq 0 ] && return 0
        sleep 0.1
    done
    return 1
}

# Runs a command in the background and waits, so that a signal (the watchdog) interrupts the wait at once.
bg() {
    "$@" &
    BG_PID=$!
    local rc=0
    wait "$BG_PID" || rc=$?
    BG_PID=""
    return "$rc"
}

# md5 of the sorted md5sums of every file under $1, paths relative to $1.
tree_sum() {
    timeout 300 bash -c 'cd "$1" && find . -type f -print0 | sort -z | xargs -0 md5sum | md5sum | cut -d" " -f1' _ "$1"
}

# ---- mounts ----------------------------------------------------------------------------------------------------------

mount_vol() { # volume mountpoint
    mkdir -p "$2"
    mkdir -p "$WORK/mlog"
    $NS glusterfs --volfile-server="$GEOSYNC_TB_SERVER" --volfile-id="$1" --log-file="$WORK/mlog/$(basename "$2").log" "$2" ||
        { log "mounting $1 on $2 failed"; return 1; }
    local i
    for ((i = 0; i < 100; i++)); do
        grep -q " $2 fuse" /proc/mounts && stat "$2/." >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    log "$1 did not come up on $2"
    return 1
}

umount_vol() {
    if grep -q " $1 fuse" /proc/mounts; then timeout 30 umount -l "$1" 2>/dev/null || true; fi
    rmdir "$1" 2>/dev/null || true
}

# ---- brick root xattrs -----------------------------------------------------------------------------------------------

snapshot_xattrs() { # brick file
    getfattr -d -m . -e hex --absolute-names "$1" 2>/dev/null | grep '=' | sort >"$2"
}

# Removes keys that appeared and restores keys that changed, except those normal I/O maintains: trusted.glusterfs.mdata
# and, on mvol, the marker's xtime (trusted.glusterfs.<mvol id>.xtime), which the writes legitimately moved forward.
restore_xattrs() { # brick before-file label
    local brick=$1 before=$2 label=$3 after key val old
    after=$WORK/xattrs-after-$label
    snapshot_xattrs "$brick" "$after"
    while IFS= read -r line; do
        key=${line%%=*}
        val=${line#*=}
        case $key in
            trusted.glusterfs.mdata | "trusted.glusterfs.$GEOSYNC_TB_MVOL_ID.xtime") [ "$label" = mvol ] && continue ;;
        esac
        [ "$key" = trusted.glusterfs.mdata ] && continue
        old=$(grep -m1 "^$key=" "$before" | cut -d= -f2- || true)
        if [ -z "$old" ]; then
            setfattr -x "$key" "$brick" && log "removed $key from the $label brick root (added during the run)"
        elif [ "$old" != "$val" ]; then
            setfattr -n "$key" -v "$old" "$brick" && log "restored $key on the $label brick root ($val -> $old)"
        fi
    done <"$after"
    while IFS= read -r line; do
        key=${line%%=*}
        grep -q "^$key=" "$after" || log "WARNING: $key disappeared from the $label brick root during the run"
    done <"$before"
}

# ---- cleanup ---------------------------------------------------------------------------------------------------------

cleanup() {
    local rc=$?
    [ "$STATUS" -eq 0 ] || [ "$rc" -ne 0 ] || rc=1
    trap - EXIT TERM INT HUP
    set +e
    log "cleaning up"
    # shellcheck disable=SC2046 # pid lists split on purpose
    [ -n "$BG_PID" ] && { kill_pids TERM "$BG_PID" $(descendants "$BG_PID"); wait_gone 5 "$BG_PID"; }
    if [ -n "$WATCHDOG" ]; then
        # shellcheck disable=SC2046
        kill_pids TERM $(descendants "$WATCHDOG") "$WATCHDOG"
    fi
    # The worker first: on SIGTERM gsyncd finalizes (unmounts its aux mount, removes its ssh control dir); its ssh
    # master then ends, and with it the secondary gsyncd, which unmounted its svol aux mount lazily at start.
    if [ -n "$WORKER_PID" ]; then
        kill_pids TERM "$WORKER_PID"
        wait_gone 15 "$WORKER_PID" || { log "worker $WORKER_PID still alive; SIGKILL"; kill_pids KILL "$WORKER_PID"; }
    fi
    local left
    left=$(ours)
    if [ -n "$left" ]; then
        # shellcheck disable=SC2086
        wait_gone 15 $left || true
        left=$(ours)
        if [ -n "$left" ]; then
            log "terminating leftover processes: $(for p in $left; do printf '%s(%s) ' "$p" "$(cat /proc/$p/comm 2>/dev/null)"; done)"
            # shellcheck disable=SC2086
            kill_pids TERM $left
            # shellcheck disable=SC2086
            wait_gone 10 $left || kill_pids KILL $left
        fi
    fi
    if [ -n "$SSHD_PID" ]; then
        local sess
        sess=$(descendants "$SSHD_PID")
        # shellcheck disable=SC2086
        [ -n "$sess" ] && { kill_pids TERM $sess; wait_gone 5 $sess || kill_pids KILL $sess; }
    fi
    # Mounts of ours still in the host's mount table (aux mounts under WORK, normal mounts under MNT_PREFIX).
    local m
    for m in $(awk '$3 ~ /^fuse/ {print $2}' /proc/mounts | grep -E "^($WORK/|$MNT_PREFIX-)"); do
        log "unmounting leftover $m"
        timeout 30 umount -l "$m"
    done
    # The trees: through fresh normal mounts.
    if [ "${TREES_WRITTEN:-0}" -eq 1 ]; then
        mount_vol "$GEOSYNC_TB_MVOL" "$MNT_PREFIX-clean-m" &&
            timeout 300 rm -rf --one-file-system "$MNT_PREFIX-clean-m/$TOP"
        mount_vol "$GEOSYNC_TB_SVOL" "$MNT_PREFIX-clean-s" &&
            timeout 300 rm -rf --one-file-system "$MNT_PREFIX-clean-s/$TOP" "$MNT_PREFIX-clean-s/$RSYNC_TOP"
        local v
        for v in "$MNT_PREFIX-clean-m/$TOP" "$MNT_PREFIX-clean-s/$TOP" "$MNT_PREFIX-clean-s/$RSYNC_TOP"; do
            [ -e "$v" ] && log "WARNING: $v still exists after rm -rf"
        done
        umount_vol "$MNT_PREFIX-clean-m"
        umount_vol "$MNT_PREFIX-clean-s"
    fi
    for m in "$MNT_PREFIX"-*; do [ -d "$m" ] && umount_vol "$m"; done
    left=$(ours_mounts)
    # shellcheck disable=SC2086
    [ -n "$left" ] && { wait_gone 10 $left || { log "glusterfs clients of unmounted normal mounts still alive: $left; SIGTERM"; kill_pids TERM $left; }; }
    [ -s "$WORK/xattrs-before-mvol" ] && restore_xattrs "$MBRICK" "$WORK/xattrs-before-mvol" mvol
    [ -s "$WORK/xattrs-before-svol" ] && restore_xattrs "$SBRICK" "$WORK/xattrs-before-svol" svol
    [ -n "$SSHD_HOME" ] && bash "$SSHD_FIXTURE" stop "$SSHD_HOME" 2>/dev/null
    if [ -n "$KEEP_LOGS" ] && [ -d "$WORK/log" ]; then
        mkdir -p "$KEEP_LOGS" && cp -r "$WORK/log/." "$KEEP_LOGS/" && log "logs kept in $KEEP_LOGS"
    fi
    if awk '{print $2}' /proc/mounts | grep -q "^$WORK/"; then
        log "WARNING: something is still mounted under $WORK; leaving it"
    else
        rm -rf --one-file-system "$WORK"
    fi
    left=$(ours)
    [ -n "$left" ] && log "WARNING: processes still running: $left"
    log "cleanup done (exit $rc)"
    exit "$rc"
}
trap cleanup EXIT
trap 'log "signal received"; exit 143' TERM INT HUP
# The watchdog: SIGTERM to the script (its trap cleans up); if the script is stuck in a foreground command and has not
# started its cleanup (which kills the watchdog first) 10 s later, it ends the script's other children so the trap runs.
{
    sleep "$TIMEOUT"
    echo "Measure-Gsyncd: hard timeout of $TIMEOUT s reached" >&2
    kill -TERM $$
    sleep 10
    me=$BASHPID
    for p in $(descendants $$); do
        [ "$p" = "$me" ] || [ "$(ps -o ppid= -p "$p" | tr -d ' ')" = "$me" ] || kill -TERM "$p" 2>/dev/null
    done
} &
WATCHDOG=$!

mkdir -p "$WORK/log" "$WORK/mlog" "$WORK/state" "$WORK/bin"

# ---- preconditions ---------------------------------------------------------------------------------------------------

bash "$HERE/../testbed/testbed.sh" status >/dev/null 2>&1 || die "testbed status fails; bring it up first (tests/testbed/testbed.sh up)"
for b in "$MBRICK" "$SBRICK"; do
    # shellcheck disable=SC2010 # names shown in the error only
    extra=$(ls -A "$b" | grep -vxE '\.glusterfs|\.trashcan' || true)
    [ -z "$extra" ] || die "$b holds $(echo "$extra" | tr '\n' ' '); gsyncd would replicate all of mvol, so both volumes must be empty"
done
NODE_UUID=$($GEOSYNC_TB_GLUSTER system:: uuid get | awk '/UUID/ {print $2}')
[[ $NODE_UUID =~ ^[0-9a-f-]{36}$ ]] || die "cannot read glusterd's node UUID (got '$NODE_UUID')"
snapshot_xattrs "$MBRICK" "$WORK/xattrs-before-mvol"
snapshot_xattrs "$SBRICK" "$WORK/xattrs-before-svol"
GSYNCD_VERSION=$("$GEOSYNC_TB_GSYNCD" --version)
GLUSTER_VERSION=$(glusterfs --version | head -1)
log "$GLUSTER_VERSION; $GSYNCD_VERSION; $(rsync --version | head -1); $(python3 --version); nproc $(nproc); load $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- 1. the tree -----------------------------------------------------------------------------------------------------

TREES_WRITTEN=1
mount_vol "$GEOSYNC_TB_MVOL" "$MNT_PREFIX-w" || die "cannot mount mvol"
printf -v PAD '%*s' $((FILE_SIZE - 16)) ''
PAD=${PAD// /x}
t0=$EPOCHREALTIME
mkdir "$MNT_PREFIX-w/$TOP"
per_dir=$(((FILES + DIRS - 1) / DIRS))
n=0
for ((d = 0; d < DIRS && n < FILES; d++)); do
    dir=$MNT_PREFIX-w/$TOP/d$(printf '%03d' "$d")
    mkdir "$dir"
    for ((f = 0; f < per_dir && n < FILES; f++, n++)); do
        printf '%s%015d\n' "$PAD" "$n" >"$dir/f$(printf '%04d' "$f")"
    done
done
T_WRITE=$(echo "$EPOCHREALTIME - $t0" | bc)
log "wrote $n files of $FILE_SIZE bytes in $DIRS directories under mvol:/$TOP in $T_WRITE s"
MVOL_SUM=$(tree_sum "$MNT_PREFIX-w/$TOP")
umount_vol "$MNT_PREFIX-w"

# ---- 2. the real gsyncd ----------------------------------------------------------------------------------------------

# sshd inside the namespace, on its 127.0.0.1 (lo is up there already: the testbed brings it up).
fixture_env=$(GEOSYNC_SSHD_DIR=$WORK $NS bash "$SSHD_FIXTURE" start 2>"$WORK/log/sshd-fixture.err") ||
    die "sshd fixture failed: $(cat "$WORK/log/sshd-fixture.err")"
eval "$fixture_env"
SSHD_HOME=$GEOSYNC_SSHD_HOME
SSHD_PID=$GEOSYNC_SSHD_PID
log "sshd $SSHD_PID on 127.0.0.1:$GEOSYNC_SSHD_PORT inside netns $GEOSYNC_TB_NETNS"

cat >"$WORK/bin/gsyncd-secondary" <<EOF
#!/bin/sh
# Remote gsyncd for the benchmark: the real gsyncd, with a private config for the secondary's logs and aux mount.
export TMPDIR=$WORK GSB_WORK=$WORK
exec $GEOSYNC_TB_GSYNCD "\$@" -c $WORK/secondary.conf
EOF
chmod 0755 "$WORK/bin/gsyncd-secondary"

# Settings every template in /etc/glusterfs/gsyncd.conf derives paths from, pointed into WORK.
common_vars="gluster-logdir = $WORK/log
gluster-rundir = $WORK/state
glusterd-workdir = $WORK/state/glusterd
gsyncd-miscdir = $WORK/state/misc
cli-log-file = $WORK/log/cli.log
pid-file = $WORK/state/gsyncd.pid
state-file = $WORK/state/monitor.status
georep-session-working-dir = $WORK/state/session/
working-dir = $WORK/state/work/"
cat >"$WORK/secondary.conf" <<EOF
[vars]
$common_vars
log-file = $WORK/log/secondary-gsyncd.log
secondary-log-file = $WORK/log/secondary-gsyncd.log
secondary-gluster-log-file = $WORK/log/secondary-mnt.log
secondary-gluster-log-file-mbr = $WORK/log/secondary-mnt-mbr.log
EOF
cat >"$WORK/gsyncd.conf" <<EOF
[vars]
$common_vars
change-detector = xsync
sync-method = rsync
sync-jobs = $SYNC_JOBS
use-meta-volume = false
log-file = $WORK/log/gsyncd.log
gluster-log-file = $WORK/log/primary-mnt.log
changelog-log-file = $WORK/log/changes.log
ssh-command = ssh
ssh-port = $GEOSYNC_SSHD_PORT
ssh-options = -F none -i $GEOSYNC_SSHD_CLIENT_KEY -oIdentitiesOnly=yes -oUserKnownHostsFile=$GEOSYNC_SSHD_KNOWN_HOSTS -oStrictHostKeyChecking=yes -oBatchMode=yes -oPasswordAuthentication=no
ssh-options-tar = -F none -i $GEOSYNC_SSHD_CLIENT_KEY -oIdentitiesOnly=yes -oUserKnownHostsFile=$GEOSYNC_SSHD_KNOWN_HOSTS -oStrictHostKeyChecking=yes -oBatchMode=yes
remote-gsyncd = $WORK/bin/gsyncd-secondary
secondary-access-mount = $SECONDARY_ACCESS_MOUNT
EOF

# The worker as gsyncd's monitor starts it (monitor.py: unshare -m --propagation private ... worker ...), in the namespace.
worker_argv=("$GEOSYNC_TB_GSYNCD" worker "$GEOSYNC_TB_MVOL" "root@127.0.0.1::$GEOSYNC_TB_SVOL"
    --feedback-fd 7 --local-path "$MBRICK" --local-node 127.0.0.1 --local-node-id "$NODE_UUID"
    --secondary-id "$GEOSYNC_TB_SVOL_ID" --subvol-num 1 --resource-remote 127.0.0.1 --resource-remote-id "$NODE_UUID"
    -c "$WORK/gsyncd.conf")
echo "GSB_WORK=$WORK TMPDIR=$WORK $NS unshare -m --propagation private ${worker_argv[*]} 7>$WORK/state/feedback" >"$WORK/log/worker-cmdline"
T_G0=$EPOCHREALTIME
GSB_WORK=$WORK TMPDIR=$WORK $NS unshare -m --propagation private "${worker_argv[@]}" 7>"$WORK/state/feedback" \
    >"$WORK/log/worker.out" 2>&1 &
WORKER_PID=$!
log "gsyncd worker started, pid $WORKER_PID ($(tr '\0' ' ' <"/proc/$WORKER_PID/cmdline" 2>/dev/null | cut -c1-80)...)"

T_CONNECTED="" T_CRAWL_DONE=""
while :; do
    if ! kill -0 "$WORKER_PID" 2>/dev/null; then
        log "gsyncd worker exited early; its log:"
        tail -n 40 "$WORK/log/gsyncd.log" "$WORK/log/worker.out" "$WORK/log/secondary-gsyncd.log" >&2 2>/dev/null
        die "gsyncd worker died before finishing the crawl"
    fi
    if [ -z "$T_CONNECTED" ] && grep -q 'Worker spawn successful' "$WORK/log/gsyncd.log" 2>/dev/null; then
        T_CONNECTED=$(echo "$EPOCHREALTIME - $T_G0" | bc)
        log "worker connected (ssh + secondary mount + primary aux mount) after $T_CONNECTED s"
    fi
    if grep -q 'finished hybrid crawl' "$WORK/log/gsyncd.log" 2>/dev/null; then
        T_CRAWL_DONE=$(echo "$EPOCHREALTIME - $T_G0" | bc)
        log "gsyncd logged 'finished hybrid crawl' after $T_CRAWL_DONE s"
        break
    fi
    sleep 0.25
done

# Is svol complete? Count through a fresh mount; poll while it is not (should not be needed).
mount_vol "$GEOSYNC_TB_SVOL" "$MNT_PREFIX-s" || die "cannot mount svol"
while :; do
    got=$(cd "$MNT_PREFIX-s" && timeout 120 find "$TOP" -type f 2>/dev/null | wc -l)
    [ "$got" -ge "$FILES" ] && break
    kill -0 "$WORKER_PID" 2>/dev/null || die "gsyncd worker exited with svol holding $got of $FILES files"
    log "svol holds $got of $FILES files; polling"
    sleep 2
done
T_GSYNCD=$(echo "$EPOCHREALTIME - $T_G0" | bc)
[ "$got" -eq "$FILES" ] || die "svol holds $got files, expected $FILES"
SVOL_SUM=$(tree_sum "$MNT_PREFIX-s/$TOP")
if [ "$SVOL_SUM" != "$MVOL_SUM" ]; then
    log "svol's copy differs; a sample (svol, then mvol's brick):"
    (cd "$MNT_PREFIX-s/$TOP" && find . -type f | sort | head -n 5 | xargs stat -c '%n %s %y' | sed 's/^/    svol: /') >&2
    (cd "$MBRICK/$TOP" && find . -type f | sort | head -n 5 | xargs stat -c '%n %s %y' | sed 's/^/    mvol: /') >&2
    [ -n "${PAUSE_ON_FAIL:-}" ] && { log "PAUSE_ON_FAIL: sleeping $PAUSE_ON_FAIL s (WORK=$WORK)"; sleep "$PAUSE_ON_FAIL"; }
    die "svol's copy differs from mvol's tree (md5 of md5sums $SVOL_SUM vs $MVOL_SUM)"
fi
log "svol holds all $FILES files, identical content (checked after $T_GSYNCD s)"
umount_vol "$MNT_PREFIX-s"

# What gsyncd logged.
GLOG=$WORK/log/gsyncd.log
RSYNC_RUNS=$(grep -c 'Sync Time Taken' "$GLOG" || true)
RSYNC_FILES=$( (grep -o 'num_files=[0-9]*' "$GLOG" || echo '=0') | cut -d= -f2 | paste -sd+ | bc)
RSYNC_SECS=$( (grep -o 'Sync Time Taken.*duration=[0-9.]*' "$GLOG" || echo '=0') | grep -o '=[0-9.]*$' | cut -d= -f2 | paste -sd+ | bc)
XSYNC_CHANGELOGS=$(grep -c 'processing xsync changelog' "$GLOG" || true)
ERRORS=$( (grep -h ' E \[' "$GLOG" "$WORK/log/secondary-gsyncd.log" 2>/dev/null || true) | wc -l)
WARNINGS=$( (grep -h ' W \[' "$GLOG" "$WORK/log/secondary-gsyncd.log" 2>/dev/null || true) | wc -l)
log "gsyncd log excerpts:"
grep -E 'starting hybrid crawl|finished hybrid crawl|Batch Completed|Entry Time Taken|Data/Metadata Time Taken|Worker spawn|SSH connection|Mounted gluster|Register time|Working dir| E \[| W \[' "$GLOG" |
    head -n 40 | sed 's/^/    /' >&2

# Stop gsyncd now, so that its idle crawls do not load the rsync run below.
kill_pids TERM "$WORKER_PID"
wait_gone 15 "$WORKER_PID" || kill_pids KILL "$WORKER_PID"
WORKER_PID=""
left=$(ours)
# shellcheck disable=SC2086
[ -z "$left" ] || wait_gone 15 $left || log "still running after the worker stopped: $left (cleanup will end them)"

# ---- 2b. GeoSync, the same first sync --------------------------------------------------------------------------------

# gsyncd's copy goes first, so that GeoSync starts from an empty svol as gsyncd did. GeoSync's session (master aux
# mount, in-process gluster slave with its own aux mount of svol, rsync between the two) is timed from open to the end of
# its first turn; its glusterfs clients log under WORK/log, so the cleanup finds them like gsyncd's.
mount_vol "$GEOSYNC_TB_SVOL" "$MNT_PREFIX-gs" || die "cannot mount svol"
timeout 300 rm -rf --one-file-system "${MNT_PREFIX:?}-gs/$TOP"
cat >"$WORK/geosync.ps1" <<'PS1'
param($Module, $Server, $Master, $Slave, $Namespace, $LogDir)
$ErrorActionPreference = 'Stop'
Import-Module $Module
$clock = [Diagnostics.Stopwatch]::StartNew()
$session = Start-GeoSyncSession -Master "gluster://${Server}:$Master" -Slave "gluster://${Server}:$Slave" -NetworkNamespace $Namespace -GlusterLogDirectory $LogDir
try {
    $turn = $session | Invoke-GeoSyncCrawl -Confirm:$false
    $seconds = $clock.Elapsed.TotalSeconds
    if (-not $turn.Converged) { throw "GeoSync's first sync did not converge: $($turn.Failures.Count) failures" }
    '{0:F2} {1} {2}' -f $seconds, $turn.FilesSynced, [GeoSync.Engine.Master.SyncerOptions]::DefaultSyncJobs
}
finally { $session | Stop-GeoSyncSession -Confirm:$false }
PS1
GEOSYNC_OUT=$WORK/geosync.out
bg bash -c 'cd "$1" && dotnet pwsh -NoProfile -NonInteractive -File "$2" -Module "$1/out/GeoSync/GeoSync.psd1" -Server "$3" -Master "$4" -Slave "$5" -Namespace "$6" -LogDir "$7" >"$8"' \
    _ "$REPO" "$WORK/geosync.ps1" "$GEOSYNC_TB_SERVER" "$GEOSYNC_TB_MVOL" "$GEOSYNC_TB_SVOL" "$GEOSYNC_TB_NETNS" "$WORK/log" "$GEOSYNC_OUT" ||
    die "GeoSync's first sync failed: $(tail -n 5 "$GEOSYNC_OUT" 2>/dev/null)"
read -r T_GEOSYNC GEOSYNC_FILES GEOSYNC_JOBS < <(tail -n 1 "$GEOSYNC_OUT")
[ "$GEOSYNC_FILES" -eq "$FILES" ] || die "GeoSync synced $GEOSYNC_FILES files, expected $FILES"
GEOSYNC_SUM=$(tree_sum "$MNT_PREFIX-gs/$TOP")
[ "$GEOSYNC_SUM" = "$MVOL_SUM" ] || die "GeoSync's copy differs from mvol's tree"
log "GeoSync copied the tree in $T_GEOSYNC s (open + first turn, $GEOSYNC_JOBS sync jobs; content checked)"
timeout 300 rm -rf --one-file-system "${MNT_PREFIX:?}-gs/$TOP"
umount_vol "$MNT_PREFIX-gs"

# ---- 3. rsync -a between fresh normal mounts -------------------------------------------------------------------------

mount_vol "$GEOSYNC_TB_MVOL" "$MNT_PREFIX-rm" || die "cannot mount mvol"
mount_vol "$GEOSYNC_TB_SVOL" "$MNT_PREFIX-rs" || die "cannot mount svol"
t0=$EPOCHREALTIME
bg rsync -a "$MNT_PREFIX-rm/$TOP/" "$MNT_PREFIX-rs/$RSYNC_TOP/" || die "rsync -a failed"
T_RSYNC=$(echo "$EPOCHREALTIME - $t0" | bc)
RSYNC_SUM=$(tree_sum "$MNT_PREFIX-rs/$RSYNC_TOP")
[ "$RSYNC_SUM" = "$MVOL_SUM" ] || die "rsync's copy differs from mvol's tree"
log "rsync -a copied the tree in $T_RSYNC s (content checked)"
umount_vol "$MNT_PREFIX-rm"
umount_vol "$MNT_PREFIX-rs"

# ---- 4. table --------------------------------------------------------------------------------------------------------

RATIO=$(echo "scale=2; $T_GSYNCD / $T_RSYNC" | bc)
GEOSYNC_RATIO=$(echo "scale=2; $T_GEOSYNC / $T_RSYNC" | bc)
GEOSYNC_VS_GSYNCD=$(echo "scale=2; $T_GEOSYNC / $T_GSYNCD" | bc)
{
    echo
    echo "| $FILES files x $FILE_SIZE B in $DIRS dirs, mvol -> svol | seconds |"
    echo "|---|---|"
    printf '| gsyncd first sync (worker start -> svol complete and checked) | %.1f |\n' "$T_GSYNCD"
    printf '| - of which: worker connected (ssh, secondary, aux mounts) | %.1f |\n' "$T_CONNECTED"
    printf '| - of which: until "finished hybrid crawl" logged | %.1f |\n' "$T_CRAWL_DONE"
    printf '| rsync -a, fresh mvol mount -> fresh svol mount | %.1f |\n' "$T_RSYNC"
    printf '| GeoSync first sync (session open + first turn, content checked) | %.1f |\n' "$T_GEOSYNC"
    printf '| ratio gsyncd / rsync -a | %s |\n' "$RATIO"
    printf '| ratio GeoSync / rsync -a | %s |\n' "$GEOSYNC_RATIO"
    printf '| ratio GeoSync / gsyncd | %s |\n' "$GEOSYNC_VS_GSYNCD"
    echo
    echo "gsyncd: $GSYNCD_VERSION ($GLUSTER_VERSION), change_detector xsync, sync_jobs $SYNC_JOBS;" \
        "$RSYNC_RUNS rsync runs carrying $RSYNC_FILES names, ${RSYNC_SECS:-0} s of rsync summed over jobs;" \
        "$XSYNC_CHANGELOGS xsync changelogs; $ERRORS error and $WARNINGS warning lines in gsyncd's logs."
    echo "tree written in $T_WRITE s; load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
} | tee "$WORK/result.md"
STATUS=0
