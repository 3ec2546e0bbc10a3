package org.shadowbox.mmu.spi;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * {@code kvm_mmu_pte_write}, the write-flood policy: brings the shadow pages of a guest page
 * table up to date after an emulated write to it. Register one as an OSGi service; the MMU
 * binds one at a time (the highest ranking) and calls it from its page-track notifier instead
 * of its own fallback, once per write. See the package description.
 *
 * <p>Called with the VM's MMU lock held, on the writing vCPU's thread, after guest memory holds
 * the new bytes. The handler must not keep {@code ctx} beyond the call, must commit what it
 * zaps ({@link PteWriteContext#commitZap}) before it returns, and must read the new gpte from
 * guest memory ({@link PteWriteContext#readGuest}) rather than trust {@code value} (KVM's 2018
 * fix: two vCPUs writing one gpte at once deliver their notifications in either order).
 */
@ConsumerType
public interface PteWriteHandler {

    /**
     * @param ctx   the VM's shadow MMU as the writing vCPU sees it, valid for this call only
     * @param gpa   first byte written (the write does not cross a page)
     * @param value the bytes the emulator wrote, little-endian in the low {@code bytes} bytes;
     *              for information only
     * @param bytes 1 to 8
     */
    void pteWrite(PteWriteContext ctx, long gpa, long value, int bytes);
}
