/**
 * The VM's platform service provider interface: what the platform's own bundles (page track,
 * the MMU, the shell) need beyond the tracker API in {@code org.shadowbox.vm}: the MMU lock,
 * the per-slot page-track and large-page counters, the VM's listener hooks, and the vCPU's
 * MMU-context generation (1.1: {@link org.shadowbox.vm.spi.PlatformVcpu}), its hook (1.3: {@link org.shadowbox.vm.spi.PlatformVcpu#mmuContextHook}) and its memslot and guest-memory caches (1.3). The export carries the attribute {@value org.shadowbox.vm.spi.Platform#SPI_ATTRIBUTE}; the platform's
 * resolver hook hides such exports from bundles outside the platform, so a tracker that
 * imports this package does not resolve (docs/trust-model.md).
 */
@org.osgi.annotation.bundle.Export(attribute = "shadowbox.platform=true")
@org.osgi.annotation.versioning.Version("1.3.0")
package org.shadowbox.vm.spi;
