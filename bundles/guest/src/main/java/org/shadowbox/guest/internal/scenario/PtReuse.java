package org.shadowbox.guest.internal.scenario;

import java.util.SplittableRandom;

import org.osgi.service.component.annotations.Component;
import org.shadowbox.guest.GuestPages;
import org.shadowbox.guest.Scenario;
import org.shadowbox.guest.internal.kernel.Image;
import org.shadowbox.guest.internal.kernel.Kernel;
import org.shadowbox.guest.internal.kernel.Program;

/**
 * One process per vCPU, each running 2 x scale rounds of: a sparse mapping that needs a new
 * page-table page for every page written, unmapped (its tables freed), then a dense mapping
 * whose data pages reuse the freed page-table pages. The case write-flood detection exists for.
 */
@Component(service = Scenario.class)
public final class PtReuse extends GuestScenario {
    @Override
    public String name() {
        return "pt-reuse";
    }

    @Override
    public String description() {
        return "page-table pages freed by munmap and reused as data pages, 2 x scale rounds per vCPU";
    }

    @Override
    public long defaultScale() {
        return 8;
    }

    @Override
    protected int size(long scale) {
        return units(2, scale, "rounds");
    }

    /**
     * At least every round's output page of every process; at most the files' pages and one
     * process per vCPU, whose sparse area (64 page tables' worth of pages, one page touched under
     * each table) and dense area (96 pages) are mapped one at a time.
     */
    @Override
    public GuestPages guestPages(long scale, int vcpus) {
        int rounds = size(scale);
        long sparsePages = 64L * 1024; // 64 tables of up to 1024 entries (32-bit paging)
        long churn = 2 + 8 + 4 + Math.max(64, 96) + PageBound.tables(PageBound.AREAS, 8 + 2 + 8 + 4 + sparsePages + 96);
        return new GuestPages((long) vcpus * rounds, vcpus * (8L + 2 + rounds + churn));
    }

    @Override
    protected long start(Kernel k, long scale, SplittableRandom rng) {
        int rounds = size(scale);
        for (int v = 0; v < k.vcpus(); v++) {
            Image img = new Image("churn", k.createFile(8), 8, k.createFile(2), 2, 8, 4);
            int[] outputs = new int[rounds];
            for (int r = 0; r < rounds; r++) {
                outputs[r] = k.createFile(1);
            }
            Program p = new PtChurn(rounds, outputs);
            k.spawn(img, p);
        }
        return k.vcpus();
    }
}
