package org.shadowbox.guest.internal.scenario;

import org.shadowbox.guest.internal.kernel.Area;
import org.shadowbox.guest.internal.kernel.Kernel;
import org.shadowbox.guest.internal.kernel.Program;
import org.shadowbox.guest.internal.kernel.Task;

/**
 * Page-table churn: each round maps a sparse anonymous region and writes one page per PTE
 * table's span (so every write needs a new page-table page), unmaps it (its tables are freed),
 * then maps and fills a dense region, whose data pages the allocator takes from the pages just
 * freed, the page-table pages among them; writes one of them to its output file; unmaps it.
 */
final class PtChurn extends Program {
    private static final int SPARSE_TABLES = 64;
    private static final int DENSE_PAGES = 96;
    private final int rounds;
    private final int[] outputs;
    private int round;
    private int step;
    private Area sparse;
    private Area dense;

    PtChurn(int rounds, int[] outputs) {
        this.rounds = rounds;
        this.outputs = outputs;
    }

    @Override
    protected void run(Kernel k, Task t, int budget) {
        int span = 1 << (k.format().shift(2) - 12);
        for (int i = 0; i < budget; i++) {
            if (round == rounds) {
                k.exit(t);
                return;
            }
            if (sparse == null && dense == null) {
                sparse = k.mmap(t, SPARSE_TABLES * span, Area.READ | Area.WRITE, Area.ANON, 0);
                step = 0;
            }
            if (sparse != null) {
                if (step < SPARSE_TABLES) {
                    k.access(t, sparse, step * span + t.rng.nextInt(span), t.rng.nextInt(8), Kernel.WRITE);
                    step++;
                    continue;
                }
                k.munmap(t, sparse);
                sparse = null;
                dense = k.mmap(t, DENSE_PAGES, Area.READ | Area.WRITE, Area.ANON, 0);
                step = 0;
            }
            if (step < DENSE_PAGES) {
                k.access(t, dense, step, t.rng.nextInt(8), Kernel.WRITE);
            } else if (step < 3 * DENSE_PAGES) {
                k.access(t, dense, t.rng.nextInt(DENSE_PAGES), t.rng.nextInt(8), t.rng.nextInt(4) == 0 ? Kernel.WRITE : Kernel.READ);
            } else {
                k.writeFile(t, outputs[round], 0, dense, t.rng.nextInt(DENSE_PAGES));
                k.munmap(t, dense);
                dense = null;
                round++;
                continue;
            }
            step++;
        }
    }
}
