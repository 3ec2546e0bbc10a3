package org.shadowbox.shell.internal;

import org.apache.felix.service.command.Descriptor;
import org.apache.felix.service.command.Parameter;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.shell.internal.Views.SlotDeleted;
import org.shadowbox.shell.internal.Views.SlotMoved;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Memslot;
import org.shadowbox.vm.SlotSpec;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;

/**
 * {@code slot:list}, {@code slot:add}, {@code slot:delete}, {@code slot:move}: memslots as
 * {@code KVM_SET_USER_MEMORY_REGION} creates, deletes and moves them. {@code slot:add} takes
 * the slot id as an optional second argument: {@code slot:add VM BASE_GFN NPAGES} picks the
 * lowest free id, {@code slot:add VM SLOT_ID BASE_GFN NPAGES} uses the one given.
 */
@Component(service = Object.class, property = {"osgi.command.scope=slot", "osgi.command.function=list",
        "osgi.command.function=add", "osgi.command.function=delete", "osgi.command.function=move",
        "osgi.command.function=dirty"})
public class SlotCommands extends CommandSupport {

    private static final String ADD = "create a memslot of NPAGES 4 KiB pages from BASE_GFN;"
            + " without SLOT_ID the lowest free id is used";

    private final Hypervisor hypervisor;

    /** Optional: slot:list shows tracked pages per slot when page track runs. */
    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile PageTrack pageTrack;

    @Activate
    public SlotCommands(@Reference Hypervisor hypervisor) {
        super("slot");
        this.hypervisor = hypervisor;
    }

    @Descriptor("list a VM's memslots: id, gfn range, size, flags, resident and tracked pages")
    public Object list(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm) {
        return run("list", help, json, () -> Rows.slots(vm(hypervisor, vm), pageTrack));
    }

    @Descriptor(ADD)
    public Object add(
            @Descriptor("guest writes to the slot are dropped as MMIO (KVM_MEM_READONLY)")
            @Parameter(names = "--readonly", presentValue = ON, absentValue = OFF) String readonly,
            @Descriptor("log dirty pages (KVM_MEM_LOG_DIRTY_PAGES)")
            @Parameter(names = "--dirty-log", presentValue = ON, absentValue = OFF) String dirtyLog,
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm,
            @Descriptor("slot id, 0 to 511 (optional: the lowest free id when left out)") String slotId,
            @Descriptor("first guest frame number of the slot, 0x hex or decimal") String baseGfn,
            @Descriptor("number of 4 KiB pages, at least 1") String npages) {
        return run("add", help, json, () -> {
            int id = Numbers.integer("SLOT_ID", slotId, 0, Memslot.MAX_SLOT_ID);
            return create(vm, id, baseGfn, npages, readonly, dirtyLog);
        });
    }

    @Descriptor(ADD)
    public Object add(
            @Descriptor("guest writes to the slot are dropped as MMIO (KVM_MEM_READONLY)")
            @Parameter(names = "--readonly", presentValue = ON, absentValue = OFF) String readonly,
            @Descriptor("log dirty pages (KVM_MEM_LOG_DIRTY_PAGES)")
            @Parameter(names = "--dirty-log", presentValue = ON, absentValue = OFF) String dirtyLog,
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm,
            @Descriptor("first guest frame number of the slot, 0x hex or decimal") String baseGfn,
            @Descriptor("number of 4 KiB pages, at least 1") String npages) {
        return run("add", help, json, () -> create(vm, -1, baseGfn, npages, readonly, dirtyLog));
    }

    /** @param id the slot id, or -1 for the lowest free one */
    private Object create(String vmName, int id, String baseGfn, String npages, String readonly, String dirtyLog) {
        Vm v = vm(hypervisor, vmName);
        long base = Numbers.address("BASE_GFN", baseGfn);
        long n = Numbers.address("NPAGES", npages);
        int flags = (ON.equals(readonly) ? Memslot.READONLY : 0) | (ON.equals(dirtyLog) ? Memslot.LOG_DIRTY_PAGES : 0);
        int slot = id >= 0 ? id : lowestFreeId(v);
        Memslot s = v.createSlot(new SlotSpec(slot, base, n, flags));
        PageTrack pt = pageTrack;
        return Rows.slotRow(s, pt == null ? null : pt.tracked(v));
    }

    static int lowestFreeId(Vm vm) {
        for (int id = 0; id <= Memslot.MAX_SLOT_ID; id++) {
            if (vm.slot(id) == null) {
                return id;
            }
        }
        throw new VmException("no free slot id in VM " + vm.name() + ": all of 0 to " + Memslot.MAX_SLOT_ID
                + " are in use; delete a slot first");
    }

    @Descriptor("delete a memslot and free its memory; page-track notifiers get track_remove_region once")
    public Object delete(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm,
            @Descriptor("the slot id (slot:list shows them)") String slot) {
        return run("delete", help, json, () -> {
            Vm v = vm(hypervisor, vm);
            Memslot s = existing(v, slot);
            long resident = s.residentPages();
            v.deleteSlot(s.id());
            return new SlotDeleted(v.name(), s.id(), s.baseGfn(), s.npages(), resident);
        });
    }

    @Descriptor("move a memslot to NEW_BASE_GFN keeping its memory; refused while a tracker other than the MMU"
            + " holds tracked pages in it")
    public Object move(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm,
            @Descriptor("the slot id (slot:list shows them)") String slot,
            @Descriptor("the new first guest frame number, 0x hex or decimal") String newBaseGfn) {
        return run("move", help, json, () -> {
            Vm v = vm(hypervisor, vm);
            Memslot s = existing(v, slot);
            long base = Numbers.address("NEW_BASE_GFN", newBaseGfn);
            Memslot moved = v.moveSlot(s.id(), base);
            return new SlotMoved(v.name(), moved.id(), s.baseGfn(), moved.baseGfn(), moved.npages(),
                    moved.residentPages());
        });
    }

    @Descriptor("the gfns written since the last call, then clear them (KVM_GET_DIRTY_LOG); only a slot created"
            + " with --dirty-log keeps a log")
    public Object dirty(
            @Descriptor(JSON) @Parameter(names = "--json", presentValue = ON, absentValue = OFF) String json,
            @Descriptor(HELP) @Parameter(names = "--help", presentValue = ON, absentValue = OFF) String help,
            @Descriptor("the VM's name") String vm,
            @Descriptor("the slot id (slot:list shows them)") String slot) {
        return run("dirty", help, json, () -> {
            Vm v = vm(hypervisor, vm);
            Memslot s = existing(v, slot);
            if (!s.dirtyLogging()) {
                throw new VmException("slot " + s.id() + " of VM " + v.name()
                        + " keeps no dirty log: create it with slot:add --dirty-log");
            }
            long[] gfns = s.getDirtyLog();
            return new Views.SlotDirtyLog(v.name(), s.id(), gfns.length, ranges(gfns));
        });
    }

    /** "0x10-0x12, 0x20": sorted gfns as hex ranges; "-" when there are none. */
    static String ranges(long[] gfns) {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < gfns.length; ) {
            int j = i;
            while (j + 1 < gfns.length && gfns[j + 1] == gfns[j] + 1) {
                j++;
            }
            sb.append(sb.length() == 0 ? "" : ", ").append("0x").append(Long.toHexString(gfns[i]));
            if (j > i) {
                sb.append("-0x").append(Long.toHexString(gfns[j]));
            }
            i = j + 1;
        }
        return sb.length() == 0 ? "-" : sb.toString();
    }

    private static Memslot existing(Vm v, String slot) {
        int id = Numbers.integer("SLOT", slot, 0, Memslot.MAX_SLOT_ID);
        Memslot s = v.slot(id);
        if (s == null) {
            throw new VmException("no slot " + id + " in VM " + v.name() + ": slots are " + ids(v));
        }
        return s;
    }

    private static String ids(Vm v) {
        StringBuilder sb = new StringBuilder();
        for (Memslot s : v.memslots()) {
            sb.append(sb.length() == 0 ? "" : ", ").append(s.id());
        }
        return sb.length() == 0 ? "none" : sb.toString();
    }
}
