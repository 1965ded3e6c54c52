#!/usr/bin/env bash
# Smoke check of a running testbed (tests/testbed/testbed.sh up): the marker stamps xtime on writes through a normal
# mount, and a client-pid -1 mount answers the xtime and the native volume mark of mvol.
set -euo pipefail

TB_DIR=${GEOSYNC_TESTBED_DIR:-/var/tmp/geosync-testbed}
[ -s "$TB_DIR/env" ] || { echo "smoke: no testbed env at $TB_DIR/env; run testbed.sh up first" >&2; exit 1; }
# shellcheck disable=SC1091
. "$TB_DIR/env"

fail() { printf 'smoke: FAIL: %s\n' "$*" >&2; exit 1; }
pass() { printf 'smoke: ok: %s\n' "$*"; }

read -r -a NSENTER <<<"$GEOSYNC_TB_NSENTER"
MNT=$(mktemp -d "$GEOSYNC_TB_MOUNT_DIR/smoke-m.XXXXXX")
AUX=$(mktemp -d "$GEOSYNC_TB_MOUNT_DIR/smoke-aux.XXXXXX")
WORK=smoke-$$

is_mounted() { awk -v m="$1" '$2 == m { f = 1 } END { exit !f }' /proc/mounts; }

cleanup() {
    local m
    [ -d "$MNT/$WORK" ] && rm -rf "${MNT:?}/$WORK"
    for m in "$MNT" "$AUX"; do
        is_mounted "$m" && umount -l "$m"
        rmdir "$m" 2>/dev/null || true
    done
}
trap cleanup EXIT

mount_mvol() { # mount_mvol MOUNTPOINT EXTRA-ARGS...
    local mp=$1
    shift
    "${NSENTER[@]}" glusterfs "--volfile-server=$GEOSYNC_TB_SERVER" --volfile-id=mvol \
        "--log-file=$GEOSYNC_TB_LOG_DIR/smoke-$(basename "$mp").log" "$@" "$mp" </dev/null >/dev/null 2>&1 ||
        fail "glusterfs mount of mvol on $mp failed; see $GEOSYNC_TB_LOG_DIR/smoke-$(basename "$mp").log"
    is_mounted "$mp" || fail "glusterfs exited 0 but $mp is not in /proc/mounts"
}

# Hex value (without 0x) of xattr NAME on PATH, or empty when absent.
xattr_hex() {
    getfattr --absolute-names -n "$1" -e hex "$2" 2>/dev/null | sed -n "s/^$1=0x//p"
}

xtime_seconds() { # xtime_seconds HEX -> seconds, after checking the 8-byte layout
    [ ${#1} -eq 16 ] || fail "xtime '$1' is not 8 bytes"
    echo $((16#${1:0:8}))
}

mount_mvol "$MNT"
mount_mvol "$AUX" --client-pid=-1
pass "mounted mvol at $MNT and with client-pid -1 at $AUX"

start=$(date +%s)
mkdir "$MNT/$WORK"
echo "geosync smoke $$" >"$MNT/$WORK/file"
sync

key=trusted.glusterfs.$GEOSYNC_TB_MVOL_ID.xtime
file_hex=$(xattr_hex "$key" "$AUX/$WORK/file")
[ -n "$file_hex" ] || fail "$key missing on $AUX/$WORK/file"
dir_hex=$(xattr_hex "$key" "$AUX/$WORK")
[ -n "$dir_hex" ] || fail "$key missing on $AUX/$WORK"
root_hex=$(xattr_hex "$key" "$AUX")
[ -n "$root_hex" ] || fail "$key missing on the volume root $AUX"
file_s=$(xtime_seconds "$file_hex")
dir_s=$(xtime_seconds "$dir_hex")
root_s=$(xtime_seconds "$root_hex")
now=$(date +%s)
if [ "$file_s" -lt $((start - 5)) ] || [ "$file_s" -gt $((now + 5)) ]; then
    fail "file xtime $file_s s is not the time of the write ($start..$now)"
fi
# The marker stamps every ancestor, so xtime never decreases going up the tree.
[[ "$dir_hex" > "$file_hex" || "$dir_hex" == "$file_hex" ]] || fail "directory xtime $dir_hex < file xtime $file_hex"
[[ "$root_hex" > "$dir_hex" || "$root_hex" == "$dir_hex" ]] || fail "root xtime $root_hex < directory xtime $dir_hex"
pass "xtime file=0x$file_hex dir=0x$dir_hex root=0x$root_hex (seconds $file_s/$dir_s/$root_s)"

mark=$(xattr_hex trusted.glusterfs.volume-mark "$AUX")
[ ${#mark} -eq 54 ] || fail "trusted.glusterfs.volume-mark on $AUX is '${mark}' (${#mark} hex digits), expected 27 bytes"
major=$((16#${mark:0:2}))
minor=$((16#${mark:2:2}))
uuid_hex=${mark:4:32}
retval=$((16#${mark:36:2}))
mark_s=$((16#${mark:38:8}))
mark_us=$((16#${mark:46:8}))
want=$(echo "$GEOSYNC_TB_MVOL_ID" | tr -d '-' | tr 'A-F' 'a-f')
[ "$uuid_hex" = "$want" ] || fail "volume mark uuid $uuid_hex != mvol Volume ID $GEOSYNC_TB_MVOL_ID"
[ "$major" -eq 1 ] || fail "volume mark version $major.$minor, expected major 1"
[ "$retval" -eq 0 ] || fail "volume mark retval $retval (marker timestamp file unusable)"
pass "volume-mark version $major.$minor uuid $GEOSYNC_TB_MVOL_ID retval $retval mark $mark_s.$mark_us"

cleanup
trap - EXIT
is_mounted "$MNT" && fail "$MNT still mounted after umount -l"
is_mounted "$AUX" && fail "$AUX still mounted after umount -l"
pass "unmounted lazily"
