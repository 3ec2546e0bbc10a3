package org.shadowbox.vm.internal;

import org.shadowbox.vm.spi.PlatformVm;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Supplier;
import java.util.stream.Collectors;

import org.shadowbox.vm.GuestMemory;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.MemoryBudget;
import org.shadowbox.vm.spi.SlotChange;
import org.shadowbox.vm.SlotSpec;
import org.shadowbox.vm.Vcpu;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.VmSpec;
import org.shadowbox.vm.VmStats;

/**
 * A VM ({@code struct kvm}). Memslot changes follow {@code kvm_set_memory_region}: checked,
 * offered to every listener (which may refuse), then installed as a new immutable
 * {@link Memslots} and announced. Everything that changes the slots holds
 * {@code slotsLock} ({@code kvm->slots_lock}).
 */
final class VmImpl implements PlatformVm {
    /** {@code KVM_MEM_MAX_NR_PAGES}: the largest memslot KVM accepts. */
    static final long MAX_SLOT_PAGES = (1L << 31) - 1;
    private static final int KNOWN_FLAGS = Memslot.LOG_DIRTY_PAGES | Memslot.READONLY;

    private final HypervisorImpl hypervisor;
    private final VmSpec spec;
    private final String name;
    private final int id;
    private final int maxPhyAddr;
    private final ReentrantLock mmuLock = new MmuSpinLock();
    private final ReentrantLock slotsLock = new ReentrantLock();
    private final VcpuImpl[] vcpus;
    private final GuestMemoryImpl memory;
    private volatile Memslots memslots = Memslots.EMPTY;
    private volatile boolean destroyed;
    /** Bytes {@link #charge} took and {@link #uncharge} has not given back; guarded by itself. */
    private final long[] charged = new long[1];
    final LongAdder cmpxchgFailed = new LongAdder();
    private long slotChanges;
    /** Emulated writes run in their vCPU's section; the checker waits at the gate ({@link #betweenEmulatedWrites}). */
    final EmulationGate gate;
    /** What this VM's guest pages and page-track chunks take, against its limit and the sandbox's. */
    final Budget budget;

    VmImpl(HypervisorImpl hypervisor, VmSpec spec, int id, Budget budget) {
        this.hypervisor = hypervisor;
        this.budget = budget;
        this.spec = spec;
        this.name = spec.name();
        this.id = id;
        this.maxPhyAddr = spec.maxPhyAddr();
        this.memory = new GuestMemoryImpl(this);
        this.vcpus = new VcpuImpl[spec.vcpus()];
        for (int i = 0; i < vcpus.length; i++) {
            vcpus[i] = new VcpuImpl(this, i, spec.option(VmSpec.PAGING));
        }
        this.gate = new EmulationGate(this, vcpus);
    }

    HypervisorImpl hypervisor() {
        return hypervisor;
    }

    Memslots memslotsSnapshot() {
        return memslots;
    }

    GuestMemoryImpl memoryImpl() {
        return memory;
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public VmSpec spec() {
        return spec;
    }

    @Override
    public int id() {
        return id;
    }

    @Override
    public int maxPhyAddr() {
        return maxPhyAddr;
    }

    @Override
    public List<Memslot> memslots() {
        return List.copyOf(memslots.list());
    }

    @Override
    public Memslot slotForGfn(long gfn) {
        return memslots.find(gfn);
    }

    @Override
    public Memslot slot(int slotId) {
        return memslots.byId(slotId);
    }

    @Override
    public Memslot createSlot(SlotSpec spec) {
        slotsLock.lock();
        try {
            checkAlive();
            checkNewSlot(memslots, spec);
            long hostBase = hypervisor.allocateHostFrames(spec.baseGfn(), spec.npages());
            MemslotImpl slot = new MemslotImpl(spec.id(), spec.baseGfn(), spec.npages(), spec.flags(),
                    new SlotMemory(spec.npages(), hostBase, budget), budget);
            change(new SlotChange(SlotChange.Kind.CREATE, null, slot), slot, null);
            return slot;
        } finally {
            slotsLock.unlock();
        }
    }

    @Override
    public void deleteSlot(int slotId) {
        slotsLock.lock();
        try {
            checkAlive();
            MemslotImpl old = existing(slotId);
            change(new SlotChange(SlotChange.Kind.DELETE, old, null), null, old);
        } finally {
            slotsLock.unlock();
        }
    }

    @Override
    public Memslot moveSlot(int slotId, long newBaseGfn) {
        slotsLock.lock();
        try {
            checkAlive();
            MemslotImpl old = existing(slotId);
            checkRange(memslots, newBaseGfn, old.npages(), old);
            MemslotImpl moved = new MemslotImpl(old.id(), newBaseGfn, old.npages(), old.flags(), old.memory, budget);
            change(new SlotChange(SlotChange.Kind.MOVE, old, moved), moved, old);
            return moved;
        } finally {
            slotsLock.unlock();
        }
    }

    /** Prepare (listeners may refuse), install, commit: {@code kvm_set_memslot}. */
    private void change(SlotChange change, MemslotImpl added, MemslotImpl removed) {
        hypervisor.prepareSlotChange(this, change);
        memslots = memslots.with(added, removed);
        slotChanges++;
        hypervisor.commitSlotChange(this, change);
        if (removed != null) {
            removed.release(added == null); // a move keeps the memory, not the arch data
        }
    }

    /** Checks a new slot against {@code current}; used for creation and for a VmSpec's slots. */
    void checkNewSlot(Memslots current, SlotSpec spec) {
        if (spec.id() < 0 || spec.id() > Memslot.MAX_SLOT_ID) {
            throw new VmException("bad slot id " + spec.id() + ": accepted 0 to " + Memslot.MAX_SLOT_ID);
        }
        MemslotImpl same = current.byId(spec.id());
        if (same != null) {
            throw new VmException("slot " + spec.id() + " already exists in VM " + name + " " + range(same)
                    + ": delete it first or use a free id");
        }
        if ((spec.flags() & ~KNOWN_FLAGS) != 0) {
            throw new VmException("bad slot flags 0x" + Integer.toHexString(spec.flags())
                    + ": accepted 0x1 (dirty logging) and 0x2 (read-only)");
        }
        checkRange(current, spec.baseGfn(), spec.npages(), null);
    }

    private void checkRange(Memslots current, long base, long npages, MemslotImpl except) {
        if (npages < 1 || npages > MAX_SLOT_PAGES) {
            throw new VmException("bad slot size of " + npages + " pages: accepted 1 to 0x"
                    + Long.toHexString(MAX_SLOT_PAGES) + " pages");
        }
        if (base < 0 || base + npages > gfnLimit()) {
            throw new VmException("slot [0x" + Long.toHexString(base) + ", 0x" + Long.toHexString(base + npages)
                    + ") passes the guest physical address width: MAXPHYADDR " + maxPhyAddr
                    + " allows gfns below 0x" + Long.toHexString(gfnLimit()));
        }
        MemslotImpl other = current.overlapping(base, npages, except);
        if (other != null) {
            throw new VmException("slot [0x" + Long.toHexString(base) + ", 0x" + Long.toHexString(base + npages)
                    + ") overlaps slot " + other.id() + " " + range(other) + " of VM " + name);
        }
    }

    private MemslotImpl existing(int slotId) {
        MemslotImpl s = memslots.byId(slotId);
        if (s == null) {
            String ids = memslots.list().stream().map(x -> Integer.toString(x.id())).collect(Collectors.joining(", "));
            throw new VmException("no slot " + slotId + " in VM " + name + ": its slots are "
                    + (ids.isEmpty() ? "none" : ids));
        }
        return s;
    }

    private static String range(Memslot s) {
        return "[0x" + Long.toHexString(s.baseGfn()) + ", 0x" + Long.toHexString(s.endGfn()) + ")";
    }

    private void checkAlive() {
        if (destroyed) {
            throw new VmException("VM " + name + " was destroyed");
        }
    }

    /** Marks the VM destroyed and drops its memory; called by the hypervisor after the listeners. */
    void destroy() {
        slotsLock.lock();
        try {
            destroyed = true;
            for (MemslotImpl s : memslots.list()) {
                s.release(true);
            }
            memslots = Memslots.EMPTY;
        } finally {
            slotsLock.unlock();
        }
        synchronized (charged) {
            budget.release(charged[0]);
            charged[0] = 0;
        }
    }

    /** {@code GFP_KERNEL_ACCOUNT}: host memory allocated for this VM, charged to its budget or refused in one line. */
    @Override
    public void charge(long bytes, String what) {
        if (bytes < 0) {
            throw new IllegalArgumentException("negative charge " + bytes);
        }
        synchronized (charged) {
            if (destroyed) {
                return;
            }
            budget.charge(bytes, what);
            charged[0] += bytes;
        }
    }

    @Override
    public void uncharge(long bytes) {
        synchronized (charged) {
            if (destroyed) {
                return;
            }
            if (bytes < 0 || bytes > charged[0]) {
                throw new IllegalStateException("uncharge of " + bytes + " bytes, but " + charged[0] + " are charged");
            }
            budget.release(bytes);
            charged[0] -= bytes;
        }
    }

    @Override
    public GuestMemory memory() {
        return memory;
    }

    @Override
    public int vcpuCount() {
        return vcpus.length;
    }

    @Override
    public Vcpu vcpu(int vcpuId) {
        if (vcpuId < 0 || vcpuId >= vcpus.length) {
            throw new VmException("no vCPU " + vcpuId + " in VM " + name + ": accepted 0 to " + (vcpus.length - 1));
        }
        return vcpus[vcpuId];
    }

    @Override
    public VmStats stats() {
        return new VmStats(emulatedWrites(), cmpxchgFailed.sum(), memory.hostWrites.sum(), memory.mmioReads(),
                memory.mmioWritesDropped(), memory.residentPages(), slotChangeCount());
    }

    @Override
    public <T> T betweenEmulatedWrites(Supplier<T> body) {
        if (mmuLock.isHeldByCurrentThread()) {
            throw new IllegalStateException("betweenEmulatedWrites called with the mmu_lock held");
        }
        return gate.between(body);
    }

    /** The emulated writes of every vCPU, summed ({@code kvm_get_stat_per_vcpu}). */
    private long emulatedWrites() {
        long n = 0;
        for (VcpuImpl v : vcpus) {
            n += v.emulatedWrites();
        }
        return n;
    }

    @Override
    public MemoryBudget memoryBudget() {
        return budget.snapshot();
    }

    @Override
    public void setMemoryBudget(long limitBytes) {
        if (limitBytes < (1L << 20)) {
            throw new VmException("bad memory budget of " + limitBytes + " bytes for VM " + name
                    + ": accepted 1M or more");
        }
        budget.setVmLimit(limitBytes);
    }

    private long slotChangeCount() {
        slotsLock.lock();
        try {
            return slotChanges;
        } finally {
            slotsLock.unlock();
        }
    }

    @Override
    public ReentrantLock mmuLock() {
        return mmuLock;
    }

    @Override
    public boolean destroyed() {
        return destroyed;
    }

    @Override
    public String toString() {
        return "VM " + name;
    }
}
