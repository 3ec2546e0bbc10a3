package org.shadowbox.writeflood.internal;

import java.lang.System.Logger.Level;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;
import org.shadowbox.mmu.spi.PteWriteContext;
import org.shadowbox.mmu.spi.PteWriteHandler;
import org.shadowbox.mmu.spi.PteWriteRoute;
import org.shadowbox.pagetrack.PageTrackNotifier;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;

/**
 * The bundle's one component: {@code kvm_mmu_pte_write} registered, as in KVM, as a page-track
 * notifier for every VM, and as the MMU's {@link PteWriteHandler}. Its notifier passes each
 * write to the MMU's {@link PteWriteRoute}; the MMU runs the handler under its lock, exactly
 * once per write, and also through its own notifier and its legacy direct call, so every route
 * runs the same code ({@link PteWrite}). When the bundle stops, both services go: the MMU falls
 * back to zapping at once, and no write is lost (package {@code org.shadowbox.mmu.spi}).
 */
@Component(service = {PteWriteHandler.class, PageTrackNotifier.class, WriteFlood.class},
        configurationPid = WriteFlood.PID, immediate = true)
@Designate(ocd = Config.class)
public final class WriteFlood implements PteWriteHandler, PageTrackNotifier {
    /** Configuration Admin PID of {@link Config}. */
    public static final String PID = "org.shadowbox.writeflood";

    private static final System.Logger LOG = System.getLogger(PID);

    final PteWrite pteWrite = new PteWrite();

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    volatile PteWriteRoute route;

    @Activate
    void activate(Config config) {
        configure(config);
    }

    @Modified
    void modified(Config config) {
        configure(config);
    }

    /** A bad configuration is refused in one logged line and the settings stay as they were. */
    private void configure(Config config) {
        try {
            pteWrite.settings(Settings.parse(config.policy(), config.threshold(), config.vm_policy()));
        } catch (VmException e) {
            LOG.log(Level.ERROR, "configuration " + PID + " refused, settings unchanged: " + e.getMessage());
        }
    }

    /** {@code track_write}: hands the write to the MMU, which runs {@link #pteWrite} for it once. */
    @Override
    public void trackWrite(Vm vm, int vcpuId, long gpa, long value, int bytes) {
        PteWriteRoute r = route;
        if (r != null) {
            r.trackWrite(vm, vcpuId, gpa, value, bytes);
        }
    }

    @Override
    public void pteWrite(PteWriteContext ctx, long gpa, long value, int bytes) {
        pteWrite.pteWrite(ctx, gpa, value, bytes);
    }
}
