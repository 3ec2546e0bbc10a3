#!/usr/bin/env bash
# Whether this host's two cores give two threads twice one thread's work, before any Java: each
# loop of bench/host-cores.c alone on core 0, then on cores 0 and 1 at once; the ratio is the
# two threads' work per second over one thread's (2.00: two full cores; about 1.0 for "ports" on
# two hyperthreads of one core). Then what one cache line costs to go from core 0 to core 1 and
# back (two threads passing it, pinned): every line two vCPU threads both write pays that. Last,
# what two threads incrementing two words pay for how close the words lie (one line, the two lines
# of a 128-byte pair, further): how far apart padding must keep two threads' hot fields. Needs
# gcc and taskset (util-linux).
#
#   bench/host-cores.sh
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)
command -v gcc >/dev/null 2>&1 || { echo "host-cores.sh: needs gcc (apt-get install gcc)" >&2; exit 2; }
command -v taskset >/dev/null 2>&1 || { echo "host-cores.sh: needs taskset (apt-get install util-linux)" >&2; exit 2; }
[[ $(nproc) -ge 2 ]] || { echo "host-cores.sh: needs 2 cores, this host has $(nproc)" >&2; exit 2; }
bin=$(mktemp "${TMPDIR:-/tmp}/host-cores.XXXXXX")
trap 'rm -f "$bin" "$bin".a "$bin".b' EXIT
gcc -O2 -pthread -o "$bin" "$root/bench/host-cores.c"
echo "$(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'); load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "| loop | alone, s | both at once, s (core 0, core 1) | two threads / one |"
echo "|---|---:|---:|---:|"
for spec in "ports 2000000000" "latency 600000000" "memory 200000000 1" "memory 200000000 16" "memory 100000000 256"; do
    read -r loop n mb <<<"$spec"
    alone=$(taskset -c 0 "$bin" $loop $n ${mb:-})
    taskset -c 0 "$bin" $loop $n ${mb:-} > "$bin.a" &
    taskset -c 1 "$bin" $loop $n ${mb:-} > "$bin.b"
    wait
    a=$(cat "$bin.a") b=$(cat "$bin.b")
    label=$loop${mb:+ $mb MB}
    python3 -c "import sys; al, a, b = map(float, sys.argv[1:4]); print(f'| {sys.argv[4]} | {al:.2f} | {max(a, b):.2f} ({a:.2f}, {b:.2f}) | {al / a + al / b:.2f} |')" "$alone" "$a" "$b" "$label"
done
pp=$(for _ in 1 2 3 4 5; do "$bin" pingpong 1000000; done | sort -n | sed -n 3p)
echo
echo "a cache line from core 0 to core 1 and back (pingpong, median of 5): $pp ns"
echo
echo "| two threads incrementing, each its own word, this many bytes apart | core 1, ns per increment | core 0, ns per increment |"
echo "|---|---:|---:|"
for d in 8 64 128 192 256 512; do
    read -r c1 c0 <<<"$(for _ in 1 2 3; do "$bin" neighbour 200000000 $d; done | sort -n | sed -n 2p)"
    echo "| $d | $c1 | $c0 |"
done
