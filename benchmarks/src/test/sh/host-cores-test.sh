#!/usr/bin/env bash
# bench/host-cores.c, the host check behind docs/benchmarks.md's "two threads / one" of plain
# loops, the cache line's round trip and the neighbour words: it compiles, each loop prints its
# seconds (pingpong its nanoseconds, neighbour two threads' nanoseconds per increment, where there
# are 2 cores), and a bad loop name, count, size or distance is refused with one line saying what
# is accepted. Tiny iteration counts: it checks the program, not the host.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd -P)
command -v gcc >/dev/null 2>&1 || { echo "host-cores-test: needs gcc (.ci/run installs it)" >&2; exit 1; }
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
gcc -O2 -pthread -Wall -Werror -o "$dir/hc" "$root/bench/host-cores.c"
fail=0
for args in "ports 1000" "latency 1000" "memory 1000 1"; do
    # shellcheck disable=SC2086
    out=$("$dir/hc" $args)
    [[ $out =~ ^[0-9]+\.[0-9]{3}$ ]] || { echo "host-cores-test: '$args' printed '$out', not seconds" >&2; fail=1; }
done
if [[ $(nproc) -ge 2 ]]; then
    out=$("$dir/hc" pingpong 1000)
    [[ $out =~ ^[0-9]+\.[0-9]$ ]] || { echo "host-cores-test: 'pingpong 1000' printed '$out', not nanoseconds" >&2; fail=1; }
    out=$("$dir/hc" neighbour 1000 64)
    [[ $out =~ ^[0-9]+\.[0-9]{2}\ [0-9]+\.[0-9]{2}$ ]] || { echo "host-cores-test: 'neighbour 1000 64' printed '$out', not two threads' nanoseconds" >&2; fail=1; }
fi
# shellcheck source=refused.sh
source "$(dirname "${BASH_SOURCE[0]}")/refused.sh"
refused host-cores-test "the loop is ports, latency, memory, pingpong or neighbour, not cache" "$dir/hc" cache 10
refused host-cores-test "ITERATIONS must be a positive count, not 0" "$dir/hc" ports 0
refused host-cores-test "MB must be a power of two, not 3" "$dir/hc" memory 10 3
refused host-cores-test "DISTANCE must be a multiple of 8 from 8 to 4096 bytes, not 12" "$dir/hc" neighbour 10 12
refused host-cores-test "usage: host-cores ports|latency|memory|pingpong|neighbour ITERATIONS [MB|DISTANCE]" "$dir/hc" ports
[[ $fail == 0 ]] || exit 1
echo "host-cores-test: ok (compiles, prints seconds, a round trip and neighbours' increments, refuses bad loops, sizes and distances)"
