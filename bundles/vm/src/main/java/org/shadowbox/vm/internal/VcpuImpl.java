package org.shadowbox.vm.internal;

import static org.shadowbox.vm.internal.SlotMemory.LONG;
import static org.shadowbox.vm.internal.SlotMemory.PAGE_SHIFT;
import static org.shadowbox.vm.internal.SlotMemory.PAGE_SIZE;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.LocalTime;
import java.time.temporal.ChronoUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.shadowbox.vm.GuestMemory;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.spi.EmulatedWriteListener;
import org.shadowbox.vm.spi.PlatformVcpu;
import org.shadowbox.vm.Register;
import org.shadowbox.vm.Vcpu;
import org.shadowbox.vm.VcpuClaim;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.VmSpec;

/**
 * A vCPU ({@code struct kvm_vcpu}): registers, and the emulator's guest-physical write
 * path of {@code arch/x86/kvm/x86.c}.
 */
final class VcpuImpl implements PlatformVcpu {
    private static final Register[] REGS = Register.values();
    private static final int CR0 = Register.CR0.ordinal();
    private static final int CR3 = Register.CR3.ordinal();
    private static final int CR4 = Register.CR4.ordinal();
    private static final int EFER = Register.EFER.ordinal();

    private final VmImpl vm;
    private final int id;
    private final long[] regs = new long[REGS.length];
    /** {@link #gfnToMemslot} and {@link #memory}: this vCPU's last-used slot and host pages. */
    private final VcpuMemory memory;
    /**
     * {@link #mmuContextGeneration}: changed only inside {@code synchronized (regs)}, by whoever
     * drives the vCPU; read plainly, as the registers are, by the vCPU's thread.
     */
    private long mmuContext;
    /** {@link #mmuContextHook}: run after each count of {@link #mmuContext}, inside {@code synchronized (regs)}. */
    private volatile Runnable mmuContextHook;
    /** The {@link #claim} held now, or null: {@code vcpu->mutex}. */
    private final AtomicReference<Claim> claim = new AtomicReference<>();
    /**
     * The thread inside this vCPU's emulated-write section, or null ({@link EmulationGate}: the
     * emulator's part of {@code vcpu->mutex}). Changed by compare-and-set and release store only.
     */
    volatile Thread emulating;
    /** Threads inside this vCPU's section as guests of its holder ({@link EmulationGate#enter}); atomic updates only. */
    volatile int guests;
    /** Emulated writes made by guests of the section, which may run beside the holder: atomic. */
    private final java.util.concurrent.atomic.AtomicLong guestWrites = new java.util.concurrent.atomic.AtomicLong();
    /**
     * Emulated writes of this vCPU ({@code kvm_vcpu_stat} style: per vCPU, summed on read), counted
     * by the holder of its section, so by one thread at a time; opaque accesses only.
     */
    private long emulatedWrites;
    private static final VarHandle EMULATED_WRITES;

    static {
        try {
            EMULATED_WRITES = MethodHandles.lookup().findVarHandle(VcpuImpl.class, "emulatedWrites", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    /** CR0 after reset or INIT: CD, NW, ET. */
    static final long RESET_CR0 = 0x6000_0010L;
    /** CR0 of a paging guest: PG, WP, ET, PE. */
    static final long CR0_PAGING = Register.CR0_PG | Register.CR0_WP | 0x10L | Register.CR0_PE;

    /**
     * @param paging the {@link VmSpec#PAGING} option: "off" is the architectural reset state
     *               (as {@code kvm_vcpu_reset} leaves it: CR0.CD, CR0.NW, CR0.ET, EFLAGS bit 1);
     *               the others are what a guest kernel has set up by the time it runs code
     */
    VcpuImpl(VmImpl vm, int id, String paging) {
        this.vm = vm;
        this.id = id;
        this.memory = new VcpuMemory(vm);
        regs[Register.RFLAGS.ordinal()] = 0x2L;
        switch (paging) {
            case VmSpec.PAGING_64 -> {
                regs[Register.CR0.ordinal()] = CR0_PAGING;
                regs[Register.CR4.ordinal()] = Register.CR4_PAE;
                regs[Register.EFER.ordinal()] = Register.EFER_LME | Register.EFER_LMA | Register.EFER_NXE;
            }
            case VmSpec.PAGING_PAE -> {
                regs[Register.CR0.ordinal()] = CR0_PAGING;
                regs[Register.CR4.ordinal()] = Register.CR4_PAE;
                regs[Register.EFER.ordinal()] = Register.EFER_NXE;
            }
            case VmSpec.PAGING_32 -> {
                regs[Register.CR0.ordinal()] = CR0_PAGING;
                regs[Register.CR4.ordinal()] = Register.CR4_PSE;
            }
            default -> regs[Register.CR0.ordinal()] = RESET_CR0;
        }
    }

    @Override
    public int id() {
        return id;
    }

    @Override
    public Vm vm() {
        return vm;
    }

    @Override
    public VcpuClaim claim(String who) {
        if (who == null || who.isBlank()) {
            throw new VmException("a vCPU claim needs a non-empty description of who drives the vCPU");
        }
        Claim c = new Claim(who, LocalTime.now().truncatedTo(ChronoUnit.SECONDS));
        if (!claim.compareAndSet(null, c)) {
            Claim held = claim.get();
            throw new VmException("vCPU " + id + " of VM " + vm.name() + " is busy: "
                    + (held == null ? "it was just released" : held.who + " has it since " + held.since)
                    + "; accepted: a vCPU nothing else is driving (try again when that is done)");
        }
        return c;
    }

    @Override
    public String claimedBy() {
        Claim c = claim.get();
        return c == null ? null : c.who;
    }

    /** One claim; {@link #close} releases it only if it is still the one held. */
    private final class Claim implements VcpuClaim {
        final String who;
        final LocalTime since;

        Claim(String who, LocalTime since) {
            this.who = who;
            this.since = since;
        }

        @Override
        public Vcpu vcpu() {
            return VcpuImpl.this;
        }

        @Override
        public void close() {
            claim.compareAndSet(this, null);
        }
    }

    @Override
    public long get(Register r) {
        return regs[r.ordinal()];
    }

    /**
     * x86's rules as KVM applies them ({@link RegisterRules}): a refused write is one line and
     * changes nothing. A write that changed CR0, CR3, CR4 or EFER counts one {@link
     * #mmuContextGeneration} (where {@code kvm_set_cr0} and the others reset the MMU context).
     */
    @Override
    public void set(Register r, long value) {
        synchronized (regs) {
            long cr0 = regs[CR0];
            long cr3 = regs[CR3];
            long cr4 = regs[CR4];
            long efer = regs[EFER];
            RegisterRules.write(regs, r, value, vm.maxPhyAddr());
            countContextChange(cr0, cr3, cr4, efer);
        }
    }

    /** {@code kvm_vcpu_reset}: the architectural state after INIT (paging off, CR0.CD, NW, ET). */
    @Override
    public void reset() {
        synchronized (regs) {
            long cr0 = regs[CR0];
            long cr3 = regs[CR3];
            long cr4 = regs[CR4];
            long efer = regs[EFER];
            java.util.Arrays.fill(regs, 0);
            regs[Register.RFLAGS.ordinal()] = 0x2L;
            regs[CR0] = RESET_CR0;
            countContextChange(cr0, cr3, cr4, efer);
        }
    }

    @Override
    public long mmuContextGeneration() {
        return mmuContext;
    }

    @Override
    public void mmuContextHook(Runnable onChange) {
        mmuContextHook = onChange;
    }

    @Override
    public Memslot gfnToMemslot(long gfn) {
        return memory.gfnToMemslot(gfn);
    }

    @Override
    public GuestMemory memory() {
        return memory;
    }

    /** Counts one {@link #mmuContextGeneration} if CR0, CR3, CR4 or EFER is not what it was. Holds {@code regs}. */
    private void countContextChange(long cr0, long cr3, long cr4, long efer) {
        assert Thread.holdsLock(regs);
        if (regs[CR0] != cr0 || regs[CR3] != cr3 || regs[CR4] != cr4 || regs[EFER] != efer) {
            mmuContext++;
            Runnable hook = mmuContextHook;
            if (hook != null) {
                hook.run(); // kvm_mmu_reset_context's place: the MMU posts itself a request
            }
        }
    }

    /**
     * {@code emulator_write_phys} behind {@code emulator_read_write}: a write that crosses
     * a page is two writes, each stored and then reported.
     */
    @Override
    public void emulatorWritePhys(long gpa, long value, int bytes) {
        if (bytes >= 1 && bytes <= 8 && bytes <= PAGE_SIZE - (int) (gpa & (PAGE_SIZE - 1))) {
            writeOnePage(gpa, value, bytes);
        } else {
            writeSplit(gpa, value, bytes); // rare: kept out of the common case, which callers inline
        }
    }

    /** {@link #emulatorWritePhys} of a bad size, or of a write that crosses a page: two writes. */
    private void writeSplit(long gpa, long value, int bytes) {
        if (bytes < 1 || bytes > 8) {
            throw new VmException("bad write size " + bytes + ": accepted 1 to 8 bytes");
        }
        int first = PAGE_SIZE - (int) (gpa & (PAGE_SIZE - 1));
        vm.memoryImpl().reserve(gpa, bytes, true); // the memory budget refuses before either half is written
        writeOnePage(gpa, value & ((1L << (8 * first)) - 1), first);
        writeOnePage(gpa + first, value >>> (8 * first), bytes - first);
    }

    /** {@code emulator_write_phys} for one page: store, then {@code kvm_page_track_write}. */
    private void writeOnePage(long gpa, long value, int bytes) {
        int how = vm.gate.enter(this); // the checker looks only between a store and its notifiers
        try {
            if (!vm.memoryImpl().store(gpa, value, bytes, true)) {
                vm.memoryImpl().mmioWritesDropped.increment(); // an MMIO exit with no device behind it
                return;
            }
            countEmulatedWrite(how);
            notifyWrite(gpa, value, bytes);
        } finally {
            EmulationGate.exit(this, how);
        }
    }

    /**
     * One more emulated write, made in the section as {@code how} entered it: by its holder
     * (one thread at a time: a plain increment), or by a guest (atomic).
     */
    private void countEmulatedWrite(int how) {
        if (how == EmulationGate.GUEST) {
            guestWrites.incrementAndGet();
        } else {
            EMULATED_WRITES.setOpaque(this, (long) EMULATED_WRITES.getOpaque(this) + 1);
        }
    }

    /** This vCPU's emulated writes so far (any thread). */
    long emulatedWrites() {
        return (long) EMULATED_WRITES.getOpaque(this) + guestWrites.get();
    }

    private void notifyWrite(long gpa, long value, int bytes) {
        for (EmulatedWriteListener l : vm.hypervisor().writeListeners()) {
            l.emulatedWrite(this, gpa, value, bytes);
        }
    }

    /**
     * {@code emulator_cmpxchg_emulated}: an atomic compare-exchange on guest memory, reported
     * to page track only when the exchange happened.
     */
    @Override
    public boolean emulatorCmpxchg(long gpa, long old, long value, int bytes) {
        GuestMemoryImpl.checkSize(bytes);
        int off = (int) (gpa & (PAGE_SIZE - 1));
        if (off + bytes > PAGE_SIZE) {
            throw new VmException("cmpxchg of " + bytes + " bytes at gpa 0x" + Long.toHexString(gpa)
                    + " crosses a page: accepted only within one 4 KiB page");
        }
        MemslotImpl s = vm.memslotsSnapshot().find(gpa >>> PAGE_SHIFT);
        if (s == null || s.readonly()) {
            vm.memoryImpl().mmioWritesDropped.increment();
            return false;
        }
        long index = (gpa >>> PAGE_SHIFT) - s.baseGfn();
        byte[] page = s.memory.page(index);
        int how = vm.gate.enter(this); // as writeOnePage: the checker looks only between exchanges and notifiers
        try {
            return cmpxchg(s, index, page, gpa, off, old, value, bytes, how);
        } finally {
            EmulationGate.exit(this, how);
        }
    }

    private boolean cmpxchg(MemslotImpl s, long index, byte[] page, long gpa, int off, long old, long value, int bytes,
            int how) {
        long mask = GuestMemoryImpl.ones(bytes);
        boolean exchanged;
        int word = off & ~7;
        if (off + bytes <= word + 8) {
            int shift = (off - word) * 8;
            exchanged = casInWord(page, word, shift, mask, old & mask, value & mask);
        } else {
            synchronized (page) { // an unaligned cmpxchg that spans two words: a bus lock
                exchanged = SlotMemory.load(page, off, bytes) == (old & mask);
                if (exchanged) {
                    SlotMemory.store(page, off, value, bytes);
                }
            }
        }
        if (!exchanged) {
            vm.cmpxchgFailed.increment();
            return false;
        }
        s.markDirty(index); // kvm_vcpu_mark_page_dirty: only when the exchange happened
        countEmulatedWrite(how);
        notifyWrite(gpa, value & mask, bytes);
        return true;
    }

    private static boolean casInWord(byte[] page, int word, int shift, long mask, long expect, long update) {
        while (true) {
            long w = (long) LONG.getVolatile(page, word);
            if (((w >>> shift) & mask) != expect) {
                return false;
            }
            long n = (w & ~(mask << shift)) | (update << shift);
            if (LONG.compareAndSet(page, word, w, n)) {
                return true;
            }
        }
    }
}
