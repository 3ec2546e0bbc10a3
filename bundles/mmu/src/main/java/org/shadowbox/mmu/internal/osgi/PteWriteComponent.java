package org.shadowbox.mmu.internal.osgi;

import org.osgi.framework.Bundle;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.shadowbox.mmu.internal.shadow.MmuHooks;
import org.shadowbox.mmu.spi.PteWriteHandler;

/**
 * The binding of the write-flood policy (package {@code org.shadowbox.mmu.spi}): the one
 * {@link PteWriteHandler} service (the highest ranked, normally the writeflood bundle's) is
 * given to {@link MmuHooks}, whose notifier calls it for every emulated page-table write. Unbinding returns only when no call into the handler is running; the next
 * write goes to the fallback. A component of its own, apart from {@link MmuHooksComponent}, so
 * that page track's hooks keep no reference (see there).
 */
@Component(service = {}, immediate = true)
public class PteWriteComponent {

    private final MmuHooks hooks;

    @Activate
    public PteWriteComponent(@Reference MmuHooksComponent hooks) {
        this.hooks = hooks.hooks;
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY, unbind = "unbindHandler")
    void bindHandler(PteWriteHandler handler, ServiceReference<PteWriteHandler> ref) {
        Bundle b = ref.getBundle();
        hooks.setPteWriteHandler(handler, b == null ? "unknown bundle" : b.getSymbolicName());
    }

    void unbindHandler(PteWriteHandler handler) {
        hooks.unsetPteWriteHandler(handler);
    }

    /** The MMU bundle stops: writes go to the fallback (until the MMUs themselves go). */
    @Deactivate
    void deactivate() {
        PteWriteHandler h = hooks.pteWriteHandler();
        if (h != null) {
            hooks.unsetPteWriteHandler(h);
        }
    }
}
