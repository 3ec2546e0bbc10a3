#!/usr/bin/env bash
# Startup benchmark: how long `./shadowbox -c 'vm:list'` takes, from the shell's point of
# view (JVM start, framework and bundles, readiness, the command, shutdown), with the
# launcher jar already built.
#
#   bench/startup.sh [RUNS] [COMMAND]     defaults: 10 runs of 'vm:list'
#
# Uses hyperfine when it is installed, else a bash loop timing each run with date +%s%N.
# Prints mean, min and max in milliseconds. One warm-up run is not counted.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
runs=${1:-10}
command=${2:-vm:list}
[[ $runs =~ ^[1-9][0-9]*$ ]] || { echo "startup.sh: RUNS must be a positive integer, got '$runs'" >&2; exit 2; }

# Build once if needed, outside the measurement; fail early if the command fails.
if ! "$root/shadowbox" -c "$command" >/dev/null 2>"${TMPDIR:-/tmp}/startup-bench.err"; then
    echo "startup.sh: ./shadowbox -c '$command' failed:" >&2
    cat "${TMPDIR:-/tmp}/startup-bench.err" >&2
    exit 1
fi
export SHADOWBOX_NO_BUILD=1

echo "./shadowbox -c '$command', $runs runs, $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
if command -v hyperfine >/dev/null 2>&1; then
    hyperfine --warmup 1 --runs "$runs" --export-json "${TMPDIR:-/tmp}/startup-bench.json" \
        "$root/shadowbox -c '$command'"
    exit 0
fi

total=0
min=
max=0
for ((i = 0; i < runs; i++)); do
    start=$(date +%s%N)
    "$root/shadowbox" -c "$command" >/dev/null 2>&1
    end=$(date +%s%N)
    ms=$(((end - start) / 1000000))
    total=$((total + ms))
    [[ -z $min || $ms -lt $min ]] && min=$ms
    [[ $ms -gt $max ]] && max=$ms
done
echo "mean $((total / runs)) ms, min $min ms, max $max ms"
