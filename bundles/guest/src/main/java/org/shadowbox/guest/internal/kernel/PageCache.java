package org.shadowbox.guest.internal.kernel;

import java.util.Arrays;
import java.util.concurrent.locks.Condition;

/**
 * The page cache: files of the guest's "disk" and the guest pages caching them. A missing page
 * is allocated and filled by the kernel copying the file's words into it (512 stores, as a read
 * into a bounce buffer followed by a copy would). Cached pages stay for the run (no reclaim):
 * the files of a scenario are small.
 *
 * <p>Locking, as Linux's {@code i_pages} lock and page lock:
 * <ul>
 * <li>{@link #lock} (the cache's {@code xa_lock}) guards the file table and every page's lock
 * state; it is a leaf but for the zone lock, held for a lookup or an insertion, never across a
 * guest access;</li>
 * <li>each cached page has a page lock ({@code PG_locked}), modelled as {@link #pageLock}: -1
 * held exclusively (a page being read in or cleared: {@code !PageUptodate}; or
 * {@code write()} storing into it), n above 0 held shared by n copy-on-write copies made from
 * it ({@code do_cow_fault}'s {@code copy_user_highpage}). Waiters sleep on {@link #unlocked}
 * ({@code wait_on_page_locked}). Guest accesses to the page are made holding its page lock, not
 * the cache lock;</li>
 * <li>order: {@code mmap_lock} before a page lock (a fault locks the page it maps or copies);
 * {@code write()} drops the page lock before it faults its user buffer in, so a page lock is
 * never held while an {@code mmap_lock} is taken; a page lock before the MMU's
 * {@code mmu_lock} (taken inside a guest access). A new page is allocated with no cache lock
 * held.</li>
 * </ul>
 */
final class PageCache {
    private final PhysMem phys;
    private final KernelMemory km;
    private final MemoryImage image;
    private final Counters counters;
    /** The cache's lock ({@code mapping->i_pages}). */
    private final KLock lock = new KLock("i_pages lock");
    /** Signalled when a page lock is released ({@code unlock_page}'s wake-up). */
    private final Condition unlocked = lock.newCondition();
    /** Per gfn: -1 locked exclusively, n &gt; 0 shared by n copiers, 0 unlocked. Under {@link #lock}. */
    private final int[] pageLock;
    private int[][] files = new int[8][];
    private int nFiles;

    PageCache(PhysMem phys, KernelMemory km, MemoryImage image, Counters counters) {
        this.phys = phys;
        this.km = km;
        this.image = image;
        this.counters = counters;
        this.pageLock = new int[phys.frames];
    }

    /** A new file of {@code pages} pages; returns its id. */
    int create(int pages) {
        lock.lock();
        try {
            if (nFiles == files.length) {
                files = Arrays.copyOf(files, nFiles * 2);
            }
            int[] p = new int[pages];
            Arrays.fill(p, -1);
            files[nFiles] = p;
            return nFiles++;
        } finally {
            lock.unlock();
        }
    }

    int pages(int file) {
        lock.lock();
        try {
            return files[file].length;
        } finally {
            lock.unlock();
        }
    }

    /**
     * The page caching {@code page} of {@code file} for a write ({@code grab_cache_page_write_begin}),
     * returned locked exclusively: a missing page is allocated and zeroed, not read from disk.
     * The caller stores into it and {@link #unlockPage unlocks} it.
     */
    long getForWrite(int cpu, int file, long page) {
        return lookupOrCreate(cpu, file, page, true);
    }

    /**
     * {@code filemap_fault}: the page caching {@code page} of {@code file}, read in on a miss;
     * waits while the page is locked (being read in, or written), returns it unlocked.
     */
    long get(int cpu, int file, long page) {
        return lookupOrCreate(cpu, file, page, false);
    }

    private long lookupOrCreate(int cpu, int file, long page, boolean forWrite) {
        lock.lock();
        try {
            int g = files[file][(int) page];
            if (g >= 0) {
                return lockOrWait(g, forWrite);
            }
        } finally {
            lock.unlock();
        }
        long n = phys.alloc(PhysMem.FILE); // no cache lock held: the allocator may sleep
        lock.lock();
        try {
            int g = files[file][(int) page];
            if (g >= 0) { // another vCPU added it meanwhile (SMP only): use that one
                phys.free(n); // the zone lock is a leaf: taking it under the cache lock is in order
                return lockOrWait(g, forWrite);
            }
            files[file][(int) page] = (int) n;
            pageLock[(int) n] = -1; // added locked, !uptodate (add_to_page_cache_lru)
            if (!forWrite) {
                counters.fileFills++;
            }
        } finally {
            lock.unlock();
        }
        if (forWrite) {
            km.clearDataPage(cpu, n);
            image.clear(n);
            return n; // still locked, for the caller's stores
        }
        km.fillDataPage(cpu, n, file, page);
        for (int s = 0; s < MemoryImage.SLOTS; s++) {
            image.set(n, s, MemoryImage.fileWord(file, page, s * (MemoryImage.SLOT_BYTES / 8)));
        }
        unlockPage(n); // SetPageUptodate, unlock_page
        return n;
    }

    /** Under {@link #lock}: locks {@code g} exclusively ({@code forWrite}) or waits until it is not locked exclusively. */
    private long lockOrWait(int g, boolean forWrite) {
        if (forWrite) {
            while (pageLock[g] != 0) {
                lock.await(unlocked);
            }
            pageLock[g] = -1;
        } else {
            while (pageLock[g] < 0) {
                lock.await(unlocked);
            }
        }
        return g;
    }

    /** {@code lock_page} of a cached page, exclusively: waits for copies from it and for other writers. */
    void lockPage(long gfn) {
        lock.lock();
        try {
            lockOrWait((int) gfn, true);
        } finally {
            lock.unlock();
        }
    }

    /** {@code unlock_page} of an exclusively locked page. */
    void unlockPage(long gfn) {
        lock.lock();
        try {
            if (pageLock[(int) gfn] != -1) {
                throw new IllegalStateException("guest kernel bug: unlocking gfn 0x" + Long.toHexString(gfn) + " which is not locked");
            }
            pageLock[(int) gfn] = 0;
            unlocked.signalAll();
        } finally {
            lock.unlock();
        }
    }

    /** The page lock taken shared, for a copy-on-write copy from the page: waits while it is locked exclusively. */
    void lockPageShared(long gfn) {
        lock.lock();
        try {
            while (pageLock[(int) gfn] < 0) {
                lock.await(unlocked);
            }
            pageLock[(int) gfn]++;
        } finally {
            lock.unlock();
        }
    }

    void unlockPageShared(long gfn) {
        lock.lock();
        try {
            if (pageLock[(int) gfn] <= 0) {
                throw new IllegalStateException("guest kernel bug: gfn 0x" + Long.toHexString(gfn) + " is not locked shared");
            }
            if (--pageLock[(int) gfn] == 0) {
                unlocked.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }
}
