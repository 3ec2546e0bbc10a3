package org.shadowbox.guest.internal.kernel;

import java.util.Arrays;

/**
 * The page cache: files of the guest's "disk" and the guest pages caching them. A missing page
 * is allocated and filled by the kernel copying the file's words into it (512 stores, as a read
 * into a bounce buffer followed by a copy would). Cached pages stay for the run (no reclaim):
 * the files of a scenario are small.
 */
final class PageCache {
    private final PhysMem phys;
    private final KernelMemory km;
    private final MemoryImage image;
    private final Counters counters;
    private int[][] files = new int[8][];
    private int nFiles;

    PageCache(PhysMem phys, KernelMemory km, MemoryImage image, Counters counters) {
        this.phys = phys;
        this.km = km;
        this.image = image;
        this.counters = counters;
    }

    /** A new file of {@code pages} pages; returns its id. */
    int create(int pages) {
        if (nFiles == files.length) {
            files = Arrays.copyOf(files, nFiles * 2);
        }
        int[] p = new int[pages];
        Arrays.fill(p, -1);
        files[nFiles] = p;
        return nFiles++;
    }

    int pages(int file) {
        return files[file].length;
    }

    /**
     * The page caching {@code page} of {@code file} for a write ({@code grab_cache_page_write_begin}):
     * a missing page is allocated and zeroed, not read from disk.
     */
    long getForWrite(int cpu, int file, long page) {
        int[] p = files[file];
        if (p[(int) page] >= 0) {
            return p[(int) page];
        }
        long gfn = phys.alloc(PhysMem.FILE);
        km.clearDataPage(cpu, gfn);
        image.clear(gfn);
        p[(int) page] = (int) gfn;
        return gfn;
    }

    /** {@code filemap_fault}: the page caching {@code page} of {@code file}, read in on a miss. */
    long get(int cpu, int file, long page) {
        int[] p = files[file];
        if (p[(int) page] >= 0) {
            return p[(int) page];
        }
        long gfn = phys.alloc(PhysMem.FILE);
        km.fillDataPage(cpu, gfn, file, page);
        for (int s = 0; s < MemoryImage.SLOTS; s++) {
            image.set(gfn, s, MemoryImage.fileWord(file, page, s * (MemoryImage.SLOT_BYTES / 8)));
        }
        counters.fileFills++;
        p[(int) page] = (int) gfn;
        return gfn;
    }
}
