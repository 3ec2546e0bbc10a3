/**
 * Guest workloads: a {@link org.shadowbox.guest.Scenario} is a named workload that runs a guest
 * operating system model on a VM's vCPUs (as {@link org.shadowbox.mmu.GuestCpu}s); the
 * {@link org.shadowbox.guest.ScenarioRunner} service boots the guest, runs a scenario, verifies
 * the guest's view of its memory and returns a {@link org.shadowbox.guest.ScenarioResult}.
 * Scenarios are OSGi services: a bundle adds its own by registering one.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.3.0")
package org.shadowbox.guest;
