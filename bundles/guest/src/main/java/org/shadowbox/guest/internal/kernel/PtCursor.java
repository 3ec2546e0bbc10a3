package org.shadowbox.guest.internal.kernel;

/**
 * The PTE table a loop over consecutive pages is in, walked again only when the loop crosses
 * into another table (as Linux's {@code zap_pte_range} and {@code copy_pte_range} run inside
 * one PMD). Reset at the start of each operation: tables may be freed between operations.
 */
final class PtCursor {
    private final PageTables tables;
    private final long span;
    private long base = -1;
    private long table;

    PtCursor(PageTables tables) {
        this.tables = tables;
        this.span = 1L << tables.f.shift(2);
    }

    PtCursor reset() {
        base = -1;
        return this;
    }

    /** The PTE table of {@code va} in {@code mm} (allocating when {@code alloc}), -1 if absent. */
    long table(int cpu, Mm mm, long va, boolean alloc) {
        long b = va & -span;
        if (b != base) {
            long t = tables.pteTable(cpu, mm, va, alloc);
            if (t < 0) {
                return -1;
            }
            base = b;
            table = t;
        }
        return table;
    }
}
