package org.shadowbox.vm.internal;

import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.shadowbox.vm.spi.EmulatedWriteListener;
import org.osgi.service.metatype.annotations.Designate;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.MemoryBudget;
import org.shadowbox.vm.spi.SlotChange;
import org.shadowbox.vm.SlotSpec;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;
import org.shadowbox.vm.spi.VmListener;
import org.shadowbox.vm.VmSpec;

/**
 * The hypervisor: owns the VMs and the two whiteboards the platform bundles plug into,
 * {@link VmListener} (VM and memslot lifecycle) and {@link EmulatedWriteListener} (the
 * emulator's write hook). Listeners are kept in copy-on-write arrays so that the write
 * path reads them without a lock.
 */
@Component(service = Hypervisor.class, immediate = true, configurationPid = HypervisorImpl.BUDGET_PID,
        configurationPolicy = ConfigurationPolicy.OPTIONAL)
@Designate(ocd = BudgetConfig.class)
public final class HypervisorImpl implements Hypervisor {
    /** Configuration Admin PID of the memory budgets ({@link BudgetConfig}). */
    public static final String BUDGET_PID = "org.shadowbox.budget";
    private static final System.Logger LOG = System.getLogger("org.shadowbox.vm");
    /** Host frames are handed out in 1 GiB-aligned runs, as an mmap of guest RAM would be. */
    private static final long HOST_ALIGN = 1L << 18;

    private final Object lock = new Object();
    private final Map<String, VmImpl> vms = new LinkedHashMap<>();
    private int nextVmId;
    private long nextHostFrame = HOST_ALIGN;
    private volatile VmListener[] vmListeners = new VmListener[0];
    private volatile EmulatedWriteListener[] writeListeners = new EmulatedWriteListener[0];
    private final Budget sandbox = Budget.sandbox(defaultSandboxBytes(), defaultSandboxOrigin());
    private volatile long vmBudgetBytes = MemoryBudget.UNLIMITED;

    /** Half of the JVM's maximum heap: the rest is for shadow pages, trackers and the shell. */
    static long defaultSandboxBytes() {
        return Runtime.getRuntime().maxMemory() / 2;
    }

    private static String defaultSandboxOrigin() {
        return "half of the JVM's " + Budget.Sizes.human(Runtime.getRuntime().maxMemory()) + " max heap";
    }

    @Activate
    @Modified
    public void configure(BudgetConfig config) {
        String s = config.sandbox() == null ? "" : config.sandbox().trim();
        String v = config.vm() == null ? "" : config.vm().trim();
        try {
            long sandboxBytes = s.isEmpty() ? defaultSandboxBytes() : VmConfigurator.parseSize(s);
            long vmBytes = v.isEmpty() ? MemoryBudget.UNLIMITED : VmConfigurator.parseSize(v);
            sandbox.setLimit(sandboxBytes, s.isEmpty() ? defaultSandboxOrigin() : "sandbox = " + s + " in " + Budget.CONFIG);
            vmBudgetBytes = vmBytes;
        } catch (VmException e) {
            // A bad value keeps the budgets as they were; the log says which.
            LOG.log(Level.ERROR, "configuration " + BUDGET_PID + ": " + e.getMessage() + "; budgets unchanged");
        }
    }

    @Override
    public MemoryBudget memoryBudget() {
        return sandbox.snapshot();
    }

    @Override
    public Vm createVm(VmSpec spec) {
        synchronized (lock) {
            if (vms.containsKey(spec.name())) {
                throw new VmException("a VM named " + spec.name() + " exists already: choose another name");
            }
            VmImpl vm = new VmImpl(this, spec, nextVmId, sandbox.forVm(spec.name(), vmBudgetBytes));
            // Check every slot before anything is announced, so a bad spec changes nothing.
            Memslots probe = Memslots.EMPTY;
            for (SlotSpec s : spec.slots()) {
                vm.checkNewSlot(probe, s);
                probe = probe.with(new MemslotImpl(s.id(), s.baseGfn(), s.npages(), s.flags(),
                        new SlotMemory(s.npages(), HOST_ALIGN, null), null), null);
            }
            nextVmId++;
            vms.put(spec.name(), vm);
            for (VmListener l : vmListeners) {
                vmCreated(l, vm);
            }
            for (SlotSpec s : spec.slots()) {
                vm.createSlot(s);
            }
            return vm;
        }
    }

    @Override
    public void destroyVm(String name) {
        synchronized (lock) {
            VmImpl vm = (VmImpl) require(name);
            for (VmListener l : vmListeners) {
                try {
                    l.vmDestroyed(vm);
                } catch (RuntimeException | LinkageError | AssertionError e) {
                    LOG.log(Level.ERROR, "VM listener " + l.getClass().getName() + " failed on destroy of " + name, e);
                }
            }
            vms.remove(name);
            vm.destroy();
        }
    }

    @Override
    public List<Vm> vms() {
        synchronized (lock) {
            return new ArrayList<>(vms.values());
        }
    }

    @Override
    public Optional<Vm> vm(String name) {
        synchronized (lock) {
            return Optional.ofNullable(vms.get(name));
        }
    }

    @Override
    public Vm require(String name) {
        synchronized (lock) {
            VmImpl vm = vms.get(name);
            if (vm == null) {
                throw new VmException("no VM named '" + name + "': the VMs are "
                        + (vms.isEmpty() ? "none (create one with vm:create)" : String.join(", ", vms.keySet())));
            }
            return vm;
        }
    }

    /**
     * Gives a slot of {@code npages} a run of host frames whose alignment within 1 GiB
     * matches {@code baseGfn}'s, so that large pages are possible wherever the guest
     * layout allows them (KVM requires {@code base_gfn} and {@code userspace_addr} to agree).
     */
    long allocateHostFrames(long baseGfn, long npages) {
        synchronized (lock) {
            long base = nextHostFrame + (baseGfn & (HOST_ALIGN - 1));
            nextHostFrame += ((baseGfn & (HOST_ALIGN - 1)) + npages + HOST_ALIGN - 1) & -HOST_ALIGN;
            return base;
        }
    }

    EmulatedWriteListener[] writeListeners() {
        return writeListeners;
    }

    void prepareSlotChange(VmImpl vm, SlotChange change) {
        for (VmListener l : vmListeners) {
            try {
                l.prepareSlotChange(vm, change);
            } catch (VmException e) {
                throw e;
            } catch (RuntimeException | LinkageError | AssertionError e) {
                throw new VmException("slot change refused: listener " + l.getClass().getName() + " failed: " + e);
            }
        }
    }

    void commitSlotChange(VmImpl vm, SlotChange change) {
        for (VmListener l : vmListeners) {
            try {
                l.commitSlotChange(vm, change);
            } catch (RuntimeException | LinkageError | AssertionError e) {
                LOG.log(Level.ERROR, "VM listener " + l.getClass().getName() + " failed to commit " + change.kind()
                        + " in " + vm.name(), e);
            }
        }
    }

    private static void vmCreated(VmListener l, VmImpl vm) {
        try {
            l.vmCreated(vm);
        } catch (RuntimeException | LinkageError | AssertionError e) {
            LOG.log(Level.ERROR, "VM listener " + l.getClass().getName() + " failed on creation of " + vm.name(), e);
        }
    }

    /** Adds a listener and replays {@link VmListener#vmCreated} for every existing VM. */
    @Reference(name = "vmListener", cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            unbind = "removeVmListener")
    public void addVmListener(VmListener l) {
        synchronized (lock) {
            VmListener[] next = Arrays.copyOf(vmListeners, vmListeners.length + 1);
            next[next.length - 1] = l;
            vmListeners = next;
            for (VmImpl vm : vms.values()) {
                vmCreated(l, vm);
            }
        }
    }

    public void removeVmListener(VmListener l) {
        synchronized (lock) {
            vmListeners = Arrays.stream(vmListeners).filter(x -> x != l).toArray(VmListener[]::new);
        }
    }

    @Reference(name = "writeListener", cardinality = ReferenceCardinality.MULTIPLE,
            policy = ReferencePolicy.DYNAMIC, unbind = "removeWriteListener")
    public void addWriteListener(EmulatedWriteListener l) {
        synchronized (lock) {
            EmulatedWriteListener[] next = Arrays.copyOf(writeListeners, writeListeners.length + 1);
            next[next.length - 1] = l;
            writeListeners = next;
        }
    }

    public void removeWriteListener(EmulatedWriteListener l) {
        synchronized (lock) {
            writeListeners = Arrays.stream(writeListeners).filter(x -> x != l).toArray(EmulatedWriteListener[]::new);
        }
    }
}
