package org.shadowbox.guest.internal.trace;

import java.util.HashMap;
import java.util.Map;

import org.shadowbox.guest.internal.kernel.Image;
import org.shadowbox.guest.internal.kernel.Kernel;

/**
 * What the processes of one replay share: the trace, the guest kernel, the executables and files
 * made for them on the guest's disk, how CPU time is retired, and the replay's own counts.
 */
final class ReplayRun {
    /** Pages of text assumed for an executable the recorder could not stat. */
    static final int UNKNOWN_TEXT_PAGES = 64;
    /** Initial stack pages of every exec (the argument and environment pages, and the first frames). */
    static final int STACK_PAGES = 8;

    final Trace trace;
    final Kernel k;
    final boolean perAccess;
    final double accessesPerUs;
    final ReplayStats stats = new ReplayStats();
    private final Image[] images;
    /** File-backed mappings: one guest file per mapping size (the recorder does not see which file). */
    private final Map<Integer, Integer> filesBySize = new HashMap<>();
    private long exits;

    ReplayRun(Kernel k, Trace trace, boolean perAccess, double accessesPerUs) {
        this.k = k;
        this.trace = trace;
        this.perAccess = perAccess;
        this.accessesPerUs = accessesPerUs;
        this.images = new Image[trace.images().size()];
    }

    /**
     * The guest's executable for recorded image {@code i}, made on first use: its file's pages
     * split into text (7/8) and initialised data (1/8), a one-page heap grown by the recorded
     * brk calls, {@value #STACK_PAGES} stack pages.
     */
    Image image(int i) {
        Image img = images[i];
        if (img == null) {
            Trace.Image ti = trace.images().get(i);
            int size = ti.pages() > 0 ? ti.pages() : UNKNOWN_TEXT_PAGES;
            int data = Math.max(1, size / 8);
            int text = Math.max(1, size - data);
            img = new Image(ti.name(), k.createFile(text), text, k.createFile(data), data, 1, STACK_PAGES);
            images[i] = img;
        }
        return img;
    }

    /** The guest file that a file-backed mapping of {@code pages} pages maps. */
    int file(int pages) {
        return filesBySize.computeIfAbsent(pages, k::createFile);
    }

    /** The image the root runs before its first exec (the recorder's wrapper after its fork). */
    Image rootImage() {
        return new Image("recorder-child", k.createFile(16), 16, k.createFile(4), 4, 1, STACK_PAGES);
    }

    void exited() {
        exits++;
    }

    long exits() {
        return exits;
    }
}
