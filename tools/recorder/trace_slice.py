#!/usr/bin/env python3
"""Cuts one process's subtree out of a Shadowbox trace (docs/trace-format.md) into a trace of
its own: that process becomes the root, and only it and its descendants' events are kept, in
their recorded order and times (shifted so the new root starts at 0).

Usage: trace_slice.py IN.jsonl.gz PID OUT.jsonl.gz

A slice is a real part of a real recording, small enough for a unit test (the shipped kernel
build's `make -f scripts/Makefile.build obj=kernel` subtree, for one). Its header keeps the
original's provenance, adds `slice` (the source, the pid, the process and event counts), and
replaces `measured` by the sums of the slice's per-process exit figures: those are the
recording's inferred shares (exit.ut, exit.st, exit.flt), not a measurement of the slice.
"""
import gzip
import json
import sys


def main(argv):
    if len(argv) != 4:
        print("usage: trace_slice.py IN.jsonl.gz PID OUT.jsonl.gz", file=sys.stderr)
        return 2
    src, pid, out = argv[1], int(argv[2]), argv[3]
    with gzip.open(src, "rt", encoding="utf-8") as f:
        header = json.loads(f.readline())
        lines = [json.loads(l) for l in f]
    if not lines or lines[-1].get("e") != "end":
        print(f"trace_slice: {src} has no end line; expected a complete trace", file=sys.stderr)
        return 2
    lines.pop()
    keep = {pid}
    events = []
    for m in lines:
        p = m["p"]
        if p not in keep:
            continue
        if m["e"] == "fork":
            keep.add(m["c"])
        events.append(m)
    if not events:
        print(f"trace_slice: pid {pid} made no events in {src}; accepted a pid of the trace", file=sys.stderr)
        return 2
    t0 = events[0]["t"]
    user = sys_ = flt = 0
    wall = 0
    counts = {}
    for m in events:
        m["t"] -= t0
        counts[m["e"]] = counts.get(m["e"], 0) + 1
        if m["e"] == "exit":
            user += m["ut"]
            sys_ += m["st"]
            flt += m["flt"]
            if m["p"] == pid:
                wall = m["t"]
    h = dict(header)
    h["root"] = pid
    h["start_epoch_us"] = header.get("start_epoch_us", 0) + t0
    h["measured"] = {"wall_s": wall / 1e6, "user_s": user / 1e6, "sys_s": sys_ / 1e6, "minflt": flt,
                     "note": "sums of the slice's per-process exit figures (inferred shares of the recording's totals)"}
    h["counts"] = {"processes": len(keep), "events": counts}
    h["slice"] = {"source": header.get("provenance", {}).get("workload", src), "root_pid": pid,
                  "processes": len(keep), "events": len(events), "tool": "tools/recorder/trace_slice.py"}
    with gzip.open(out, "wt", encoding="utf-8", compresslevel=9) as o:
        o.write(json.dumps(h, separators=(",", ":")) + "\n")
        for m in events:
            o.write(json.dumps(m, separators=(",", ":")) + "\n")
        o.write(json.dumps({"e": "end", "events": len(events), "processes": len(keep)}, separators=(",", ":")) + "\n")
    print(f"{out}: pid {pid}, {len(keep)} processes, {len(events)} events")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
