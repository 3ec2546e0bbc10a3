package org.shadowbox.shell.internal;

import java.util.List;
import java.util.Map;

import org.shadowbox.pagetrack.TrackMode;
import org.shadowbox.vm.VmStats;

/**
 * The records commands return. Component names become table headers, block keys and JSON
 * keys; {@link Hex} and {@link Bytes} say how the text renderer prints a number.
 */
public final class Views {

    private Views() {
    }

    /** A row of vm:list. {@code memory} is what the slots cover; {@code resident} the pages touched. */
    public record VmRow(String name, int vcpus, @Bytes long memory, long pages, int slots, long resident,
            @Bytes long held, @Bytes long budget) implements View {
    }

    /**
     * A VM's memory budget in vm:info and vm:budget: {@code own} is its budget ("none" when only the
     * sandbox's applies), {@code held} what its guest pages and page-track chunks take,
     * {@code headroom} what it may still take under both budgets.
     */
    public record BudgetView(String vm, String own, @Bytes long held, @Bytes long headroom, @Bytes long sandboxBudget,
            @Bytes long sandboxHeld) implements View {
    }

    /** vm:info. {@code options}: mmu, policy and paging, as the VM was created. */
    public record VmInfo(String name, int id, int vcpus, Map<String, String> options, @Bytes long memory, long pages, int maxPhyAddr,
            @Hex long gfnLimit, long resident, BudgetView budget, Table slots, Table registers, VmStats stats)
            implements View {
    }

    /** vm:destroy. */
    public record VmDestroyed(String destroyed, @Bytes long memory, long resident) implements View {
    }

    /** One vCPU's registers in vm:info. */
    public record VcpuRow(int vcpu, @Hex long cr0, @Hex long cr2, @Hex long cr3, @Hex long cr4, @Hex long efer,
            @Hex long rflags) implements View {
    }

    /**
     * A row of slot:list (and slot:add's result). {@code tracked} is the number of pages with a
     * page-track count, {@code null} when page track is not running.
     */
    public record SlotRow(int id, @Hex long baseGfn, long npages, @Hex long endGfn, @Bytes long size, String flags,
            long resident, Long tracked) implements View {
    }

    /** slot:delete. */
    public record SlotDeleted(String vm, int id, @Hex long baseGfn, long npages, long residentFreed) implements View {
    }

    /** slot:move. */
    public record SlotMoved(String vm, int id, @Hex long oldBaseGfn, @Hex long newBaseGfn, long npages, long resident)
            implements View {
    }

    /** slot:dirty: the gfns written since the last harvest, as hex ranges. */
    public record SlotDirtyLog(String vm, int slot, int dirty, String gfns) implements View {
    }

    /** mem:read. {@code backing} says which slot holds the gpa, or that it is an MMIO hole. */
    public record MemRead(String vm, @Hex long gpa, int size, @Hex(decimal = true) long value, String backing)
            implements View {
    }

    /** mem:write: a host-side write; {@code notified} is always false. */
    public record MemWritten(String vm, @Hex long gpa, int size, @Hex(decimal = true) long value, String backing,
            boolean notified) implements View {
    }

    /** mem:fill: {@code length} bytes from {@code gpa} set to {@code value}; {@code newPages} became resident. */
    public record MemFilled(String vm, @Hex long gpa, @Bytes long length, @Hex int value, long newPages) implements View {
    }

    /**
     * cpu:write. {@code notifications}: how many writes page track was told of (a write that
     * crosses a page is two; a dropped one none); {@code notifiers}: who is attached (null when
     * page track is not running).
     */
    public record CpuWritten(String vm, int vcpu, @Hex long gpa, int size, @Hex(decimal = true) long value,
            String backing, int notifications, List<String> notifiers) implements View {
    }

    /** cpu:cmpxchg. {@code current} is what memory holds afterwards. */
    public record CpuCmpxchg(String vm, int vcpu, @Hex long gpa, int size, @Hex long old, @Hex long newValue,
            boolean exchanged, @Hex long current, int notifications, List<String> notifiers) implements View {
    }

    /** track:add and track:remove. {@code applied} is false when the count was at its bound. */
    public record TrackChange(String vm, String action, @Hex long gfn, TrackMode mode, boolean applied, int count,
            String owner, boolean active) implements View {
    }

    /** track:active. */
    public record TrackActive(String vm, @Hex long gfn, TrackMode mode, boolean active, int count) implements View {
    }

    /** A row of track:list. */
    public record TrackRow(@Hex long gfn, TrackMode mode, int count, Map<String, Integer> owners) implements View {
    }

    /** A row of track:notifiers. */
    public record NotifierRow(String vm, String name, String bundle, long calls, long failures, boolean disabled,
            String lastError) implements View {
    }

    /** A row of cpu:show VM. */
    public record CpuRow(int vcpu, String paging, @Hex long cr0, @Hex long cr2, @Hex long cr3, @Hex long cr4,
            @Hex long efer, @Hex long rflags) implements View {
    }

    /**
     * cpu:show VM VCPU. {@code flags}: the paging-related bits that are set, by name;
     * {@code mmu}: "served", or why the MMU does not serve the vCPU.
     */
    public record CpuState(String vm, int vcpu, String paging, @Hex long cr0, @Hex long cr2, @Hex long cr3,
            @Hex long cr4, @Hex long efer, @Hex long rflags, String flags, String mmu) implements View {
    }

    /** cpu:set. {@code via}: through the MMU (and what it did) or the register alone. */
    public record CpuSet(String vm, int vcpu, String register, @Hex long old, @Hex long value, String via,
            String paging) implements View {
    }

    /**
     * mmu:access: what the guest saw. {@code outcome}: ok, page fault or general protection;
     * {@code value} and {@code gpa} when it completed; {@code errorCode} and {@code errorBits}
     * for a page fault; {@code emulated}: the hypervisor emulated it; {@code counters}: the MMU
     * counters the access moved.
     */
    public record MmuAccess(String vm, int vcpu, @Hex long gva, String access, int size, String outcome,
            @Hex Long value, @Hex Long gpa, @Hex Long errorCode, String errorBits, boolean emulated, String counters)
            implements View {
    }

    /** mmu:invlpg. */
    public record MmuInvlpg(String vm, int vcpu, @Hex long gva, String counters) implements View {
    }

    /** mmu:walk: the guest's walk and the hardware walk of the shadow tables. */
    public record MmuWalk(String vm, int vcpu, @Hex long gva, Table guest, Table shadow, String result)
            implements View {
    }

    /** One level of mmu:walk: where the entry is (a gpa, or sp ID[INDEX]), its value, its bits by name. */
    public record WalkRow(int level, String address, @Hex long entry, String decoded) implements View {
    }

    /** A row of mmu:pages: one shadow page (struct kvm_mmu_page). */
    public record ShadowPageRow(int id, @Hex long gfn, int level, String role, boolean direct, boolean unsync,
            int flood, int parents, int roots) implements View {
    }

    /** A row of mmu:stats. */
    public record StatRow(String name, long value) implements View {
    }

    /** mmu:check when every invariant holds (violations fail the command). */
    public record MmuCheck(String vm, String result, List<String> violations) implements View {
    }

    /** mmu:flush. */
    public record MmuFlush(String vm, String vcpus, String when) implements View {
    }

    /**
     * mmu:map: the mapping added. {@code entry} is the leaf entry written at {@code entryGpa};
     * {@code newTables}: the table pages taken from the area (zeroed pages nothing points at).
     */
    public record MmuMapped(String vm, int vcpu, @Hex long gva, @Hex long gpa, @Bytes long pageSize, @Hex long cr3,
            @Hex long entryGpa, @Hex long entry, String bits, List<String> newTables) implements View {
    }
}
