/**
 * The reference: a {@link org.shadowbox.mmu.GuestCpu} with no hypervisor behind it, what a
 * guest on bare metal sees. Every access walks the guest's own page tables with the
 * architectural walker (no TLB, no shadow, no TDP), sets the accessed and dirty bits as the
 * processor does, and reports the guest's page faults. Guest models and differential tests
 * run on it to know what the right answer is.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package org.shadowbox.mmu.reference;
