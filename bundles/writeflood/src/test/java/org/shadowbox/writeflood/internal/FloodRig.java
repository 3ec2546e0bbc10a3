package org.shadowbox.writeflood.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;

import org.shadowbox.mmu.internal.paging.Pte;
import org.shadowbox.mmu.internal.shadow.AccessResult;
import org.shadowbox.mmu.internal.shadow.MmuChecker;
import org.shadowbox.mmu.internal.shadow.MmuHooks;
import org.shadowbox.mmu.internal.shadow.ShadowMmu;
import org.shadowbox.mmu.internal.shadow.ShadowPage;
import org.shadowbox.mmu.internal.shadow.VcpuMmu;
import org.shadowbox.pagetrack.internal.PageTrackCore;
import org.shadowbox.pagetrack.internal.TrackerRole;
import org.shadowbox.vm.GuestMemory;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmSpec;
import org.shadowbox.vm.internal.HypervisorImpl;

/**
 * The real hypervisor, page track and shadow MMU wired as the bundles are, with this bundle's
 * {@link WriteFlood} bound as the MMU's write-flood policy (pte-write handler), called from the
 * MMU's one page-track notifier. A 64-bit guest: PML4 {@link #PML4} -> PDPT -> PD {@link #PD} -> PT {@link #PT},
 * entry 0 of the PT mapping {@link #GVA} to {@link #DATA}.
 */
public final class FloodRig {
    public static final String BUNDLE = "org.shadowbox.writeflood";
    static final long PML4 = 0x10, PDPT = 0x11, PD = 0x12, PT = 0x13, DATA = 0x200, OTHER = 0x201;
    static final long GVA = 0x40_0000L;
    static final long LEAF = Pte.P | Pte.RW | Pte.US | Pte.A | Pte.D;
    static final long TABLE = Pte.P | Pte.RW | Pte.US | Pte.A;

    final HypervisorImpl hv = new HypervisorImpl();
    final PageTrackCore core = new PageTrackCore();
    final MmuHooks hooks = new MmuHooks();
    final Vm vm;
    final GuestMemory mem;
    final ShadowMmu mmu;
    final WriteFlood flood;
    final AccessResult r = new AccessResult();

    FloodRig() {
        hv.addVmListener(core);
        hv.addWriteListener(core);
        hv.addVmListener(hooks);
        core.setWriteProtectHook(hooks, "org.shadowbox.mmu");
        vm = hv.createVm(VmSpec.pc("t", 64L << 20, 2));
        mem = vm.memory();
        mmu = hooks.attach(vm, core.forOwner("org.shadowbox.mmu", TrackerRole.MMU), 64, 3);
        core.register(hooks, "org.shadowbox.mmu", vm.name());
        flood = bind(core, hooks, vm);
        for (int i = 0; i < 2; i++) {
            vm.vcpu(i).set(Register.CR0, Register.CR0_PE | Register.CR0_PG | Register.CR0_WP);
            vm.vcpu(i).set(Register.CR4, Register.CR4_PAE);
            vm.vcpu(i).set(Register.EFER, Register.EFER_LME | Register.EFER_LMA | Register.EFER_NXE);
            vm.vcpu(i).set(Register.CR3, PML4 << 12);
        }
        pte(PML4, 0, (PDPT << 12) | TABLE);
        pte(PDPT, 0, (PD << 12) | TABLE);
        pte(PD, 2, (PT << 12) | TABLE);
        pte(PT, 0, (DATA << 12) | LEAF);
        mem.write(DATA << 12, 0x1111, 8);
        mem.write(OTHER << 12, 0x2222, 8);
    }

    /** A {@link WriteFlood} as its component is at start: the MMU binds it as its handler. */
    public static WriteFlood bind(PageTrackCore core, MmuHooks hooks, Vm vm) {
        WriteFlood f = new WriteFlood();
        attach(f, core, hooks, vm);
        return f;
    }

    /** What starting the bundle does: its handler service appears and the MMU binds it. */
    public static void attach(WriteFlood f, PageTrackCore core, MmuHooks hooks, Vm vm) {
        hooks.setPteWriteHandler(f, BUNDLE);
    }

    /** What stopping it does: the service goes and the MMU unbinds it (waiting for a running call). */
    public static void detach(WriteFlood f, PageTrackCore core, MmuHooks hooks) {
        hooks.unsetPteWriteHandler(f);
    }

    public static void policy(WriteFlood f, String policy, int threshold) {
        f.pteWrite.settings(new Settings(FloodPolicy.parse(policy), threshold, Map.of()));
    }

    public static Map<String, Long> stats(WriteFlood f, Vm vm) {
        return f.pteWrite.flood(vm).snapshot().asMap();
    }

    long stat(String name) {
        return stats(flood, vm).get(name);
    }

    VcpuMmu cpu(int i) {
        return mmu.vcpu(i);
    }

    void pte(long table, int index, long value) {
        mem.write((table << 12) + 8L * index, value, 8);
    }

    static long gpa(long table, int index) {
        return (table << 12) + 8L * index;
    }

    /** The guest reads {@link #GVA}: every table on its path gets a shadow page. */
    void shadow() {
        assertTrue(cpu(0).read(GVA, 8, false, r).ok(), r.toString());
        assertEquals(4, mmu.shadowPages().size());
    }

    /** The valid indirect shadow page of {@code gfn}, or null. */
    ShadowPage page(long gfn) {
        for (ShadowPage sp : mmu.shadowPages()) {
            if (sp.gfn() == gfn && !sp.direct() && !sp.invalid()) {
                return sp;
            }
        }
        return null;
    }

    /** An emulated write by vCPU {@code v} ({@code emulator_write_phys}): memory, then page track. */
    void emulate(int v, long gpa, long value, int bytes) {
        vm.vcpu(v).emulatorWritePhys(gpa, value, bytes);
    }

    void assertConsistent(String context) {
        assertEquals(List.of(), MmuChecker.check(mmu), context);
    }
}
