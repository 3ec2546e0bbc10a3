/**
 * The MMU's service provider interface for {@code kvm_mmu_pte_write}: what the write-flood
 * policy (the writeflood bundle) needs from the shadow MMU to keep shadow pages coherent with
 * emulated guest page-table writes, and nothing more. Platform only: see docs/trust-model.md.
 *
 * <h2>Who implements what</h2>
 * <ul>
 * <li>{@link org.shadowbox.mmu.spi.PteWriteHandler} ({@code @ConsumerType}): the body of
 *     {@code kvm_mmu_pte_write}, the write-flood policy. A bundle registers one as an OSGi
 *     service; the MMU binds at most one (the highest ranked), and may lose and regain it at
 *     any time (the bundle stops and starts).
 * <li>{@link org.shadowbox.mmu.spi.PteWriteContext} ({@code @ProviderType}): one VM's shadow MMU
 *     as the writing vCPU sees it, handed to the handler for the length of one call, with the
 *     MMU lock held. Shadow pages are named by {@code int} ids; nothing is allocated.
 * </ul>
 *
 * <h2>One route, in the seed's shape</h2>
 * KVM 4.6's {@code kvm_mmu_init_vm} registers one page-track notifier per VM,
 * {@code kvm_mmu_pte_write}, and the flooding heuristics run inside it. Here the MMU bundle
 * registers that one notifier; for each emulated write it takes the MMU lock once and calls the
 * handler bound at that instant or, with none, its own fallback, which zaps every indirect
 * shadow page of the written gfn. The handler registers no notifier of its own. Under the
 * legacy policy (before the series) the emulator calls the same MMU method directly and the
 * notifier ignores the write. A VM's policy is fixed at its creation, so every write takes
 * exactly one of the two routes, once: exactly-once holds by construction, and no write is
 * ever compared with another.
 *
 * <h2>Coming and going</h2>
 * Binding takes effect for the next write. Unbinding returns only when no call into the
 * handler is running (the handler runs under the MMU lock, so the MMU takes each VM's lock
 * once); the next write falls back at once. A handler that throws is blamed (logged with its
 * bundle), the write is then given to the fallback so the shadow stays coherent, and after
 * repeated failures the handler is no longer called.
 */
@org.osgi.annotation.bundle.Export(attribute = "shadowbox.platform=true")
@org.osgi.annotation.versioning.Version("2.0.0")
package org.shadowbox.mmu.spi;
