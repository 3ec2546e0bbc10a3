/**
 * The MMU's work, metered for cost models: {@link org.shadowbox.mmu.meter.MmuMeter} gives, per
 * vCPU and per guest mode (user, supervisor), the counts of the work the hypervisor and the
 * processor did for the exits and TLB refills that mode caused, counted where the work happens.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package org.shadowbox.mmu.meter;
