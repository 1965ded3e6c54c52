#!/usr/bin/env bash
# GlusterFS testbed for GeoSync integration tests: a private glusterd, its bricks and its volumes inside a network
# namespace of their own, so nothing touches another glusterd on the machine or any address outside the namespace.
#
#   testbed.sh up       build (or reuse a healthy) testbed; prints the env file on stdout
#   testbed.sh status   exit 0 only when glusterd, every brick and every volume are up
#   testbed.sh down     stop what `up` started, unmount, delete the namespace, remove the testbed dir (unless KEEP=1)
#
# Progress goes to stderr, so `eval "$(testbed.sh up)"` works.
set -euo pipefail

TB_DIR=${GEOSYNC_TESTBED_DIR:-/var/tmp/geosync-testbed}
TB_NETNS=geosync-tb
# A /24 that exists only inside the namespace; nothing outside it ever routes there.
TB_NET=10.147.93
TB_SERVER=$TB_NET.2
TB_PEER=$TB_NET.3
GEO_USER=geoaccount
GEO_GROUP=geogroup
GLUSTER_PYDIR=/usr/lib/x86_64-linux-gnu/glusterfs/python/syncdaemon
GSYNCD_BIN=/usr/lib/x86_64-linux-gnu/glusterfs/gsyncd
GLUSTER_EXE=/usr/sbin/glusterfsd          # glusterd and glusterfs are symlinks to it
VOLUMES=(mvol svol dvol drvol ecvol drslave)
# Bricks of all volumes together: one brick process each (no multiplexing), so a test can kill one by its pid.
BRICK_COUNT=15

NETNS_PATH=/var/run/netns/$TB_NETNS
NSENTER=(nsenter "--net=$NETNS_PATH")
ENV_FILE=$TB_DIR/env
STATE_DIR=$TB_DIR/state                   # what `up` created, so `down` removes only that
VOLFILE=$TB_DIR/glusterd.vol
WORK_DIR=$TB_DIR/glusterd
RUN_DIR=$TB_DIR/run
LOG_DIR=$TB_DIR/log
SOCK=$TB_DIR/glusterd.socket
PID_FILE=$TB_DIR/glusterd.pid
BRICK_DIR=$TB_DIR/bricks
MOUNT_DIR=$TB_DIR/mnt
MB_ROOT=$TB_DIR/mbr
BIN_DIR=$TB_DIR/bin
GLUSTER_TB=$BIN_DIR/gluster-tb
# glusterd 10.3 creates these whatever its configured directories (hard-coded shared-storage and snapshot brick
# dirs, and the Python gsyncd's empty template conf under the default working directory). `up` records the ones
# that did not exist yet, and `down` removes those again; files before their directories.
GLOBAL_PATHS=(/var/lib/glusterd/ss_brick /var/lib/glusterd/geo-replication/gsyncd_template.conf
    /var/lib/glusterd/geo-replication /run/gluster/snaps)

# Run as `flock LOCK testbed.sh up`, this script inherits the lock's descriptor, and so would glusterd and the mounts it
# starts: a daemon holding it keeps the lock taken for the testbed's whole life and blocks every other user. Close every
# inherited descriptor above stderr (bash keeps its script on 255; flock itself still holds the lock until we exit).
close_inherited_fds() {
    local fd
    for fd in /proc/$$/fd/*; do
        fd=${fd##*/}
        if [ "$fd" -gt 2 ] && [ "$fd" -lt 255 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
}
close_inherited_fds

log() { printf 'testbed: %s\n' "$*" >&2; }
die() { printf 'testbed: ERROR: %s\n' "$*" >&2; exit 1; }

require_root() {
    [ "$(id -u)" -eq 0 ] || die "must run as root (it creates a network namespace, FUSE mounts and a glusterd)"
}

# ---------------------------------------------------------------------------------------------------------------
# Packages, users

ensure_packages() {
    local missing=() cmd
    for cmd in glusterd gluster glusterfs rsync sshd getfattr setfattr nsenter setpriv; do
        command -v "$cmd" >/dev/null 2>&1 || [ -x "/usr/sbin/$cmd" ] || missing+=("$cmd")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing Debian packages (missing: ${missing[*]})"
    local apt_log=/var/tmp/geosync-testbed-apt.log
    if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
            glusterfs-server glusterfs-client rsync openssh-server attr util-linux; } >"$apt_log" 2>&1; then
        die "apt-get failed installing the GlusterFS packages; see $apt_log"
    fi
    rm -f "$apt_log"
}

ensure_geo_user() {
    getent group "$GEO_GROUP" >/dev/null || groupadd --system "$GEO_GROUP"
    if ! id "$GEO_USER" >/dev/null 2>&1; then
        # A login shell and a home, so tests can later reach it over ssh as a geo-replication slave user.
        useradd --system --gid "$GEO_GROUP" --home-dir "/var/lib/$GEO_USER" --create-home \
            --shell /bin/bash "$GEO_USER"
    fi
}

# ---------------------------------------------------------------------------------------------------------------
# Small helpers

netns_exists() { [ -e "$NETNS_PATH" ] && ip netns list | awk -v ns="$TB_NETNS" '$1 == ns { f = 1 } END { exit !f }'; }

# True when pid is alive and lives in the testbed's network namespace (guards against recycled pids).
# -ef compares device and inode of the namespace files behind the links.
pid_in_netns() {
    [ -n "$1" ] && [ -e "$NETNS_PATH" ] && [ "/proc/$1/ns/net" -ef "$NETNS_PATH" ]
}

pid_alive() { [ -n "$1" ] && [ -d "/proc/$1" ]; }

# True when pid is a gluster process of this testbed: the gluster binary, and either inside the testbed's namespace
# or started with one of its paths (which still holds when the namespace was deleted under it).
pid_is_testbed_gluster() {
    local pid=$1
    pid_alive "$pid" || return 1
    [ "/proc/$pid/exe" -ef "$GLUSTER_EXE" ] || return 1
    pid_in_netns "$pid" && return 0
    local args
    args=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
    [[ "$args" == *"$TB_DIR/"* ]]
}

read_pid_file() { if [ -s "$1" ]; then tr -dc '0-9' <"$1"; fi; }

glusterd_pid() { read_pid_file "$PID_FILE"; }

brick_pid_files() { if [ -d "$RUN_DIR/vols" ]; then find "$RUN_DIR/vols" -name '*.pid' -type f; fi; }

gl() { "${NSENTER[@]}" gluster --mode=script "--glusterd-sock=$SOCK" "--log-file=$LOG_DIR/cli.log" "$@"; }

volume_field() { # volume_field VOL FIELD -> value of "FIELD: value" in `volume info`
    gl volume info "$1" 2>/dev/null | sed -n "s/^$2: //p" | head -n1
}

wait_until() { # wait_until SECONDS COMMAND...: polls COMMAND until it succeeds; fails after SECONDS
    local deadline=$((SECONDS + $1))
    shift
    until "$@"; do
        [ $SECONDS -lt $deadline ] || return 1
        sleep 0.2
    done
}

# Mount points to remove: anything mounted under the testbed dir, and any FUSE mount served by the testbed's glusterd.
testbed_mounts() {
    awk -v dir="$TB_DIR/" -v src="$TB_SERVER:" '
        { mp = $2; gsub(/\\040/, " ", mp) }
        index(mp "/", dir) == 1 || ($3 ~ /^fuse/ && index($1, src) == 1) { print mp }
    ' /proc/mounts | sort -r -u
}

# ---------------------------------------------------------------------------------------------------------------
# Health

# Prints one line per check; returns 0 only when everything is healthy.
check_health() {
    local ok=0 pid v status f bpid
    if ! netns_exists; then echo "netns $TB_NETNS: missing"; return 1; fi
    echo "netns $TB_NETNS: present"
    pid=$(glusterd_pid)
    if pid_in_netns "$pid"; then echo "glusterd: alive (pid $pid)"; else echo "glusterd: not running (recorded pid '${pid:-none}')"; return 1; fi
    [ -S "$SOCK" ] || { echo "glusterd socket $SOCK: missing"; return 1; }
    # One `volume info` for all volumes: each CLI call costs a round trip to glusterd.
    local statuses
    statuses=$(gl volume info 2>/dev/null | awk '/^Volume Name: / { v = $3 } /^Status: / { print v, $2 }')
    for v in "${VOLUMES[@]}"; do
        status=$(awk -v v="$v" '$1 == v { print $2 }' <<<"$statuses")
        if [ "$status" = Started ]; then echo "volume $v: Started"; else echo "volume $v: ${status:-absent}"; ok=1; fi
    done
    for f in $(brick_pid_files); do
        bpid=$(read_pid_file "$f")
        if pid_in_netns "$bpid"; then echo "brick $(basename "$f" .pid): alive (pid $bpid)"
        else echo "brick $(basename "$f" .pid): dead (recorded pid '${bpid:-none}')"; ok=1; fi
    done
    [ "$(brick_pid_files | wc -l)" -eq $BRICK_COUNT ] ||
        { echo "bricks: expected $BRICK_COUNT pid files under $RUN_DIR/vols"; ok=1; }
    [ -s "$ENV_FILE" ] || { echo "env file $ENV_FILE: missing"; ok=1; }
    return $ok
}

# ---------------------------------------------------------------------------------------------------------------
# up

refuse_foreign_glusterd() {
    # Another glusterd is no problem while it uses other paths and another network namespace; one that uses
    # this testbed's namespace or directory but is not recorded here must not be clobbered.
    local proc pid args
    for proc in /proc/[0-9]*; do
        pid=${proc#/proc/}
        [ "$proc/exe" -ef "$GLUSTER_EXE" ] || continue
        args=$(tr '\0' ' ' <"$proc/cmdline" 2>/dev/null) || continue
        case "${args%% *}" in */glusterd | glusterd) ;; *) continue ;; esac
        if pid_in_netns "$pid"; then
            die "a glusterd (pid $pid) already runs in namespace $TB_NETNS but is not recorded; stop it yourself first"
        fi
        case "$args" in
            *"$TB_DIR/"*) die "a glusterd (pid $pid: $args) uses $TB_DIR but is not recorded; stop it yourself first" ;;
        esac
        log "note: another glusterd runs on this machine (pid $pid); the testbed keeps to its own namespace and paths"
    done
}

create_netns() {
    # The first `ip netns add` on a machine makes /run/netns and bind-mounts it onto itself; remember to undo that.
    [ -d /run/netns ] || echo /run/netns >>"$STATE_DIR/netns-dir-created"
    mountpoint -q /run/netns || echo /run/netns >>"$STATE_DIR/netns-mount-created"
    ip netns add "$TB_NETNS"
    echo 1 >"$STATE_DIR/netns-created"
    ip -n "$TB_NETNS" link set lo up
    # Both veth ends stay inside the namespace: the addresses are reachable only from within it.
    ip -n "$TB_NETNS" link add tb0 type veth peer name tb1
    ip -n "$TB_NETNS" addr add "$TB_SERVER/24" dev tb0
    ip -n "$TB_NETNS" addr add "$TB_PEER/24" dev tb1
    ip -n "$TB_NETNS" link set tb0 up
    ip -n "$TB_NETNS" link set tb1 up
    wait_until 10 sh -c "ip -n '$TB_NETNS' -o addr show dev tb0 | grep -q 'inet $TB_SERVER/'" ||
        die "address $TB_SERVER did not come up in namespace $TB_NETNS"
}

write_glusterd_vol() {
    cat >"$VOLFILE" <<EOF
# Private glusterd for the GeoSync testbed (generated by tests/testbed/testbed.sh).
volume management
    type mgmt/glusterd
    option working-directory $WORK_DIR
    option run-directory $RUN_DIR
    option logging-directory $LOG_DIR
    option glusterd-sockfile $SOCK
    option transport-type socket
    option transport.socket.keepalive-time 10
    option transport.socket.keepalive-interval 2
    option transport.socket.read-fail-log off
    option transport.socket.listen-port 24007
    option ping-timeout 0
    option event-threads 1
    option max-port 60999
    option mountbroker-root $MB_ROOT
    option mountbroker-geo-replication.$GEO_USER svol
    option geo-replication-log-group $GEO_GROUP
    option rpc-auth-allow-insecure on
end-volume
EOF
}

write_gluster_wrapper() {
    cat >"$GLUSTER_TB" <<EOF
#!/bin/sh
# gluster CLI for the GeoSync testbed: its network namespace and its private glusterd socket.
# Later --log-file/--mode arguments override these defaults.
exec nsenter --net=$NETNS_PATH gluster --mode=script --glusterd-sock=$SOCK --log-file=$LOG_DIR/cli.log "\$@"
EOF
    chmod 0755 "$GLUSTER_TB"
}

start_glusterd() {
    local p
    for p in "${GLOBAL_PATHS[@]}"; do
        [ -e "$p" ] || echo "$p" >>"$STATE_DIR/global-paths"
    done
    # nsenter (not `ip netns exec`): glusterd must share the host's mount namespace, or the mountbroker's
    # mounts would be invisible outside it.
    "${NSENTER[@]}" glusterd -f "$VOLFILE" -p "$PID_FILE" -l "$LOG_DIR/glusterd.log" -L INFO \
        </dev/null >/dev/null 2>&1 || die "glusterd failed to start; see $LOG_DIR/glusterd.log"
    wait_until 30 gl_ready || die "glusterd did not answer on $SOCK within 30 s; see $LOG_DIR/glusterd.log"
    local pid
    pid=$(glusterd_pid)
    pid_in_netns "$pid" || die "glusterd pid file $PID_FILE names '$pid', which is not running in $TB_NETNS"
}

gl_ready() { gl volume list >/dev/null 2>&1; }

bricks_online() { # bricks_online VOL COUNT: at least COUNT bricks of VOL online (not counting self-heal daemons)
    # Each <node> of the XML has <path> before <status>; a brick's path is absolute, a daemon's is "localhost".
    [ "$(gl volume status "$1" --xml 2>/dev/null |
        awk '/<path>/ { brick = ($0 ~ /<path>\//) } /<status>1<\/status>/ && brick { n++; brick = 0 } END { print n + 0 }')" -ge "$2" ]
}

# create_volume NAME INDEXING LAYOUT BRICKDIR...: creates and starts NAME; LAYOUT is '' (distributed) or the words
# before the bricks ('replica 2', 'disperse 3 redundancy 1'). It does not wait for the bricks: `build` waits for all
# volumes' bricks at once, which overlaps their start-up.
create_volume() {
    local name=$1 indexing=$2 layout=() bricks=() d
    read -r -a layout <<<"$3"
    shift 3
    for d in "$@"; do
        mkdir -p "$d"
        bricks+=("$TB_SERVER:$d")
    done
    # force: the bricks live on the root filesystem, and replica/disperse bricks share one server.
    gl volume create "$name" ${layout[@]+"${layout[@]}"} "${bricks[@]}" force >/dev/null ||
        die "gluster volume create $name ${layout[*]} failed; see $LOG_DIR"
    if [ "$indexing" = on ]; then
        gl volume set "$name" geo-replication.indexing on >/dev/null ||
            die "gluster volume set $name geo-replication.indexing on failed"
    fi
    gl volume start "$name" >/dev/null || die "gluster volume start $name failed; see $LOG_DIR/bricks"
}

volume_bricks_online() { # volume_bricks_online VOL COUNT...: every VOL has at least COUNT bricks online
    while [ $# -gt 0 ]; do
        bricks_online "$1" "$2" || return 1
        shift 2
    done
}

# Brick sockets land in /var/run/gluster (hard-coded in glusterd); remember them so `down` removes exactly those.
record_brick_sockets() {
    local f pid
    : >"$STATE_DIR/brick-sockets"
    for f in $(brick_pid_files); do
        pid=$(read_pid_file "$f")
        pid_alive "$pid" || continue
        tr '\0' '\n' <"/proc/$pid/cmdline" | awk 'prev == "-S" { print } { prev = $0 }' >>"$STATE_DIR/brick-sockets"
    done
}

verify_mountbroker() {
    # As the unprivileged geo-replication user, the way a non-root gsyncd asks glusterd: TCP to localhost inside the
    # namespace (hence rpc-auth-allow-insecure). glusterd 10.3 accepts only its own parameter set for a geo-replication
    # label: aux-gfid-mount acl volfile-server=localhost client-pid=-1 user-map-root=<user>, plus volfile-id, log-level
    # and log-file under <logging-directory>/geo-replication*/.
    local as_user=(setpriv "--reuid=$GEO_USER" "--regid=$GEO_GROUP" --init-groups)
    local cli=("${NSENTER[@]}" "${as_user[@]}" gluster --remote-host=localhost --log-file=- system::)
    local out mnt real err=$STATE_DIR/mountbroker.err
    # The mount point is the first line on stdout; the CLI logs to stderr (--log-file=-).
    if ! out=$(cd / && "${cli[@]}" mount "$GEO_USER" "user-map-root=$GEO_USER" aux-gfid-mount acl \
            volfile-server=localhost client-pid=-1 volfile-id=svol \
            "log-file=$LOG_DIR/geo-replication-secondaries/testbed-verify.log" 2>"$err"); then
        die "mountbroker mount of svol as $GEO_USER failed: $out $(tail -n 3 "$err")"
    fi
    mnt=$(printf '%s\n' "$out" | head -n1)
    case "$mnt" in "$MB_ROOT"/*) ;; *) die "mountbroker answered '$out' instead of a mount point under $MB_ROOT" ;; esac
    # The answer is glusterd's cookie symlink in mb_hive; the mount table shows the directory it points to.
    real=$(readlink -f "$mnt")
    awk -v m="$real" '$2 == m && $3 ~ /^fuse/ { f = 1 } END { exit !f }' /proc/mounts ||
        die "mountbroker reported $mnt ($real) but /proc/mounts shows no FUSE mount there"
    # user-map-root: the unprivileged user acts as root on the volume.
    (cd / && "${as_user[@]}" sh -c "mkdir '$mnt/.testbed-probe' && rmdir '$mnt/.testbed-probe'") ||
        die "$GEO_USER could not create a directory in the mountbroker mount $mnt (user-map-root not applied?)"
    (cd / && "${cli[@]}" umount "$mnt" lazy >/dev/null 2>&1) || die "gluster system:: umount $mnt lazy failed"
    wait_until 10 sh -c "! awk -v m='$real' '\$2 == m { f = 1 } END { exit !f }' /proc/mounts" ||
        die "$real is still mounted after gluster system:: umount $mnt lazy"
    log "mountbroker verified: $GEO_USER mounted svol at $mnt and unmounted it"
}

write_env() {
    local tmp=$ENV_FILE.tmp
    {
        echo "# GeoSync GlusterFS testbed. Bash-sourceable; KEY=VALUE, a value with spaces is in single quotes."
        echo "GEOSYNC_TB_DIR=$TB_DIR"
        echo "GEOSYNC_TB_NETNS=$TB_NETNS"
        echo "GEOSYNC_TB_NETNS_PATH=$NETNS_PATH"
        echo "GEOSYNC_TB_SERVER=$TB_SERVER"
        echo "GEOSYNC_TB_PEER_ADDRESS=$TB_PEER"
        echo "GEOSYNC_TB_GLUSTERD_SOCK=$SOCK"
        echo "GEOSYNC_TB_GLUSTERD_PID=$(glusterd_pid)"
        echo "GEOSYNC_TB_GLUSTER=$GLUSTER_TB"
        echo "GEOSYNC_TB_NSENTER='nsenter --net=$NETNS_PATH'"
        echo "GEOSYNC_TB_GLUSTER_VERSION=$(gluster --version | awk 'NR == 1 { print $2 }')"
        echo "GEOSYNC_TB_MVOL=mvol"
        echo "GEOSYNC_TB_MVOL_ID=$(volume_field mvol 'Volume ID')"
        echo "GEOSYNC_TB_MVOL_BRICK=$BRICK_DIR/mvol"
        echo "GEOSYNC_TB_SVOL=svol"
        echo "GEOSYNC_TB_SVOL_ID=$(volume_field svol 'Volume ID')"
        echo "GEOSYNC_TB_SVOL_BRICK=$BRICK_DIR/svol"
        echo "GEOSYNC_TB_DVOL=dvol"
        echo "GEOSYNC_TB_DVOL_ID=$(volume_field dvol 'Volume ID')"
        echo "GEOSYNC_TB_DVOL_BRICKS='$BRICK_DIR/dvol-1 $BRICK_DIR/dvol-2'"
        echo "GEOSYNC_TB_DRVOL=drvol"
        echo "GEOSYNC_TB_DRVOL_ID=$(volume_field drvol 'Volume ID')"
        echo "GEOSYNC_TB_DRVOL_BRICKS='$(echo "$BRICK_DIR"/drvol-{1..4})'"
        echo "GEOSYNC_TB_ECVOL=ecvol"
        echo "GEOSYNC_TB_ECVOL_ID=$(volume_field ecvol 'Volume ID')"
        echo "GEOSYNC_TB_ECVOL_BRICKS='$(echo "$BRICK_DIR"/ecvol-{1..3})'"
        echo "GEOSYNC_TB_DRSLAVE=drslave"
        echo "GEOSYNC_TB_DRSLAVE_ID=$(volume_field drslave 'Volume ID')"
        echo "GEOSYNC_TB_DRSLAVE_BRICKS='$(echo "$BRICK_DIR"/drslave-{1..4})'"
        echo "GEOSYNC_TB_MOUNT_DIR=$MOUNT_DIR"
        echo "GEOSYNC_TB_LOG_DIR=$LOG_DIR"
        echo "GEOSYNC_TB_MOUNTBROKER_ROOT=$MB_ROOT"
        echo "GEOSYNC_TB_MOUNTBROKER_USER=$GEO_USER"
        echo "GEOSYNC_TB_MOUNTBROKER_GROUP=$GEO_GROUP"
        echo "GEOSYNC_TB_MOUNTBROKER_LOG_DIR=$LOG_DIR/geo-replication-secondaries"
        echo "GEOSYNC_TB_GSYNCD=$GSYNCD_BIN"
        echo "GEOSYNC_TB_GSYNCD_PYDIR=$GLUSTER_PYDIR"
    } >"$tmp"
    grep -q '_ID=$' "$tmp" && die "could not read a Volume ID from gluster volume info; see $LOG_DIR"
    mv "$tmp" "$ENV_FILE"
}

check_gsyncd_pydir() {
    [ -f "$GLUSTER_PYDIR/repce.py" ] || die "Debian's Python gsyncd is not at $GLUSTER_PYDIR (repce.py missing)"
    (cd / && PYTHONDONTWRITEBYTECODE=1 python3 -c "import sys; sys.path.insert(0, '$GLUSTER_PYDIR'); import repce") ||
        die "python3 cannot import repce from $GLUSTER_PYDIR"
}

build() {
    refuse_foreign_glusterd
    netns_exists && die "namespace $TB_NETNS exists but $TB_DIR does not record it; inspect it (ip netns pids $TB_NETNS) and delete it yourself"
    [ ${#SOCK} -lt 100 ] ||
        die "GEOSYNC_TESTBED_DIR=$TB_DIR is too long: the glusterd socket path $SOCK must stay under 100 characters"
    mkdir -p "$TB_DIR"
    chmod 0755 "$TB_DIR"
    mkdir -p "$STATE_DIR" "$WORK_DIR" "$RUN_DIR" "$LOG_DIR" "$BRICK_DIR" "$MOUNT_DIR" "$BIN_DIR"
    # glusterd refuses a mountbroker root that others can write to or that has such an ancestor.
    mkdir -p "$MB_ROOT"
    chmod 0711 "$MB_ROOT"
    create_netns
    write_glusterd_vol
    write_gluster_wrapper
    start_glusterd
    create_volume mvol on '' "$BRICK_DIR/mvol"
    create_volume svol off '' "$BRICK_DIR/svol"
    create_volume dvol on '' "$BRICK_DIR/dvol-1" "$BRICK_DIR/dvol-2"
    # The multi-brick layouts users run, for the fault tests: replica pairs (drvol-1+2, drvol-3+4) and a 2+1
    # dispersed volume as masters, and a distributed-replicated slave.
    create_volume drvol on 'replica 2' "$BRICK_DIR"/drvol-{1..4}
    create_volume ecvol on 'disperse 3 redundancy 1' "$BRICK_DIR"/ecvol-{1..3}
    create_volume drslave off 'replica 2' "$BRICK_DIR"/drslave-{1..4}
    wait_until 60 volume_bricks_online mvol 1 svol 1 dvol 2 drvol 4 ecvol 3 drslave 4 ||
        die "the bricks did not all come online within 60 s; see $LOG_DIR/bricks"
    record_brick_sockets
    verify_mountbroker
    check_gsyncd_pydir
    write_env
}

cmd_up() {
    require_root
    ensure_packages
    ensure_geo_user
    if [ -d "$TB_DIR" ] && check_health >/dev/null 2>&1; then
        log "reusing the healthy testbed in $TB_DIR"
        cat "$ENV_FILE"
        return 0
    fi
    if [ -d "$TB_DIR" ] && [ ! -d "$STATE_DIR" ] && [ -n "$(ls -A "$TB_DIR")" ]; then
        die "$TB_DIR is not empty and has no $STATE_DIR, so it is not a testbed dir; choose another GEOSYNC_TESTBED_DIR"
    fi
    if [ -d "$TB_DIR" ]; then
        log "testbed in $TB_DIR is broken; tearing it down and rebuilding"
        KEEP=0 cmd_down >&2
    fi
    build
    log "testbed up: glusterd pid $(glusterd_pid), server $TB_SERVER in namespace $TB_NETNS"
    cat "$ENV_FILE"
}

# ---------------------------------------------------------------------------------------------------------------
# down

stop_pids() { # stop_pids DESCRIPTION PID...: SIGTERM, wait, then SIGKILL what is left
    local what=$1 pid live=()
    shift
    for pid in "$@"; do pid_alive "$pid" && live+=("$pid"); done
    [ ${#live[@]} -eq 0 ] && return 0
    log "stopping $what: ${live[*]}"
    kill -TERM "${live[@]}" 2>/dev/null || true
    local deadline=$((SECONDS + 10))
    while [ $SECONDS -lt $deadline ]; do
        local still=()
        for pid in "${live[@]}"; do pid_alive "$pid" && still+=("$pid"); done
        [ ${#still[@]} -eq 0 ] && return 0
        sleep 0.2
    done
    log "$what did not stop on SIGTERM; sending SIGKILL"
    kill -KILL "${live[@]}" 2>/dev/null || true
    sleep 0.5
}

# The testbed's remaining gluster processes once glusterd and the bricks are stopped: FUSE clients (test mounts,
# mountbroker mounts) and any daemon glusterd spawned.
testbed_gluster_pids() {
    local proc
    for proc in /proc/[0-9]*; do
        if pid_is_testbed_gluster "${proc#/proc/}"; then echo "${proc#/proc/}"; fi
    done
}

no_testbed_gluster_pids() { [ -z "$(testbed_gluster_pids)" ]; }

cmd_down() {
    require_root
    local owned=0 failures=() mp pid f recorded=()
    [ -d "$STATE_DIR" ] && owned=1
    if netns_exists && [ $owned -eq 0 ]; then
        die "namespace $TB_NETNS exists but $TB_DIR has no record of creating it; not touching it"
    fi

    for mp in $(testbed_mounts); do
        log "unmounting $mp (lazy)"
        umount -l "$mp" || failures+=("umount -l $mp failed")
    done

    pid=$(glusterd_pid)
    pid_is_testbed_gluster "$pid" && recorded+=("$pid")
    [ ${#recorded[@]} -gt 0 ] && stop_pids glusterd "${recorded[@]}"
    local bricks=()
    for f in $(brick_pid_files); do
        pid=$(read_pid_file "$f")
        pid_is_testbed_gluster "$pid" && bricks+=("$pid") && recorded+=("$pid")
    done
    [ ${#bricks[@]} -gt 0 ] && stop_pids "brick processes" "${bricks[@]}"
    # Lazily unmounted clients exit by themselves once the kernel lets go of the mount; give them a moment.
    wait_until 5 no_testbed_gluster_pids || true
    local clients=()
    mapfile -t clients < <(testbed_gluster_pids)
    [ ${#clients[@]} -gt 0 ] && stop_pids "gluster clients in $TB_NETNS" "${clients[@]}" && recorded+=("${clients[@]}")

    if [ -f "$STATE_DIR/brick-sockets" ]; then
        while read -r f; do
            [ -S "$f" ] && rm -f "$f"
        done <"$STATE_DIR/brick-sockets"
    fi
    if [ -f "$STATE_DIR/global-paths" ]; then
        while read -r f; do
            if [ -f "$f" ] && [ ! -s "$f" ]; then rm -f "$f"
            elif [ -d "$f" ]; then rmdir "$f" 2>/dev/null || log "warning: $f is not empty any more; left in place"
            fi
        done <"$STATE_DIR/global-paths"
    fi

    if netns_exists; then
        local others
        others=$(ip netns pids "$TB_NETNS" 2>/dev/null | tr '\n' ' ')
        [ -n "$others" ] && failures+=("processes not started by the testbed still run in $TB_NETNS: $others")
        ip netns del "$TB_NETNS" || failures+=("ip netns del $TB_NETNS failed")
    fi
    if [ -z "$(ls -A /run/netns 2>/dev/null)" ]; then
        if [ -f "$STATE_DIR/netns-mount-created" ] && mountpoint -q /run/netns; then umount /run/netns; fi
        if [ -f "$STATE_DIR/netns-dir-created" ] && [ -d /run/netns ]; then rmdir /run/netns; fi
    fi

    # Final check before removing anything: no mount, no namespace, no recorded process may remain.
    for mp in $(testbed_mounts); do failures+=("still mounted: $mp"); done
    netns_exists && failures+=("namespace $TB_NETNS still listed by ip netns")
    for pid in ${recorded[@]+"${recorded[@]}"} $(testbed_gluster_pids); do
        pid_alive "$pid" && failures+=("pid $pid still running: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)")
    done
    if [ ${#failures[@]} -gt 0 ]; then
        printf 'testbed: ERROR: down left things behind:\n' >&2
        printf '  %s\n' "${failures[@]}" >&2
        exit 1
    fi

    if [ "${KEEP:-0}" = 1 ]; then
        log "KEEP=1: leaving $TB_DIR in place"
    elif [ $owned -eq 1 ]; then
        rm -rf --one-file-system "$TB_DIR"
    elif [ -d "$TB_DIR" ]; then
        rmdir "$TB_DIR" 2>/dev/null || log "warning: $TB_DIR has no $STATE_DIR, so it is not a testbed dir; not removing it"
    fi
    log "testbed down"
}

cmd_status() {
    require_root
    [ -d "$TB_DIR" ] || { echo "testbed dir $TB_DIR: missing"; return 1; }
    if check_health; then echo "healthy"; return 0; fi
    echo "unhealthy"
    return 1
}

case "${1:-}" in
    up) cmd_up ;;
    status) cmd_status ;;
    down) cmd_down ;;
    *) echo "usage: $0 up|status|down   (GEOSYNC_TESTBED_DIR=$TB_DIR, KEEP=1 keeps the dir on down)" >&2; exit 2 ;;
esac
