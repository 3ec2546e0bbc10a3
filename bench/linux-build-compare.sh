#!/usr/bin/env bash
# The whole recorded kernel build under both policies, as a user runs it:
# `./shadowbox -c 'run:compare linux-build'`, timed from the shell (JVM start, trace parse,
# both runs, the report), with the launcher jar already built. Checks what issue 11 asks of it:
# the guest saw the same under both policies (every guest count, the memory checksum), and the
# simulated processes and execs equal the recorded ones. Prints the machine, the load, the
# wall time, each run's host time and host seconds per million MMU events (VM exits).
#
#   bench/linux-build-compare.sh [ROOT]     ROOT: a checkout with a built launcher (default: this one)
#
# With KEEP=DIR set, the comparison's JSON output and its result files are kept in DIR.
# The sandbox gets up to 120 s to be ready (SHADOWBOX_WAIT_MS): a loaded machine starts slowly.
# Exit status 1 if the comparison fails or a check does not hold. Needs python3 (to read the JSON).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
root=${1:-$here}
[[ -x $root/shadowbox && -f $root/launcher/target/shadowbox.jar ]] \
    || { echo "linux-build-compare.sh: $root has no ./shadowbox with a built launcher/target/shadowbox.jar; build it first (./shadowbox -c 'vm:list')" >&2; exit 2; }
command -v python3 >/dev/null || { echo "linux-build-compare.sh: python3 not found (Debian: apt-get install python3)" >&2; exit 2; }

work=$(mktemp -d "${TMPDIR:-/tmp}/linux-build-compare.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp -r "$root/workspace" "$work/ws"
rm -f "$work/ws/results/"*.json "$work/ws/results/"*.csv "$work/ws/results/"*.svg

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), load before $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit:  $(git -C "$root" log -1 --format='%h %s' 2>/dev/null | cut -c1-80)"
start=$(date +%s%N)
timer=()
[[ -x /usr/bin/time ]] && timer=(/usr/bin/time -o "$work/cpu.txt" -f '%U %S')
if ! SHADOWBOX_NO_BUILD=1 SHADOWBOX_WAIT_MS=${SHADOWBOX_WAIT_MS:-120000} SHADOWBOX_WORKSPACE=$work/ws ${timer[@]+"${timer[@]}"} "$root/shadowbox" \
        -c 'echo (run:compare linux-build --json)' >"$work/out.json" 2>"$work/err.txt"; then
    echo "linux-build-compare.sh: run:compare linux-build failed:" >&2
    cat "$work/err.txt" >&2
    exit 1
fi
end=$(date +%s%N)
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
if [[ -n ${KEEP:-} ]]; then
    mkdir -p "$KEEP" && cp "$work/out.json" "$work/ws/results/"* "$KEEP/" && echo "kept in $KEEP"
fi
python3 - "$work/out.json" "$(( (end - start) / 1000000 ))" "$(cat "$work/cpu.txt" 2>/dev/null || true)" <<'EOF'
import json, sys
text = open(sys.argv[1]).read()
d = json.JSONDecoder().raw_decode(text[text.index('{"'):])[0]
wall = int(sys.argv[2]) / 1000
ok = True
cpu = sys.argv[3].split()
cpu_text = f", {float(cpu[0]) + float(cpu[1]):.1f} s of CPU (user {cpu[0]}, sys {cpu[1]})" if len(cpu) == 2 else ""
print(f"./shadowbox -c 'run:compare linux-build': {wall:.1f} s wall{cpu_text} (JVM start, parse, both runs, report)")
for k in ("legacy", "pagetrack"):
    r = d[k]
    exits = r["mmu_stats"]["exits"]
    cpu_run = f", CPU {r['host_cpu_s']:.2f} s = {r['host_cpu_s'] / exits * 1e6:.2f} CPU s per million exits" if "host_cpu_s" in r else ""
    print(f"  {k:9s} host {r['host_s']:7.2f} s{cpu_run}, VM exits {exits:,}, {r['host_s'] / exits * 1e6:.2f} host s per million exits,"
          f" guest accesses simulated {r['guest_counts']['accesses']:,}; sys {r['sys_s']:.2f} s, real {r['real_s']:.2f} s")
b, a = d["legacy"], d["pagetrack"]
same = b["guest_counts"] == a["guest_counts"] and b["checksum"] == a["checksum"]
print(f"  guest under both policies: {'identical' if same else 'DIFFERENT'} (checksum {b['checksum']} / {a['checksum']})")
ok &= same
rec = d["recorded"]
for what, recorded, simulated in (("processes", rec["recorded_processes"], a["guest_counts"]["processes"]),
                                  ("execs", rec["recorded_execs"], a["guest_counts"]["execs"])):
    print(f"  {what}: recorded {recorded:,}, simulated {simulated:,}")
    ok &= recorded == simulated
print(f"  first touches: recorded minor faults {rec['recorded_minor_faults']:,}, made {rec['first_touches']:,},"
      f" unplaced {rec['first_touches_unplaced']:,}; partial mprotects re-enacted {rec.get('partial_mprotects', '-')},"
      f" not re-enacted {rec.get('partial_mprotects_skipped', 0):,}")
p = d["prediction"]
print(f"  sys change {d['table'][2]['change_percent']:+.3f}% (over the cited ranges {p['sys_change_percent'][0]:+.3f}% to"
      f" {p['sys_change_percent'][1]:+.3f}%; basis: {p.get('basis', 'calibration run')})")
sys.exit(0 if ok else 1)
EOF
