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
import org.shadowbox.mmu.spi.PteWriteRoute;
import org.shadowbox.vm.Vm;

/**
 * The MMU's side of {@code kvm_mmu_pte_write} (package {@code org.shadowbox.mmu.spi}): the
 * {@link PteWriteRoute} service through which a handler's page-track notifier hands writes to
 * the MMUs, and the binding of the one {@link PteWriteHandler} service (the highest ranked) to
 * {@link MmuHooks}. Unbinding returns only when no call into the handler is running; the next
 * write goes to the fallback. A component of its own, apart from {@link MmuHooksComponent}, so
 * that page track's hooks keep no reference (see there).
 */
@Component(service = PteWriteRoute.class, immediate = true)
public class PteWriteComponent implements PteWriteRoute {

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

    @Override
    public void trackWrite(Vm vm, int vcpuId, long gpa, long value, int bytes) {
        hooks.route().trackWrite(vm, vcpuId, gpa, value, bytes);
    }
}
