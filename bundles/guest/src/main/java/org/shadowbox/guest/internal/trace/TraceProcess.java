package org.shadowbox.guest.internal.trace;

import java.util.Arrays;

/**
 * One recorded process: its events in the order it made them, as parallel primitive arrays
 * (a recorded build has hundreds of thousands), and what was measured or inferred for it at
 * its exit. Built by {@link TraceReader}; read-only afterwards.
 */
final class TraceProcess {
    static final byte FORK = 1, VFORK = 2, EXEC = 3, MMAP = 4, MUNMAP = 5, MPROTECT = 6, BRK = 7, MREMAP = 8,
            WAIT = 9, EXIT = 10;
    /** {@link #arg} bits of an mmap: rights, then how it is shared and backed. */
    static final int PROT_READ = 1, PROT_WRITE = 2, PROT_EXEC = 4, SHARED = 8, ANON = 16, FIXED = 32;

    final int index;
    final int pid;
    /** Index of the parent in the trace, -1 for the root. */
    final int parent;
    /** When it was forked (µs since the trace's start); the root's first event. */
    final long start;
    long end = -1;
    /** Exit status, -1 when killed by a signal. */
    int exitCode;
    /** User and system CPU µs and minor faults at exit (inferred by the recorder: docs/trace-format.md). */
    long userUs, sysUs, faults;

    int n;
    byte[] type = new byte[8];
    long[] time = new long[8];
    /** Page number of the address (mmap result, munmap/mprotect/mremap start, new brk top). */
    long[] addr = new long[8];
    /** Pages (mmap, munmap, mprotect, mremap's old size, brk's change). */
    int[] pages = new int[8];
    /** Per type: child index (fork), image index (exec), {@link #PROT_READ}... bits (mmap, mprotect), new size (mremap), exit status. */
    int[] arg = new int[8];
    /** mremap's new page number. */
    long[] aux = new long[8];

    TraceProcess(int index, int pid, int parent, long start) {
        this.index = index;
        this.pid = pid;
        this.parent = parent;
        this.start = start;
    }

    void add(byte ty, long t, long a, int p, int ar, long au) {
        if (n == type.length) {
            int c = n * 2;
            type = Arrays.copyOf(type, c);
            time = Arrays.copyOf(time, c);
            addr = Arrays.copyOf(addr, c);
            pages = Arrays.copyOf(pages, c);
            arg = Arrays.copyOf(arg, c);
            aux = Arrays.copyOf(aux, c);
        }
        type[n] = ty;
        time[n] = t;
        addr[n] = a;
        pages[n] = p;
        arg[n] = ar;
        aux[n] = au;
        n++;
    }

    boolean exited() {
        return end >= 0;
    }

    /** Recorded wall time alive, at least 1 µs. */
    long lifetime() {
        return Math.max(1, end - start);
    }
}
