package org.shadowbox.guest.internal.scenario;

/**
 * How a user program touches memory. Percentages of accesses: instruction fetches from text,
 * stack, heap and initialised data (the rest read the mapped input file).
 *
 * @param lifetime   user accesses before it exits (0: it never exits on its own)
 * @param fetch      % code fetches
 * @param stack      % stack reads and writes
 * @param heap       % heap reads and writes
 * @param data       % initialised-data reads and writes
 * @param hotText    pages of text that most fetches hit
 * @param allocEvery heap accesses per newly touched heap page (the allocation rate)
 * @param maxHeap    heap pages brk may grow to
 * @param arenaEvery accesses between mmap and munmap of an anonymous arena (0: none)
 * @param arenaPages pages of that arena
 */
record Profile(long lifetime, int fetch, int stack, int heap, int data, int hotText, int allocEvery, int maxHeap,
        int arenaEvery, int arenaPages) {
}
