#!/usr/bin/env bash
# GeoSync mount guard (docs/protocol.md, "Transport"): lazily unmounts an auxiliary GlusterFS mount once its owner is gone.
#
# The engine runs this file (shipped next to GeoSync.Engine.dll) in a session of its own, with the read end of a pipe
# as stdin:   setsid bash mount-guard.sh MOUNTINFO MODE UNMOUNT_COMMAND...
# The owner writes  <mount point> NUL ['M']  and keeps its end open while the mount is in use. End of input (a close,
# or the owner's death, SIGKILL included) or SIGTERM starts the cleanup:
#   * when MOUNTINFO lists the mount point as mounted, UNMOUNT_COMMAND runs with each "{}" replaced by the mount point,
#     once per mount stacked there (a direct mount may stand on a read-only tmpfs underlay, GlusterMountOptions.
#     ReadOnlyUnderlay, which goes last); with or without 'M', because an owner killed while mounting never gets to send it;
#   * MODE remove-dir: the now empty directory is removed (the direct mounter made it);
#     MODE keep-dir: the directory is the caller's and stays;
#     MODE mountbroker: the mount point is glusterd's cookie symlink; glusterd owns and removes the directory.
# Exit status: 0 when clean; the unmount command's status when it failed; 200 for a protocol or cleanup failure.
# Never stat the mount point itself: a FUSE mount whose client hangs would block the guard forever.
# posix: a trapped signal interrupts `read` (bash otherwise restarts it); -f: no globbing of paths.
set -o posix -u -f
export LC_ALL=C

mountinfo=$1
mode=$2
shift 2
failure=0

say() { printf 'geosync-mount-guard: %s\n' "$*" >&2 2>/dev/null || true; }

# The owner's terminal, process group and stderr reader may all disappear before the cleanup is done.
trap '' HUP INT QUIT PIPE
# A trapped SIGTERM interrupts the read below like end of input does, so a teardown still cleans up.
terminated=0
trap 'terminated=1' TERM
exec >/dev/null

# The kernel escapes these characters in mount paths as octal sequences.
mangle() {
    local p=$1
    p=${p//\\/\\134}
    p=${p// /\\040}
    p=${p//$'\t'/\\011}
    p=${p//$'\n'/\\012}
    printf '%s' "$p"
}

is_mounted() {
    GUARD_TARGET=$(mangle "$1") awk '$5 == ENVIRON["GUARD_TARGET"] { found = 1 } END { exit !found }' "$mountinfo"
}

# How many mounts are stacked on the path.
mount_count() {
    GUARD_TARGET=$(mangle "$1") awk '$5 == ENVIRON["GUARD_TARGET"] { n++ } END { print n + 0 }' "$mountinfo"
}

# Lexical: no component is looked up, so a hung mount cannot block it.
normalize() {
    local part parts=() out=()
    IFS=/ read -r -a parts <<<"$1"
    for part in "${parts[@]}"; do
        case $part in
            '' | .) ;;
            ..) [ ${#out[@]} -gt 0 ] && unset 'out[${#out[@]}-1]' ;;
            *) out+=("$part") ;;
        esac
    done
    local IFS=/
    printf '/%s' "${out[*]}"
}

# A mountbroker answer is a symlink in glusterd's mb_hive; the mount table lists the directory it points to.
table_path() {
    local target
    if [ "$mode" = mountbroker ] && [ -L "$1" ]; then
        target=$(readlink -- "$1") || { printf '%s' "$1"; return; }
        case $target in
            /*) normalize "$target" ;;
            *) normalize "${1%/*}/$target" ;;
        esac
    else
        printf '%s' "$1"
    fi
}

unmount() {
    local arg argv=() output status
    for arg in "$@"; do
        if [ "$arg" = '{}' ]; then argv+=("$mnt"); else argv+=("$arg"); fi
    done
    # Output is kept and shown only on failure: the owner reading stderr may be dead already.
    output=$("${argv[@]}" 2>&1 </dev/null)
    status=$?
    if [ $status -ne 0 ]; then
        say "lazy unmount of $mnt failed with status $status: ${argv[*]}"
        [ -n "$output" ] && say "$output"
        failure=$status
    fi
    return $status
}

mnt=
if ! IFS= read -r -d '' mnt; then
    # End of input before a complete mount point: nothing was announced, so nothing was mounted or created.
    if [ -n "$mnt" ]; then
        say "protocol error: mount point '$mnt' not terminated by NUL; nothing cleaned"
        exit 200
    fi
    exit 0
fi
if [ -z "$mnt" ]; then
    say "protocol error: empty mount point"
    exit 200
fi
flag=
# Blocks until the owner closes the pipe or dies; only 'M' may arrive meanwhile.
IFS= read -r -d '' flag
case $flag in
    '' | M) ;;
    *) say "protocol error: unexpected '$flag' after mount point $mnt; cleaning up anyway"; failure=200 ;;
esac

real=$(table_path "$mnt")
if is_mounted "$real"; then
    [ "$flag" = M ] || [ $terminated -eq 1 ] || say "$mnt is mounted although the owner never confirmed it; unmounting"
    # The volume, then its underlay; a mountbroker mount has none, and glusterd's umount is asked once.
    layers=$(mount_count "$real")
    [ "$mode" = mountbroker ] && layers=1
    while [ "$layers" -gt 0 ]; do
        unmount "$@" || break
        layers=$((layers - 1))
    done
elif [ "$mode" = mountbroker ] && [ "$flag" = M ] && [ -L "$mnt" ]; then
    # Unmounted behind glusterd's back: its umount still removes the cookie and the directory.
    unmount "$@"
fi

if [ "$mode" = remove-dir ]; then
    # rmdir never enters the mount (a mounted directory is EBUSY), so it is safe on a hung mount.
    # A client that was still mounting when its owner died may mount now: unmount again and retry a few times.
    for attempt in 1 2 3 4 5; do
        if error=$(rmdir -- "$mnt" 2>&1); then break; fi
        case $error in *'No such file or directory'*) break ;; esac
        if [ $attempt -eq 5 ]; then
            say "cannot remove mount point directory $mnt: $error"
            [ $failure -eq 0 ] && failure=200
            break
        fi
        if is_mounted "$real"; then unmount "$@"; fi
        sleep 0.2
    done
fi
exit $failure
