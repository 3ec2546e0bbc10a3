#!/usr/bin/env bash
# Records what a guest kernel would see of a command: its process tree and address-space
# events (strace -f), and the CPU time and faults the host kernel measured for the whole tree.
# Writes a Shadowbox trace (docs/trace-format.md): gzipped JSON lines.
#
#   tools/record.sh [-o FILE] [--note TEXT] [--provenance FILE.json] -- COMMAND [ARGS...]
#
#   -o FILE              the trace (default trace.jsonl.gz)
#   --note TEXT          free text kept in the trace's provenance
#   --provenance FILE    a JSON object merged into the provenance (packages, config, ...)
#   --keep-raw DIR       keep strace's text and the totals in DIR
#
# Needs strace (6.x; Debian: apt-get install strace) and python3. Exit status: the command's.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
out=trace.jsonl.gz note="" extra="" keep=""
while [[ $# -gt 0 ]]; do
    case $1 in
        -o) out=$2; shift 2 ;;
        --note) note=$2; shift 2 ;;
        --provenance) extra=$2; shift 2 ;;
        --keep-raw) keep=$2; shift 2 ;;
        --) shift; break ;;
        -h|--help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "record: unknown option '$1'; accepted: -o FILE, --note TEXT, --provenance FILE, --keep-raw DIR, then -- COMMAND" >&2; exit 2 ;;
    esac
done
[[ $# -gt 0 ]] || { echo "record: no command given; usage: tools/record.sh [-o FILE] -- COMMAND [ARGS...]" >&2; exit 2; }
command -v strace >/dev/null || { echo "record: strace not found; install it (Debian: apt-get install strace)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "record: python3 not found; install it (Debian: apt-get install python3)" >&2; exit 2; }
[[ -z $extra || -r $extra ]] || { echo "record: --provenance $extra: no such readable file" >&2; exit 2; }

# The interpreter itself, not a version-manager shim (a shim's own forks would be traced first).
py=$(python3 -c 'import sys; print(sys.executable)')
tmp=$(mktemp -d "${TMPDIR:-/tmp}/record.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
started=$(date -u +%Y-%m-%dT%H:%M:%SZ)

# -f: follow forks; -ttt: microsecond wall-clock stamps; -q: no attach messages (exit lines stay);
# --seccomp-bpf: stop only on the traced calls; signal=none: no signal lines.
set +e
strace -f -ttt -q --seccomp-bpf -e signal=none \
    -e trace=fork,vfork,clone,clone3,execve,execveat,exit,exit_group,wait4,waitid,mmap,munmap,mprotect,brk,mremap \
    -o "$tmp/strace.txt" "$py" "$here/recorder/rusage_wrap.py" "$tmp/totals.json" -- "$@"
status=$?
set -e
[[ -s $tmp/totals.json ]] || { echo "record: the command did not run under strace (exit $status); nothing written" >&2; exit "$status"; }

cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n1 || true)
python3 - "$tmp/prov.json" "$started" "$note" "$extra" "$cpu" "$PWD" "$@" <<'PY'
import json, os, platform, subprocess, sys
out, started, note, extra, cpu, cwd, cmd = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6], sys.argv[7:]
def sh(*a):
    try:
        return subprocess.run(a, capture_output=True, text=True).stdout.strip().splitlines()[0]
    except Exception:
        return None
mem = None
try:
    mem = int(open("/proc/meminfo").read().split()[1])
except Exception:
    pass
p = {"command": cmd, "cwd": cwd, "started_utc": started, "recorder": "tools/record.sh (strace -f -ttt --seccomp-bpf)",
     "strace": sh("strace", "-V"), "machine": {"nproc": os.cpu_count(), "cpu": cpu, "mem_kb": mem,
     "kernel": platform.release(), "arch": platform.machine()}}
try:
    p["load_at_end"] = open("/proc/loadavg").read().split()[:3]
except Exception:
    pass
if note:
    p["note"] = note
if extra:
    p.update(json.load(open(extra)))
json.dump(p, open(out, "w"))
PY
python3 "$here/recorder/strace2trace.py" "$tmp/strace.txt" "$tmp/totals.json" "$tmp/prov.json" "$out"
if [[ -n $keep ]]; then
    mkdir -p "$keep" && cp "$tmp/strace.txt" "$tmp/totals.json" "$tmp/prov.json" "$keep/"
fi
exit "$status"
