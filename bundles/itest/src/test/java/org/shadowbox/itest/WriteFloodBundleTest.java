package org.shadowbox.itest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.felix.service.command.CommandProcessor;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.test.common.annotation.InjectBundleContext;
import org.osgi.test.common.annotation.InjectService;
import org.osgi.test.junit5.context.BundleContextExtension;
import org.osgi.test.junit5.service.ServiceExtension;
import org.shadowbox.mmu.GuestCpu;
import org.shadowbox.mmu.Mmu;
import org.shadowbox.mmu.spi.PteWriteHandler;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vm;

/**
 * The writeflood bundle stopped and started while a VM runs a workload: a vCPU thread reads its
 * memory and rewrites its page directory (emulated writes, since the PD is write-tracked) the
 * whole time, so the page directory floods and is unshadowed again and again. Stopping the bundle makes the MMU fall back at once, starting it resumes the
 * policy, {@code flood:stats} moves, and the guest never sees a wrong value. The guest runs
 * through the {@link Mmu} service's {@link GuestCpu}; the MMU's {@code mmu_pte_write_fallback}
 * counter shows who served the page-table writes.
 */
@ExtendWith(BundleContextExtension.class)
@ExtendWith(ServiceExtension.class)
class WriteFloodBundleTest {
    private static final String BSN = "org.shadowbox.writeflood";
    private static final long PML4 = 0x110, PDPT = 0x111, PD = 0x112, PT = 0x113, PD2 = 0x114, PT2 = 0x115;
    private static final long DATA = 0x200, DATA2 = 0x201;
    private static final long GVA = 0x40_0000L;
    /** Mapped through PD2, the page directory the guest keeps rewriting. */
    private static final long GVA2 = 1L << 30;
    /** Where the guest sees PD2 (through PD and PT, so writing it does not walk PD2). */
    private static final long PD2_WINDOW = 0x40_1000L;
    private static final long TABLE = 0x27; // P RW US A
    private static final long LEAF = 0x67; // P RW US A D

    @InjectBundleContext
    BundleContext context;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    Hypervisor hypervisor;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    Mmu mmu;
    @InjectService(timeout = Itest.TIMEOUT_MS)
    CommandProcessor processor;

    private Vm vm;

    @BeforeEach
    void newVm() {
        vm = Itest.newVm(hypervisor, "flood");
    }

    @AfterEach
    void destroyVm() {
        Itest.destroyQuietly(hypervisor, vm);
    }

    private long fallbacks() {
        return mmu.stats(vm).stream().filter(st -> st.name().equals("mmu_pte_write_fallback")).findFirst()
                .orElseThrow().value();
    }

    private boolean handlerBound() {
        return context.getServiceReference(PteWriteHandler.class) != null;
    }

    private long floodStat(Itest.Gogo gogo, String name) throws Exception {
        String json = gogo.run("flood:stats --json " + vm.name());
        Matcher m = Pattern.compile("\"" + name + "\":(\\d+)").matcher(json);
        assertTrue(m.find(), json);
        return Long.parseLong(m.group(1));
    }

    @Test
    void stoppingAndStartingTheBundleWhileTheGuestRunsChangesNothingTheGuestSees() throws Exception {
        Bundle flood = Itest.bundles(context, BSN).get(0);
        Itest.await("the writeflood handler registered", this::handlerBound);
        vm.memory().write(PML4 << 12, (PDPT << 12) | TABLE, 8);
        vm.memory().write(PDPT << 12, (PD << 12) | TABLE, 8);
        vm.memory().write((PD << 12) + 8 * 2, (PT << 12) | TABLE, 8);
        vm.memory().write(PT << 12, (DATA << 12) | LEAF, 8);
        vm.memory().write((PT << 12) + 8, (PD2 << 12) | LEAF, 8);
        vm.memory().write((PDPT << 12) + 8, (PD2 << 12) | TABLE, 8);
        vm.memory().write(PD2 << 12, (PT2 << 12) | TABLE, 8);
        vm.memory().write(PT2 << 12, (DATA2 << 12) | LEAF, 8);
        vm.memory().write(DATA << 12, 0x5eed, 8);
        vm.memory().write(DATA2 << 12, 0x5eed2, 8);

        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong rounds = new AtomicLong();
        AtomicReference<String> wrong = new AtomicReference<>();
        GuestCpu cpu = mmu.cpu(vm, 0);
        cpu.writeRegister(Register.CR3, PML4 << 12);
        Thread vcpu = new Thread(() -> {
            try {
                for (long i = 0; !stop.get(); i++) {
                    if (!cpu.read(GVA, 8, false) || cpu.value() != 0x5eed) {
                        wrong.compareAndSet(null, "round " + i + ": read 0x" + Long.toHexString(cpu.value()));
                    }
                    if (!cpu.read(GVA2, 8, false) || cpu.value() != 0x5eed2) {
                        wrong.compareAndSet(null, "round " + i + ": read 0x" + Long.toHexString(cpu.value()));
                    }
                    int entry = 8 + (int) (i % 16);
                    long value = i % 3 == 0 ? 0 : ((DATA + entry) << 12) | TABLE;
                    if (!cpu.write(PD2_WINDOW + 8L * entry, value, 8, false)) {
                        wrong.compareAndSet(null, "round " + i + ": PD write, exception " + cpu.exception());
                    }
                    rounds.incrementAndGet();
                }
            } catch (RuntimeException | Error e) {
                wrong.compareAndSet(null, e.toString());
            }
        }, "vcpu0");
        vcpu.start();
        try (Itest.Gogo gogo = new Itest.Gogo(processor)) {
            Itest.await("flood:stats moving", () -> stat(gogo, "mmu_pte_write") > 100);
            long fallback = fallbacks();
            assertTrue(floodStat(gogo, "mmu_flooded") > 0, gogo.output());

            flood.stop();
            assertFalse(handlerBound(), "the handler went with the bundle");
            long since = rounds.get();
            Itest.await("the guest running on the fallback", () -> rounds.get() > since + 100);
            assertTrue(fallbacks() > fallback, "the fallback served the writes");

            flood.start();
            Itest.await("the handler registered again", this::handlerBound);
            long bound = fallbacks();
            long again = rounds.get();
            Itest.await("the guest running on the handler", () -> rounds.get() > again + 100);
            assertEquals(bound, fallbacks(), "the fallback stopped acting");
            Itest.await("flood:stats moving again", () -> stat(gogo, "mmu_pte_write") > 100);
        } finally {
            stop.set(true);
            vcpu.join(Itest.TIMEOUT_MS);
        }
        assertEquals(null, wrong.get(), "what the guest saw");
        assertEquals(List.of(), mmu.check(vm));
        assertNotNull(Itest.bundles(context, BSN).get(0));
        assertEquals(Bundle.ACTIVE, flood.getState());
    }

    private long stat(Itest.Gogo gogo, String name) {
        try {
            return floodStat(gogo, name);
        } catch (Exception e) {
            return -1;
        }
    }
}
