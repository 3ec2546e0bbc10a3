package org.shadowbox.gpu.internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.shadowbox.guest.GuestKernel;
import org.shadowbox.guest.Scenario;
import org.shadowbox.guest.ScenarioContext;
import org.shadowbox.vm.VmException;

/**
 * {@code gpu-driver}: the guest's GPU driver. It takes pages from the guest kernel's allocator,
 * gives them to the vGPU (tables and data pages, the registration a driver makes), builds a
 * 4-level GPU page table in them with guest writes (trapped and emulated once the vGPU
 * write-protects a table, so the tracker sees every entry written), then for 8 x scale rounds
 * remaps buffer pages (8-byte entries, two 4-byte halves, or four 2-byte pieces that the
 * tracker rejects until the fourth failure rebuilds the table), writes some data with the
 * CPU, writes a batch of copies and fills, submits it, and checks every data page through
 * guest reads against {@link ReferenceGpu}, a GPU walking the guest's own tables. It ends with
 * the violation case (entries at a kernel page never given to the GPU and at a hole with no
 * memslot: the GPU must neither write nor leak them) and a teardown that must leave the vGPU
 * with no shadowed table. The VM's vGPU is attached if it has none.
 */
final class GpuDriverScenario implements Scenario {
    static final String NAME = "gpu-driver";
    static final long BUF_VA = 1L << 32;
    static final long BATCH_VA = BUF_VA + (1L << 21);
    static final int WINDOW = 32;
    static final int DATA_PAGES = 24;
    static final int SECRET_SLOT = 100, HOLE_SLOT = 101;
    static final long HOLE_GFN = 0xa0;
    static final long SECRET = 0x5ec2e7_5ec2e7L;

    private final Gpus gpus;

    GpuDriverScenario(Gpus gpus) {
        this.gpus = gpus;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "a GPU driver: GPU page tables built by guest writes, 8 x scale batches of copies and fills,"
                + " each checked against a GPU walking the guest's tables; the vGPU is attached if needed";
    }

    @Override
    public long defaultScale() {
        return 4;
    }

    @Override
    public void run(ScenarioContext ctx) {
        if (ctx.scale() > 100_000) {
            throw new VmException("scale too large: " + ctx.scale() + "; accepted up to 100000");
        }
        new Driver(ctx, gpus.attach(ctx.vm())).run();
    }

    /** One run of the driver. */
    private static final class Driver {
        final ScenarioContext ctx;
        final GuestKernel k;
        final VGpu gpu;
        final SplittableRandom rnd;
        final Map<Long, Integer> given = new HashMap<>();
        final List<Long> allocated = new ArrayList<>();
        final ReferenceGpu reference;
        final long[] data = new long[DATA_PAGES];
        long l4, l3, l2, l1, l1batch, batch;
        int round;

        Driver(ScenarioContext ctx, VGpu gpu) {
            this.ctx = ctx;
            this.k = ctx.kernel();
            this.gpu = gpu;
            this.rnd = new SplittableRandom(ctx.seed());
            this.reference = new ReferenceGpu(ctx.vm(), given);
        }

        int cpu() {
            return round % ctx.vcpus();
        }

        long page() {
            long g = k.allocPage();
            allocated.add(g);
            return g;
        }

        /** A new table page, cleared by the CPU while nothing tracks it, then given to the GPU. */
        long table(int level) {
            long g = page();
            for (int i = 0; i < 512; i++) {
                k.write(cpu(), (g << 12) + 8L * i, 0, 8);
            }
            gpu.grantTable(g, level);
            given.put(g, level);
            return g;
        }

        void entry(long table, int index, long value) {
            k.write(cpu(), (table << 12) + 8L * index, value, 8);
        }

        void run() {
            int rounds = (int) (8 * ctx.scale());
            setup();
            ctx.progress(0, rounds + 2);
            for (round = 0; round < rounds; round++) {
                remap(1 + rnd.nextInt(3));
                cpuWrites();
                submit(randomBatch());
                ctx.progress(round + 1, rounds + 2);
            }
            violations();
            ctx.progress(rounds + 1, rounds + 2);
            teardown();
            ctx.progress(rounds + 2, rounds + 2);
        }

        void setup() {
            l4 = table(4);
            l3 = table(3);
            l2 = table(2);
            l1 = table(1);
            l1batch = table(1);
            for (int i = 0; i < DATA_PAGES; i++) {
                data[i] = page();
                gpu.grantData(data[i]);
                given.put(data[i], Grants.DATA);
            }
            batch = page();
            gpu.grantData(batch);
            given.put(batch, Grants.DATA);
            gpu.setRoot(0, l4); // from here on every table is write-protected: each entry below is trapped
            entry(l4, GpuPte.index(BUF_VA, 4), GpuPte.make(l3, true));
            entry(l3, GpuPte.index(BUF_VA, 3), GpuPte.make(l2, true));
            entry(l2, GpuPte.index(BUF_VA, 2), GpuPte.make(l1, true));
            entry(l2, GpuPte.index(BATCH_VA, 2), GpuPte.make(l1batch, true));
            entry(l1batch, 0, GpuPte.make(batch, true));
            for (int i = 0; i < WINDOW; i++) {
                entry(l1, i, GpuPte.make(data[i % DATA_PAGES], true));
            }
            if (gpu.stats().trackedPages() != 5) {
                throw new VmException(NAME + ": the vGPU shadows " + gpu.stats().trackedPages()
                        + " table pages after setup, expected the 5 the driver built");
            }
        }

        /** Changes {@code n} buffer mappings, in the ways a driver writes an entry. */
        void remap(int n) {
            for (int j = 0; j < n; j++) {
                int slot = rnd.nextInt(WINDOW);
                long pte = rnd.nextInt(10) == 0 ? 0 : GpuPte.make(data[rnd.nextInt(DATA_PAGES)], rnd.nextInt(8) != 0);
                long gpa = (l1 << 12) + 8L * slot;
                switch (rnd.nextInt(10)) {
                    case 0, 1 -> { // two 4-byte halves: each re-read whole
                        k.write(cpu(), gpa, pte & 0xffff_ffffL, 4);
                        k.write(cpu(), gpa + 4, pte >>> 32, 4);
                    }
                    case 2 -> { // four 2-byte pieces: rejected; the fourth failure rebuilds the table
                        for (int p = 0; p < 4; p++) {
                            k.write(cpu(), gpa + 2L * p, (pte >>> (16 * p)) & 0xffff, 2);
                        }
                    }
                    default -> k.write(cpu(), gpa, pte, 8);
                }
            }
        }

        void cpuWrites() {
            for (int j = 0; j < 8; j++) {
                long g = data[rnd.nextInt(DATA_PAGES)];
                k.write(cpu(), (g << 12) + 8L * rnd.nextInt(512), rnd.nextLong(), 8);
            }
        }

        long[] randomBatch() {
            int n = 1 + rnd.nextInt(4);
            long[] words = new long[4 * n + 1];
            long span = (long) WINDOW << 12;
            for (int c = 0; c < n; c++) {
                long len = 1 + rnd.nextInt(6000);
                long dst = BUF_VA + rnd.nextLong(span - len);
                if (rnd.nextBoolean()) {
                    words[4 * c] = GpuEngine.FILL;
                    words[4 * c + 1] = dst;
                    words[4 * c + 2] = len;
                    words[4 * c + 3] = rnd.nextLong();
                } else {
                    words[4 * c] = GpuEngine.COPY;
                    words[4 * c + 1] = BUF_VA + rnd.nextLong(span - len);
                    words[4 * c + 2] = dst;
                    words[4 * c + 3] = len;
                }
            }
            words[4 * n] = GpuEngine.END;
            return words;
        }

        /** Writes the batch with the CPU, submits it, and checks memory against the reference GPU. */
        void submit(long[] words) {
            for (int w = 0; w < words.length; w++) {
                k.write(cpu(), (batch << 12) + 8L * w, words[w], 8);
            }
            reference.snapshot();
            reference.execute(l4, BATCH_VA);
            gpu.submit(0, BATCH_VA);
            compare();
        }

        void compare() {
            for (Map.Entry<Long, byte[]> e : reference.pages.entrySet()) {
                long gpa = e.getKey() << 12;
                byte[] want = e.getValue();
                for (int i = 0; i < 512; i++) {
                    long expected = 0;
                    for (int b = 7; b >= 0; b--) {
                        expected = expected << 8 | (want[8 * i + b] & 0xffL);
                    }
                    long got = k.read(cpu(), gpa + 8L * i, 8);
                    if (got != expected) {
                        throw new VmException(NAME + " (seed " + ctx.seed() + "): after batch " + round + " gpa 0x"
                                + Long.toHexString(gpa + 8L * i) + " holds 0x" + Long.toHexString(got)
                                + ", a GPU walking the guest's own tables would have left 0x" + Long.toHexString(expected));
                    }
                }
            }
        }

        /** Entries at a page never given to the GPU and at a hole with no memslot: scratch, never memory. */
        void violations() {
            long secret = page();
            for (int i = 0; i < 512; i++) {
                k.write(cpu(), (secret << 12) + 8L * i, SECRET + i, 8);
            }
            long before = gpu.stats().violations();
            entry(l1, SECRET_SLOT, GpuPte.make(secret, true));
            entry(l1, HOLE_SLOT, GpuPte.make(HOLE_GFN, true));
            if (gpu.stats().violations() < before + 2) {
                throw new VmException(NAME + ": entries at an ungiven page and at a hole were not counted as violations");
            }
            long secretVa = BUF_VA + ((long) SECRET_SLOT << 12);
            long holeVa = BUF_VA + ((long) HOLE_SLOT << 12);
            submit(new long[] {
                GpuEngine.FILL, secretVa, 4096, -1L,
                GpuEngine.FILL, holeVa, 64, -1L,
                GpuEngine.COPY, secretVa, BUF_VA, 4096,
                GpuEngine.END});
            for (int i = 0; i < 512; i++) {
                long v = k.read(cpu(), (secret << 12) + 8L * i, 8);
                if (v != SECRET + i) {
                    throw new VmException(NAME + ": the GPU wrote a page never given to it: gpa 0x"
                            + Long.toHexString((secret << 12) + 8L * i) + " holds 0x" + Long.toHexString(v));
                }
            }
            entry(l1, SECRET_SLOT, 0);
            entry(l1, HOLE_SLOT, 0);
        }

        /** Unmaps everything, drops the root, takes every page back: no table may stay shadowed. */
        void teardown() {
            for (int i = 0; i < WINDOW; i++) {
                entry(l1, i, 0);
            }
            entry(l1batch, 0, 0);
            entry(l2, GpuPte.index(BUF_VA, 2), 0);
            entry(l2, GpuPte.index(BATCH_VA, 2), 0);
            entry(l3, GpuPte.index(BUF_VA, 3), 0);
            if (gpu.stats().trackedPages() != 2) {
                throw new VmException(NAME + ": after unlinking, the vGPU still shadows " + gpu.stats().trackedPages()
                        + " table pages; only the root and its level-3 table are linked");
            }
            entry(l4, GpuPte.index(BUF_VA, 4), 0);
            gpu.setRoot(0, 0);
            if (gpu.stats().trackedPages() != 0) {
                throw new VmException(NAME + ": with no root the vGPU still shadows " + gpu.stats().trackedPages() + " pages");
            }
            for (long g : given.keySet()) {
                gpu.revoke(g);
            }
            for (long g : allocated) {
                k.freePage(g);
            }
        }
    }
}
