package org.shadowbox.guest.internal.scenario;

import java.util.SplittableRandom;

import org.osgi.service.component.annotations.Component;
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
