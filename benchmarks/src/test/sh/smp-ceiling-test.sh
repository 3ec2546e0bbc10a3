#!/usr/bin/env bash
# bench/smp-ceiling.sh's table from JMH JSON files of known scores (SHADOWBOX_CEILING_DIR: render
# only, nothing measured): each round's accesses/s and ratios, computed by hand below, the median
# over the rounds, and the one-line errors for a missing file and a bad round count.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd -P)
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
python3 - "$dir" <<'PY'
import json, os, sys
d = sys.argv[1]
M = 1e6
def write(name, ops, accesses=None):
    r = {"benchmark": "org.shadowbox.bench.X", "params": {}, "primaryMetric": {"score": ops, "rawData": [[ops]]},
         "secondaryMetrics": {}}
    if accesses is not None:
        r["secondaryMetrics"]["accesses"] = {"score": accesses, "rawData": [[accesses]]}
    json.dump([r], open(os.path.join(d, name + ".json"), "w"))
# round 1: a one-thread run is 20 M accesses; 1 run/s alone. SMP 32 M/s (1.60); two runs in one
# JVM 1.8 runs/s = 36 M/s (1.80; their own counter, 99, is ignored); two JVMs 0.95 + 0.95 runs/s
# = 38 M/s (1.90). SMP / two runs 32/36 = 0.89, SMP / two JVMs 32/38 = 0.84 (0.8421).
write("r1-one", 1.0, 20 * M)
write("r1-smp", 1.6, 32 * M)
write("r1-tworuns", 1.8, 99 * M)
write("r1-twojvms-a", 0.95, 19 * M)
write("r1-twojvms-b", 0.95, 19 * M)
# round 2: everything at half speed but two JVMs (1.0 + 0.9 runs/s of 20 M: 38 M/s against 10):
# 3.80; the median of 1.90 and 3.80 is 2.85. SMP 17 M/s against 10: 1.70, median 1.65; SMP / two
# runs 17/18 = 0.9444, median with 0.8889 0.92; SMP / two JVMs 17/38 = 0.4474, median with 0.8421 0.64.
write("r2-one", 0.5, 10 * M)
write("r2-smp", 0.85, 17 * M)
write("r2-tworuns", 0.9, 1 * M)
write("r2-twojvms-a", 1.0, 20 * M)
write("r2-twojvms-b", 0.9, 18 * M)
PY
echo "nproc 2, test machine" > "$dir/header.txt"
out=$(SHADOWBOX_CEILING_DIR="$dir" bash "$root/bench/smp-ceiling.sh")
test_name=smp-ceiling-test
# shellcheck source=expect.sh
source "$(dirname "${BASH_SOURCE[0]}")/expect.sh"
expect "nproc 2, test machine"
expect "| 1 | 20.00 | 32.00 | 36.00 | 38.00 (0.95, 0.95) | 1.60 | 1.80 | 1.90 | 0.89 | 0.84 |"
expect "| 2 | 10.00 | 17.00 | 18.00 | 38.00 (1.00, 0.90) | 1.70 | 1.80 | 3.80 | 0.94 | 0.45 |"
expect "| median | | | | | 1.65 | 1.80 | 2.85 | 0.92 | 0.64 |"
expect "Ranges over the rounds: smp 1.60 to 1.70; tworuns 1.80 to 1.80; twojvms 1.90 to 3.80"
# a round without its two-JVM file: one line naming the file, and a failure
rm "$dir/r2-twojvms-b.json"
if err=$(SHADOWBOX_CEILING_DIR="$dir" bash "$root/bench/smp-ceiling.sh" 2>&1); then
    echo "smp-ceiling-test: a missing r2-twojvms-b.json rendered: $err" >&2
    fail=1
elif [[ $err != *"r2-twojvms-b.json is missing"* || $(wc -l <<<"$err") -ne 1 ]]; then
    echo "smp-ceiling-test: a missing file's error is not one line naming it: $err" >&2
    fail=1
fi
if err=$(bash "$root/bench/smp-ceiling.sh" two 2>&1) || [[ $err != *"ROUNDS must be a positive whole number, not 'two'"* ]]; then
    echo "smp-ceiling-test: ROUNDS 'two' was not refused with its one-line error: $err" >&2
    fail=1
fi
[[ $fail == 0 ]] || { echo "$out" >&2; exit 1; }
echo "smp-ceiling-test: ok (accesses/s, ratios per round, medians, errors)"
