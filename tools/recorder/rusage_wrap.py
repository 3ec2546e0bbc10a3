#!/usr/bin/env python3
"""Runs a command as the root of the recorded tree and writes what the kernel measured for the
whole tree: getrusage(RUSAGE_CHILDREN) after every descendant has been reaped.

Usage: rusage_wrap.py OUT.json -- COMMAND...

It makes itself a child subreaper (prctl PR_SET_CHILD_SUBREAPER), so a process orphaned by its
parent is reaped here and its CPU time and faults are counted too. It exits with the command's
status (128 + signal number if a signal killed it).
"""
import ctypes
import json
import os
import resource
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def main(argv):
    if len(argv) < 4 or argv[2] != "--":
        sys.stderr.write("usage: rusage_wrap.py OUT.json -- COMMAND...\n")
        return 2
    out, cmd = argv[1], argv[3:]
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
    except OSError:
        pass  # not fatal: orphans are then reaped by init and their usage is not counted
    start = time.time()
    pid = os.fork()
    if pid == 0:
        try:
            os.execvp(cmd[0], cmd)
        except OSError as e:
            sys.stderr.write("record: cannot run %s: %s\n" % (cmd[0], e.strerror))
            os._exit(127)
    status = 0
    while True:
        try:
            p, st = os.wait()
        except ChildProcessError:
            break
        if p == pid:
            status = os.waitstatus_to_exitcode(st)
            if status < 0:
                status = 128 - status
    wall = time.time() - start
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    with open(out, "w") as f:
        json.dump({"wall_s": round(wall, 6), "user_s": round(ru.ru_utime, 6), "sys_s": round(ru.ru_stime, 6),
                   "minflt": ru.ru_minflt, "majflt": ru.ru_majflt, "maxrss_kb": ru.ru_maxrss,
                   "status": status}, f)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
