/**
 * Page track's platform service provider interface: what the MMU needs from page track beyond
 * the tracker API ({@code org.shadowbox.pagetrack}): {@link org.shadowbox.pagetrack.spi.MmuPageTrack},
 * the {@code *Locked} calls of the MMU role and (1.2) the fault path's
 * {@code kvm_page_track_is_active} through the vCPU's own memslot lookup; and what page track needs from the MMU:
 * {@link org.shadowbox.pagetrack.spi.WriteProtectHook}. Platform only: the export carries
 * {@code shadowbox.platform=true}, and a third-party bundle that imports this package does not
 * resolve (see docs/trust-model.md).
 */
@org.osgi.annotation.bundle.Export(attribute = "shadowbox.platform=true")
@org.osgi.annotation.versioning.Version("1.2.0")
package org.shadowbox.pagetrack.spi;
