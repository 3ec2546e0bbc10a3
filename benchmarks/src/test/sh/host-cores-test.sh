#!/usr/bin/env bash
# bench/host-cores.c, the host check behind docs/benchmarks.md's "two threads / one" of plain
# loops and the cache line's round trip: it compiles, each loop prints its seconds (pingpong its
# nanoseconds, where there are 2 cores), and a bad loop name, count or size is refused with
# one line saying what is accepted. Tiny iteration counts: it checks the program, not the host.
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
fi
refused() { # expected-text args...
    local want=$1 err
    shift
    if err=$("$dir/hc" "$@" 2>&1); then
        echo "host-cores-test: '$*' was accepted: $err" >&2
        fail=1
    elif [[ $err != *"$want"* || $(wc -l <<<"$err") -ne 1 ]]; then
        echo "host-cores-test: '$*' gave '$err', not one line with '$want'" >&2
        fail=1
    fi
}
refused "the loop is ports, latency, memory or pingpong, not cache" cache 10
refused "ITERATIONS must be a positive count, not 0" ports 0
refused "MB must be a power of two, not 3" memory 10 3
refused "usage: host-cores ports|latency|memory|pingpong ITERATIONS [MB]" ports
[[ $fail == 0 ]] || exit 1
echo "host-cores-test: ok (compiles, prints seconds and a round trip, refuses bad loops and sizes)"
