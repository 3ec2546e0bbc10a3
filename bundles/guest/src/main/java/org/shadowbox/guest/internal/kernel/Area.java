package org.shadowbox.guest.internal.kernel;

import java.util.Arrays;

/**
 * A virtual memory area ({@code struct vm_area_struct}): a page-aligned range of a process's
 * user half with its rights and what backs it (anonymous memory or a file). {@link #frame}
 * is the kernel's bookkeeping of which page each of its ptes maps (-1: none), kept in step
 * with every pte it writes, against which each access's translation is checked.
 */
public final class Area {
    public static final int READ = 1, WRITE = 2, EXEC = 4;
    /** No file behind it. */
    public static final int ANON = -1;

    final long start;
    int pages;
    int prot;
    /** The file id, or {@link #ANON}. */
    final int file;
    /** First file page mapped. */
    final long fileOffset;
    /** Whether anonymous pages may be in it ({@code vma->anon_vma}): a fork copies its ptes. */
    boolean anonVma;
    int[] frame;

    Area(long start, int pages, int prot, int file, long fileOffset) {
        this.start = start;
        this.pages = pages;
        this.prot = prot;
        this.file = file;
        this.fileOffset = fileOffset;
        this.anonVma = file == ANON;
        this.frame = new int[pages];
        Arrays.fill(frame, -1);
    }

    /**
     * {@code __split_vma}'s new half: pages {@code at} to the end of this area become an area of
     * their own (the same rights, file at the matching offset, {@code anon_vma}, and the frames
     * their ptes map); this area keeps pages 0 to {@code at}. No pte changes.
     */
    Area splitOff(int at) {
        if (at <= 0 || at >= pages) {
            throw new IllegalArgumentException("guest kernel bug: split of " + this + " at page " + at);
        }
        Area b = new Area(start + ((long) at << 12), pages - at, prot, file, file == ANON ? 0 : fileOffset + at);
        b.anonVma = anonVma;
        System.arraycopy(frame, at, b.frame, 0, pages - at);
        frame = Arrays.copyOf(frame, at);
        pages = at;
        return b;
    }

    /** A copy for the child of a fork, mapping what the parent maps (the ptes are copied separately). */
    Area copyForFork() {
        Area a = new Area(start, pages, prot, file, fileOffset);
        a.anonVma = anonVma;
        return a;
    }

    public long start() {
        return start;
    }

    public long end() {
        return start + ((long) pages << 12);
    }

    public int pages() {
        return pages;
    }

    public int prot() {
        return prot;
    }

    /** The file id, or {@link #ANON}. */
    public int file() {
        return file;
    }

    /** The gfn page {@code page} maps now, -1 if none. */
    public int frame(int page) {
        return frame[page];
    }

    public boolean writable() {
        return (prot & WRITE) != 0;
    }

    public boolean executable() {
        return (prot & EXEC) != 0;
    }

    boolean contains(long va) {
        return va >= start && va < end();
    }

    /** Pages with a pte now. */
    public int resident() {
        int n = 0;
        for (int f : frame) {
            if (f >= 0) {
                n++;
            }
        }
        return n;
    }

    void grow(int newPages) {
        frame = Arrays.copyOf(frame, newPages);
        Arrays.fill(frame, pages, newPages, -1);
        pages = newPages;
    }

    @Override
    public String toString() {
        return "area 0x" + Long.toHexString(start) + "-0x" + Long.toHexString(end()) + " prot " + prot
                + (file == ANON ? " anon" : " file " + file);
    }
}
