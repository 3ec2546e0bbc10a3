/**
 * Page track's implementation (never exported). Entry points for plain-Java tests:
 * {@link org.shadowbox.pagetrack.internal.PageTrackCore} (register it with the hypervisor as
 * VM listener and emulated-write listener), {@code forOwner(name)} for an owner-attributed
 * {@link org.shadowbox.pagetrack.PageTrack}, {@code register(notifier, bundle, vms...)} for
 * notifiers.
 */
package org.shadowbox.pagetrack.internal;
