#!/usr/bin/env bash
# Re-records the shipped linux-build trace: a real Linux kernel build (Debian's linux-source-6.1,
# tinyconfig, make -jN vmlinux) under tools/record.sh, with its provenance in the trace header.
#
#   tools/record-linux-build.sh [-o FILE] [-j N] [--dir WORKDIR]
#
#   -o FILE      the trace (default bundles/guest/src/main/resources/traces/linux-build.jsonl.gz)
#   -j N         make's jobs (default: nproc)
#   --dir DIR    where the source is unpacked and built (default /tmp/shadowbox-linux-build)
#   --keep-raw D keep strace's text output and the measured totals in D
#
# Installs what is missing with apt-get when run as root (linux-source-6.1 build-essential bc
# flex bison libelf-dev libssl-dev strace python3), else says what to install.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
out=$root/bundles/guest/src/main/resources/traces/linux-build.jsonl.gz
jobs=$(nproc)
dir=/tmp/shadowbox-linux-build
keep=()
while [[ $# -gt 0 ]]; do
    case $1 in
        -o) out=$(realpath -m "$2"); shift 2 ;;
        -j) jobs=$2; shift 2 ;;
        --dir) dir=$(realpath -m "$2"); shift 2 ;;
        --keep-raw) keep=(--keep-raw "$(realpath -m "$2")"); shift 2 ;;
        *) echo "record-linux-build: unknown option '$1'; accepted: -o FILE, -j N, --dir DIR, --keep-raw DIR" >&2; exit 2 ;;
    esac
done
pkgs=(linux-source-6.1 build-essential bc flex bison libelf-dev libssl-dev strace python3)
missing=()
for p in "${pkgs[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    if [[ $(id -u) -ne 0 ]]; then
        echo "record-linux-build: missing packages: ${missing[*]}; install them (apt-get install ${missing[*]}) or run as root" >&2
        exit 2
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q </dev/null
    apt-get install -y -q "${missing[@]}" </dev/null
fi

tarball=$(ls /usr/src/linux-source-6.1.tar.xz)
mkdir -p "$dir"
if [[ ! -f $dir/.unpacked ]]; then
    echo "record-linux-build: unpacking $tarball into $dir"
    tar -xf "$tarball" -C "$dir"
    touch "$dir/.unpacked"
fi
src=$dir/linux-source-6.1
make -s -C "$src" mrproper
make -s -C "$src" tinyconfig

versions=$(dpkg-query -W -f='${Package}=${Version}\n' linux-source-6.1 gcc make binutils libc6 strace bison flex | paste -sd' ')
cmd=(make -j"$jobs" vmlinux)
prov=$(mktemp)
trap 'rm -f "$prov"' EXIT
python3 - "$prov" "$versions" "$src/.config" "${cmd[*]}" "$jobs" <<'PY'
import hashlib, json, sys
out, versions, config, cmd, jobs = sys.argv[1:6]
cfg = open(config, "rb").read()
json.dump({"workload": "linux-build", "packages": versions.split(),
           "config": {"target": "tinyconfig", "sha256": hashlib.sha256(cfg).hexdigest(),
                      "options_set": sum(1 for l in cfg.decode().splitlines() if l.startswith("CONFIG_"))},
           "build": {"source": "Debian linux-source-6.1 (/usr/src/linux-source-6.1.tar.xz)",
                     "steps": ["make mrproper", "make tinyconfig", cmd], "jobs": int(jobs)},
           "re_record": "tools/record-linux-build.sh"}, open(out, "w"))
PY
mkdir -p "$(dirname "$out")"
cd "$src"
"$root/tools/record.sh" -o "$out" --provenance "$prov" "${keep[@]}" -- "${cmd[@]}"
ls -l "$out"
