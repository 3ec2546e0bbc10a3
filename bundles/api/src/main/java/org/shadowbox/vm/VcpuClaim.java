package org.shadowbox.vm;

import org.osgi.annotation.versioning.ProviderType;

/**
 * A held {@link Vcpu#claim claim} on a vCPU. Closing it releases the vCPU; closing it again
 * does nothing. Use it in try-with-resources around the work that drives the vCPU.
 */
@ProviderType
public interface VcpuClaim extends AutoCloseable {

    /** The claimed vCPU. */
    Vcpu vcpu();

    /** Releases the vCPU (idempotent). */
    @Override
    void close();
}
