package org.shadowbox.guest.internal.scenario;

import java.util.SplittableRandom;

import org.osgi.service.component.annotations.Component;
import org.shadowbox.guest.GuestPages;
import org.shadowbox.guest.Scenario;
import org.shadowbox.guest.internal.kernel.Image;
import org.shadowbox.guest.internal.kernel.Kernel;

/**
 * {@code make -jN} (N = 2 per vCPU) of 8 x scale compilation units: make forks a child per
 * unit, the child execs the compiler, which maps its source and three headers, grows its heap,
 * maps and unmaps arenas, writes its object file and exits; make reaps it and forks the next.
 * Short-lived processes: page tables built and torn down all the time, as in the seed's
 * kernel build.
 */
@Component(service = Scenario.class)
public final class KernelBuild extends GuestScenario {
    static final int HEADERS = 24;
    static final Profile COMPILER = new Profile(120_000, 40, 20, 25, 5, 32, 160, 256, 50_000, 32);
    static final Profile MAKE = new Profile(0, 45, 25, 20, 10, 16, 512, 96, 0, 0);

    @Override
    public String name() {
        return "kernel-build";
    }

    @Override
    public String description() {
        return "make -jN: short-lived compiler processes forked, exec'd, touching heaps and sources, exiting (8 x scale units)";
    }

    @Override
    public long defaultScale() {
        return 8;
    }

    @Override
    protected int size(long scale) {
        return units(8, scale, "compilation units");
    }

    /**
     * At least every unit's object file (a page-cache page each, kept); at most the files'
     * pages, make, and {@code 2 x vcpus} children each holding a copy of make's address space
     * (between fork and exec) and cc1's.
     */
    @Override
    public GuestPages guestPages(long scale, int vcpus) {
        int units = size(scale);
        long files = 48 + 8 + 160 + 24 + HEADERS * 8L + units * (12L + 1);
        long make = PageBound.process(48, 8, 32, 8, MAKE.maxHeap(), 0, 0, false);
        long cc1 = PageBound.process(160, 24, 32, 16, COMPILER.maxHeap(), COMPILER.arenaPages(), 12, true);
        return new GuestPages(units, files + make + 2L * vcpus * (make + cc1));
    }

    @Override
    protected long start(Kernel k, long scale, SplittableRandom rng) {
        int units = size(scale);
        Image make = new Image("make", k.createFile(48), 48, k.createFile(8), 8, 32, 8);
        Image cc1 = new Image("cc1", k.createFile(160), 160, k.createFile(24), 24, 32, 16);
        int[] headers = new int[HEADERS];
        for (int i = 0; i < HEADERS; i++) {
            headers[i] = k.createFile(2 + rng.nextInt(7));
        }
        int[][] inputs = new int[units][];
        int[] outputs = new int[units];
        for (int u = 0; u < units; u++) {
            inputs[u] = new int[] {k.createFile(2 + rng.nextInt(11)), headers[rng.nextInt(HEADERS)],
                    headers[rng.nextInt(HEADERS)], headers[rng.nextInt(HEADERS)]};
            outputs[u] = k.createFile(1);
        }
        int jobs = 2 * k.vcpus();
        k.spawn(make, new Spawner(jobs, units,
                u -> new ExecChild(cc1, new Worker(COMPILER, inputs[u], outputs[u])), MAKE, 400, 0));
        return units + 1L;
    }
}
