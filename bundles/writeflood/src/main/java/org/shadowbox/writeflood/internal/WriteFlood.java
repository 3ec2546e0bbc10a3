package org.shadowbox.writeflood.internal;

import java.lang.System.Logger.Level;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.metatype.annotations.Designate;
import org.shadowbox.mmu.spi.PteWriteContext;
import org.shadowbox.mmu.spi.PteWriteHandler;
import org.shadowbox.vm.VmException;

/**
 * The bundle's one component: {@code kvm_mmu_pte_write}'s flooding heuristics and policies as
 * the MMU's write-flood policy, a {@link PteWriteHandler} service. The MMU's own page-track
 * notifier (registered for every VM, as {@code kvm_mmu_init_vm} does) calls it under the MMU
 * lock, once per emulated page-table write; under the legacy policy the emulator's direct call
 * does. This bundle registers no notifier: a write has one route. When the bundle stops, the
 * service goes and the MMU falls back to zapping at once; no write is lost (package
 * {@code org.shadowbox.mmu.spi}).
 */
@Component(service = {PteWriteHandler.class, WriteFlood.class}, configurationPid = WriteFlood.PID, immediate = true)
@Designate(ocd = Config.class)
public final class WriteFlood implements PteWriteHandler {
    /** Configuration Admin PID of {@link Config}. */
    public static final String PID = "org.shadowbox.writeflood";

    private static final System.Logger LOG = System.getLogger(PID);

    final PteWrite pteWrite = new PteWrite();

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

    @Override
    public void pteWrite(PteWriteContext ctx, long gpa, long value, int bytes) {
        pteWrite.pteWrite(ctx, gpa, value, bytes);
    }
}
