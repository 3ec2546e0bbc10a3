package org.shadowbox.guest.internal.kernel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.mmu.reference.BareMetalCpu;

/**
 * The verification split over threads ({@link Verifier#verifyInParts}) against the one-thread
 * {@link Verifier#verify}: the same checksum on an intact guest, and, with one word of one data
 * page corrupted behind the guest's back (seeded: pages in every part, the first and the last
 * among them), the same one-line verdict; and each of the two passes (the inspectors', the
 * vCPUs') reads every tracked word of every data page exactly once, each part only its own frames.
 */
class VerifierPartsTest {
    @Test
    void everyPartIsCheckedAndGivesTheOneThreadVerdict() {
        long seed = 0x5EED_15L;
        Rig r = new Rig("64", 64L << 20, 3, seed);
        Kernel k = r.k;
        for (int f = 0; f < 6; f++) {
            int file = k.createFile(40);
            for (int p = 0; p < 40; p++) {
                k.cache.get(f % 3, file, p); // page-cache pages, filled by the kernel
            }
        }
        List<Integer> data = new ArrayList<>();
        for (int g = 0; g < k.phys.frames; g++) {
            byte u = k.phys.use[g];
            if (u == PhysMem.FILE || u == PhysMem.ZERO) {
                data.add(g);
            }
        }
        assertTrue(data.size() > 200, "data pages: " + data.size());
        for (int n = 2; n <= 3; n++) {
            int parts = n;
            int[] bound = Verifier.split(k, parts);
            for (int i = 0; i < parts; i++) {
                int lo = bound[i], hi = bound[i + 1];
                assertTrue(data.stream().filter(g -> g >= lo && g < hi).count() >= data.size() / parts - 1,
                        "part " + i + " of " + parts + " holds its share of the data pages");
            }
            long want = Verifier.verify(k, BareMetalCpu.inspector(k.vm.vcpu(0)), true);
            // Each pass reads every tracked word of every data page once, through the probe of its part.
            Reads[] insp = new Reads[parts];
            Reads[] vcpus = new Reads[parts];
            for (int i = 0; i < parts; i++) {
                insp[i] = new Reads(BareMetalCpu.inspector(k.vm.vcpu(i)));
                vcpus[i] = new Reads(k.cpus[i]);
            }
            assertEquals(want, Verifier.verifyInParts(k, insp, vcpus, parts), parts + " parts, intact");
            List<Long> all = new ArrayList<>();
            for (int g : data) {
                for (int s = 0; s < MemoryImage.SLOTS; s++) {
                    all.add(k.km.address(((long) g << 12) + (long) s * MemoryImage.SLOT_BYTES));
                }
            }
            for (Reads[] pass : List.of(insp, vcpus)) {
                List<Long> read = new ArrayList<>();
                for (int i = 0; i < parts; i++) {
                    int lo = bound[i], hi = bound[i + 1];
                    for (long gva : pass[i].gvas) {
                        long g = (gva - k.km.address(0)) >>> 12;
                        assertTrue(g >= lo && g < hi, parts + " parts: part " + i + " read gfn 0x" + Long.toHexString(g));
                    }
                    read.addAll(pass[i].gvas);
                }
                read.sort(null);
                String which = parts + " parts, the " + (pass == insp ? "inspectors'" : "vCPUs'") + " pass";
                assertEquals(all.size(), read.size(), which + ": words read");
                assertTrue(all.equals(read), which + ": every tracked word of every data page read once");
            }
            SplittableRandom rng = new SplittableRandom(seed + parts);
            List<Integer> victims = new ArrayList<>(List.of(data.get(0), data.get(data.size() - 1)));
            for (int i = 0; i < parts; i++) {
                int lo = bound[i], hi = bound[i + 1];
                List<Integer> in = data.stream().filter(g -> g >= lo && g < hi).toList();
                victims.add(in.get(rng.nextInt(in.size())));
            }
            for (int g : victims) {
                int slot = rng.nextInt(MemoryImage.SLOTS);
                long gpa = ((long) g << 12) + (long) slot * MemoryImage.SLOT_BYTES;
                BareMetalCpu writer = r.probe(k.kernelPgd);
                long good = k.image.get(g, slot);
                assertTrue(writer.write(k.km.address(gpa), ~good, 8, false));
                String where = parts + " parts, seed " + seed + ", gfn 0x" + Integer.toHexString(g) + " slot " + slot;
                String serial = assertThrows(GuestCorruption.class,
                        () -> Verifier.verify(k, BareMetalCpu.inspector(k.vm.vcpu(0)), true), where).getMessage();
                String split = assertThrows(GuestCorruption.class,
                        () -> Verifier.verifyInParts(k, inspectors(k, parts), k.cpus, parts), where).getMessage();
                assertEquals(serial, split, where);
                assertTrue(split.contains(": gpa 0x" + Long.toHexString(gpa) + " holds "), where + ": " + split);
                assertTrue(writer.write(k.km.address(gpa), good, 8, false));
            }
            assertEquals(want, Verifier.verifyInParts(k, inspectors(k, parts), k.cpus, parts), parts + " parts, restored");
        }
    }

    /** A probe that records the addresses it reads (one thread uses it). */
    private static final class Reads extends ForwardingCpu {
        final List<Long> gvas = new ArrayList<>();

        Reads(GuestCpu cpu) {
            super(cpu);
        }

        @Override
        public boolean read(long gva, int size, boolean user) {
            gvas.add(gva);
            return super.read(gva, size, user);
        }
    }

    private static GuestCpu[] inspectors(Kernel k, int parts) {
        GuestCpu[] out = new GuestCpu[parts];
        for (int i = 0; i < parts; i++) {
            out[i] = BareMetalCpu.inspector(k.vm.vcpu(i));
        }
        return out;
    }
}
