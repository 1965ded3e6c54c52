#!/usr/bin/env bash
# Installs the Debian packages the tests need, only when a command is missing (root only; a non-root run just reports).
set -euo pipefail

declare -A package_of=(
    [python3]=python3
    [rsync]=rsync
    [getfattr]=attr
    [systemd-analyze]=systemd
    [setsid]=util-linux
)

missing=()
for cmd in "${!package_of[@]}"; do
    command -v "$cmd" >/dev/null 2>&1 || missing+=("${package_of[$cmd]}")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "prerequisites: missing packages ${missing[*]}; install them as root (apt-get install ${missing[*]})" >&2
    exit 1
fi
echo "prerequisites: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq "${missing[@]}" >/dev/null
