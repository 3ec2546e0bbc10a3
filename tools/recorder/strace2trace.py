#!/usr/bin/env python3
"""Converts `strace -f -ttt` output of a recorded command into a Shadowbox trace
(docs/trace-format.md): gzipped JSON lines, a header, one line per event, a trailer.

Usage: strace2trace.py STRACE.txt TOTALS.json PROVENANCE.json OUT.jsonl.gz

The first process in the strace output is the recorder's wrapper (rusage_wrap.py): it is left
out, and the process it starts is the trace's root. What is measured and what is inferred is
listed in the header and in docs/trace-format.md.
"""
import gzip
import json
import os
import re
import sys

VERSION = 1
LINE = re.compile(r'^(\d+)\s+(\d+\.\d+)\s+(.*)$')
CALL = re.compile(r'^([a-z_0-9]+)\((.*)\)\s+=\s+(0x[0-9a-f]+|-?\d+|\?)(?:\s+(\S+))?')
UNFINISHED = re.compile(r'^([a-z_0-9]+)\((.*?)\s*<unfinished \.\.\.>$')
RESUMED = re.compile(r'^<\.\.\. ([a-z_0-9]+) resumed>(.*)$')
EXITED = re.compile(r'^\+\+\+ (exited with (\d+)|killed by (SIG[A-Z0-9]+)).*\+\+\+$')
EXEC_PATH = re.compile(r'^"((?:[^"\\]|\\.)*)"')
PAGE = 4096
WANTED = {"fork", "vfork", "clone", "clone3", "execve", "execveat", "exit", "exit_group", "wait4", "waitid",
          "mmap", "mmap2", "munmap", "mprotect", "brk", "mremap"}


def pages(length):
    return (length + PAGE - 1) // PAGE


def num(s):
    s = s.strip()
    return int(s, 16) if s.startswith("0x") else int(s)


def split_args(s):
    """Top-level comma split of a syscall's argument text (braces, brackets, quotes nest)."""
    out, depth, cur, q, esc = [], 0, [], False, False
    for ch in s:
        if q:
            cur.append(ch)
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                q = False
            continue
        if ch == '"':
            q = True
        elif ch in "{[(":
            depth += 1
        elif ch in "}])":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append("".join(cur).strip())
            cur = []
            continue
        cur.append(ch)
    if cur:
        out.append("".join(cur).strip())
    return out


def prot(s):
    return ("r" if "PROT_READ" in s else "-") + ("w" if "PROT_WRITE" in s else "-") + ("x" if "PROT_EXEC" in s else "-")


class Proc:
    __slots__ = ("pid", "parent", "start", "end", "blocked", "code", "sig", "mapped", "brk", "execs", "events")

    def __init__(self, pid, parent, start):
        self.pid, self.parent, self.start, self.end = pid, parent, start, None
        self.blocked, self.code, self.sig, self.mapped, self.brk, self.execs = 0, None, None, 0, None, 0
        self.events = 0


def file_pages(path, cwd, cache):
    """Size in pages of the executable at {@code path} now (None if it is gone): measured at conversion."""
    full = path if path.startswith("/") else os.path.join(cwd or "/", path)
    if full not in cache:
        try:
            cache[full] = pages(os.stat(full).st_size)
        except OSError:
            cache[full] = None
    return cache[full]


def convert(strace_path, totals, provenance, out_path):
    procs = {}       # tgid -> Proc, the live (or last) process of that pid
    finished = []    # processes whose pid was reused after they exited
    last_end = {}    # pid -> when its last holder exited
    orphans = {}     # pid -> a process seen before its parent's fork returned
    tgid = {}        # tid -> tgid
    pending = {}     # tid -> (ts, name, args text) of an unfinished call
    events = []      # (ts, seq, dict)
    counts = {"failed_execs": 0, "failed_calls": 0, "threads": 0, "lines": 0}
    wrapper = None
    sizes = {}
    cwd = provenance.get("cwd")
    t0 = None
    seq = 0

    def emit(ts, p, e, **kw):
        nonlocal seq
        d = {"t": ts, "p": p, "e": e}
        d.update(kw)
        events.append((ts, seq, d))
        seq += 1

    with open(strace_path, encoding="utf-8", errors="replace") as f:
        for lineno, raw in enumerate(f, 1):
            counts["lines"] += 1
            m = LINE.match(raw.rstrip("\n"))
            if not m:
                continue
            tid, text = int(m.group(1)), m.group(3)
            ts_us = int(round(float(m.group(2)) * 1e6))
            if t0 is None:
                t0, wrapper = ts_us, tid
                tgid[tid] = tid
                procs[tid] = Proc(tid, None, 0)
            ts = ts_us - t0
            if tid not in tgid:  # a child whose first line came before its parent's clone returned
                tgid[tid] = tid
                procs[tid] = Proc(tid, None, ts)
                orphans[tid] = procs[tid]  # linked to its parent there (it may even have exited by then)
            pid = tgid[tid]
            if text.startswith("+++"):
                x = EXITED.match(text)
                if x and tid == pid:
                    p = procs[pid]
                    p.end = ts
                    if x.group(2) is not None:
                        p.code = int(x.group(2))
                    else:
                        p.sig = x.group(3)
                    if pid != wrapper:
                        # the pid may be reused by a later process: that one gets its own Proc
                        finished.append(procs.pop(pid))
                        last_end[pid] = ts
                if x:
                    tgid.pop(tid, None)
                continue
            if text.startswith("---"):
                continue
            u = UNFINISHED.match(text)
            if u:
                pending[tid] = (ts, u.group(1), u.group(2))
                continue
            r = RESUMED.match(text)
            if r:
                if tid not in pending or pending[tid][1] != r.group(1):
                    continue
                ets, name, args = pending.pop(tid)
                rest = r.group(2)
                sep = ", " if args and not rest.startswith(")") and not rest.startswith(",") else ""
                text = name + "(" + args + sep + rest
                # the call blocked from ets to ts: wait4/waitid/vfork are the ones that sleep
                if name in ("wait4", "waitid", "vfork") or (name in ("clone", "clone3") and "CLONE_VFORK" in args):
                    procs[pid].blocked += ts - ets
                ts_call = ets
            else:
                ts_call = ts
            c = CALL.match(text)
            if not c:
                if text.startswith("exit_group(") or text.startswith("exit("):
                    c = None
                    name = text.split("(", 1)[0]
                    if name == "exit_group" or tid == pid:
                        procs[pid].end = procs[pid].end or ts_call
                continue
            name, args, ret = c.group(1), c.group(2), c.group(3)
            if name not in WANTED:
                continue
            if name in ("exit_group", "exit"):
                if name == "exit_group" or tid == pid:
                    procs[pid].end = procs[pid].end or ts_call
                continue
            if ret == "?":
                continue
            rv = num(ret)
            if rv < 0 and not ret.startswith("0x"):
                counts["failed_execs" if name.startswith("execve") else "failed_calls"] += 1
                continue
            a = split_args(args)
            if name in ("fork", "vfork", "clone", "clone3"):
                child = rv
                flags = args if name in ("clone", "clone3") else ""
                if "CLONE_THREAD" in flags:
                    counts["threads"] += 1
                    tgid[child] = pid
                    continue
                kind = "vfork" if name == "vfork" or "CLONE_VFORK" in flags else ("fork" if name == "fork" else "clone")
                vm = 1 if name == "vfork" or "CLONE_VM" in flags else 0
                if child in orphans:
                    o = orphans.pop(child)
                    o.parent, o.start = pid, ts_call  # it spoke (or even exited) before its fork returned
                else:
                    # a reused pid: the new process is born after the old one's end, even if the
                    # parent entered clone a moment before the old one was reaped
                    ts_call = max(ts_call, last_end.get(child, ts_call))
                    procs[child] = Proc(child, pid, ts_call)
                    tgid[child] = child
                emit(ts_call, pid, "fork", c=child, k=kind, vm=vm)
            elif name in ("execve", "execveat"):
                pm = EXEC_PATH.match(a[1] if name == "execveat" else a[0])
                path = pm.group(1) if pm else "?"
                procs[pid].brk = None
                procs[pid].execs += 1
                sz = file_pages(path, cwd, sizes)
                emit(ts_call, pid, "exec", f=path.rsplit("/", 1)[-1], **({"sz": sz} if sz is not None else {}))
            elif name in ("wait4", "waitid"):
                if name == "wait4" and rv > 0:
                    emit(ts_call, pid, "wait", c=rv)
                elif name == "waitid" and rv == 0 and "si_pid=" in args:
                    m2 = re.search(r"si_pid=(\d+)", args)
                    emit(ts_call, pid, "wait", c=int(m2.group(1)))
            elif name in ("mmap", "mmap2"):
                n = pages(num(a[1]))
                procs[pid].mapped += n
                emit(ts_call, pid, "mmap", a="%x" % (rv // PAGE), n=n, r=prot(a[2]),
                     s=1 if "MAP_SHARED" in a[3] else 0, an=1 if "MAP_ANONYMOUS" in a[3] else 0,
                     fx=1 if "MAP_FIXED" in a[3] else 0)
            elif name == "munmap":
                emit(ts_call, pid, "munmap", a="%x" % (num(a[0]) // PAGE), n=pages(num(a[1])))
            elif name == "mprotect":
                emit(ts_call, pid, "mprotect", a="%x" % (num(a[0]) // PAGE), n=pages(num(a[1])), r=prot(a[2]))
            elif name == "mremap":
                n2 = pages(num(a[2]))
                procs[pid].mapped += max(0, n2 - pages(num(a[1])))
                emit(ts_call, pid, "mremap", a="%x" % (num(a[0]) // PAGE), n=pages(num(a[1])), a2="%x" % (rv // PAGE), n2=n2)
            elif name == "brk":
                top = pages(rv)
                p = procs[pid]
                if p.brk is not None and top != p.brk:
                    if top > p.brk:
                        p.mapped += top - p.brk
                    emit(ts_call, pid, "brk", a="%x" % top, n=top - p.brk)
                p.brk = top
    if t0 is None:
        raise SystemExit("strace2trace: %s has no strace lines: was the command traced?" % strace_path)
    end_ts = max((e[0] for e in events), default=0)
    root = None
    for p in sorted(finished + list(procs.values()), key=lambda q: q.start):
        if p.parent == wrapper and root is None:
            root = p.pid
    del procs[wrapper]
    events = [e for e in events if e[2]["p"] != wrapper]
    allprocs = finished + list(procs.values())
    for p in allprocs:
        if p.end is None:
            p.end = end_ts
        if p.parent == wrapper:
            p.parent = None
    # inferred per-process CPU and first touches: the measured totals shared out (see docs/trace-format.md)
    run = {id(p): max(1, (p.end - p.start) - p.blocked) for p in allprocs}
    total_run = sum(run.values())
    user_us, sys_us = totals["user_s"] * 1e6, totals["sys_s"] * 1e6
    weight = {id(p): max(1, p.mapped) for p in allprocs}
    total_w = sum(weight.values())
    for p in allprocs:
        share = run[id(p)] / total_run
        emit(p.end, p.pid, "exit", code=p.code if p.code is not None else -1, **({"sig": p.sig} if p.sig else {}),
             wall=p.end - p.start, run=run[id(p)], ut=int(round(user_us * share)), st=int(round(sys_us * share)),
             flt=int(round(totals["minflt"] * weight[id(p)] / total_w)))
    # the exit sorts after every other event of its process at the same time (larger seq)
    events.sort(key=lambda e: (e[0], e[1]))
    kinds = {}
    for _, _, d in events:
        kinds[d["e"]] = kinds.get(d["e"], 0) + 1
    header = {"format": "shadowbox-trace", "version": VERSION, "root": root, "start_epoch_us": t0,
              "measured": totals, "provenance": provenance,
              "counts": {"processes": len(allprocs), "pids_reused": len(finished) - len({p.pid for p in finished}) + sum(1 for p in finished if p.pid in procs), "events": kinds, "threads_folded": counts["threads"],
                         "failed_execs": counts["failed_execs"], "failed_calls": counts["failed_calls"],
                         "strace_lines": counts["lines"]},
              "inferred": ["exit.ut", "exit.st", "exit.flt"]}
    with gzip.open(out_path, "wt", encoding="utf-8", compresslevel=9) as out:
        out.write(json.dumps(header, separators=(",", ":")) + "\n")
        for _, _, d in events:
            out.write(json.dumps(d, separators=(",", ":")) + "\n")
        out.write(json.dumps({"e": "end", "events": len(events), "processes": len(allprocs)}, separators=(",", ":")) + "\n")
    return header


if __name__ == "__main__":
    if len(sys.argv) != 5:
        sys.stderr.write("usage: strace2trace.py STRACE.txt TOTALS.json PROVENANCE.json OUT.jsonl.gz\n")
        sys.exit(2)
    with open(sys.argv[2]) as f:
        tot = json.load(f)
    with open(sys.argv[3]) as f:
        prov = json.load(f)
    h = convert(sys.argv[1], tot, prov, sys.argv[4])
    c = h["counts"]
    print("record: %d processes, %s events -> %s" % (c["processes"], sum(c["events"].values()), sys.argv[4]))
