#!/usr/bin/env python3
"""Which cache lines hold objects of both host threads, from a heap census (bench/heap-census.patch).

    bench/heap-census.py CENSUS [LINE]

CENSUS is the probe's output (diag.out): one object a line, "address size owner class path",
owner 1 for host thread 0, 2 for thread 1, 3 for both, 0 for the VM's shared structures. LINE is
the span looked at in bytes, 64 (a cache line, the default) or 128 (an aligned pair of lines).
Prints every span that holds an object of thread 0 and one of thread 1, then a count of spans
where an object of one thread meets a shared object, by the kinds of objects. Only an object's
first and last span are looked at: the spans inside an object larger than two lines hold
nothing else. A span listed here is a candidate, not a cost: it costs only if one thread writes
there often and the other reads or writes there often (the Javadoc of each class says what it
writes); the padding that keeps fields apart shows up as such a span too.
"""
import collections
import sys


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__.strip().split("\n\n")[1])
    line = int(sys.argv[2]) if len(sys.argv) == 3 else 64
    if line not in (64, 128):
        sys.exit(f"heap-census.py: LINE must be 64 or 128 bytes, not {sys.argv[2]}")
    objs = []
    with open(sys.argv[1]) as f:
        for n, text in enumerate(f, 1):
            parts = text.rstrip("\n").split(" ", 4)
            if len(parts) != 5:
                sys.exit(f"heap-census.py: {sys.argv[1]} line {n} is not 'address size owner class path': {text.strip()}")
            addr, size, owner, cls, path = parts
            objs.append((int(addr, 16), int(size), int(owner), cls.rsplit(".", 1)[-1], path))
    spans = collections.defaultdict(list)
    for o in objs:
        for s in {o[0] // line, (o[0] + o[1] - 1) // line}:
            spans[s].append(o)
    both = 0
    shared = collections.Counter()
    for s, here in sorted(spans.items()):
        owners = {o[2] for o in here}
        if 1 in owners and 2 in owners:
            both += 1
            print(f"{s * line:x}  " + "  |  ".join(f"{o[2]} {o[3]} ({o[1]} B at +{o[0] - s * line}) {o[4]}" for o in here))
        elif (1 in owners or 2 in owners) and (0 in owners or 3 in owners):
            shared[" | ".join(sorted({f"{o[2]} {o[3]}" for o in here}))] += 1
    print(f"\n{len(objs)} objects; {both} spans of {line} bytes hold objects of both threads")
    print(f"spans where a thread's object meets a shared one (owner 0 or 3), by kinds:")
    for kinds, n in shared.most_common(15):
        print(f"{n:6d}  {kinds}")


if __name__ == "__main__":
    main()
