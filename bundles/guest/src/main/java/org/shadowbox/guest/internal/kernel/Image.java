package org.shadowbox.guest.internal.kernel;

/**
 * An executable as exec lays it out: text (file-backed, read and execute), initialised data
 * (a private writable mapping of another file: copy-on-write), a heap (anonymous, grown by brk)
 * and a stack (anonymous). Sizes in pages.
 */
public record Image(String name, int textFile, int textPages, int dataFile, int dataPages, int heapPages,
        int stackPages) {
}
