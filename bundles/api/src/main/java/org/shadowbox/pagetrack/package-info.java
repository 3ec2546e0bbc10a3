/**
 * Guest page tracking, as KVM's {@code arch/x86/kvm/mmu/page_track.c}: per-memslot,
 * per-mode 16-bit tracking counts, and notifiers that receive every emulated write.
 *
 * <p>Third parties implement {@link org.shadowbox.pagetrack.PageTrackNotifier} and
 * register it as an OSGi service; they call {@link org.shadowbox.pagetrack.PageTrack}
 * to track pages. New tracking modes (READ, EXEC) will come as new
 * {@link org.shadowbox.pagetrack.TrackMode} constants and new, separate callback
 * interfaces: a minor version step that leaves bundles compiled today working.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("2.1.0")
package org.shadowbox.pagetrack;
