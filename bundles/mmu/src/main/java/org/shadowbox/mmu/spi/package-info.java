/**
 * The MMU's service provider interface for {@code kvm_mmu_pte_write}: what a bundle that
 * keeps shadow pages coherent with emulated guest page-table writes (write-flood
 * detection) needs from the shadow MMU, and nothing more.
 *
 * <h2>Who implements what</h2>
 * <ul>
 * <li>{@link org.shadowbox.mmu.spi.PteWriteHandler} ({@code @ConsumerType}): the body of
 *     {@code kvm_mmu_pte_write}. A bundle registers one as an OSGi service (whiteboard); the
 *     MMU binds at most one.
 * <li>{@link org.shadowbox.mmu.spi.PteWriteContext} ({@code @ProviderType}): one VM's shadow MMU
 *     as the writing vCPU sees it, handed to the handler for the length of one call, with the
 *     MMU lock held. Shadow pages are named by {@code int} ids; nothing is allocated.
 * <li>{@link org.shadowbox.mmu.spi.PteWriteRoute} ({@code @ProviderType}): an OSGi service of
 *     the MMU, the door through which the handler's page-track notifier hands an emulated write
 *     to the MMU.
 * </ul>
 *
 * <h2>How a write reaches the handler</h2>
 * KVM 2016 registers {@code kvm_mmu_pte_write} as a page-track notifier at VM init; before the
 * series the emulator called it directly. Shadowbox has both routes, and both end in the same
 * MMU method, which takes the MMU lock and calls the bound handler (or, with none, the MMU's
 * own fallback that zaps every indirect shadow page of the written gfn):
 * <ol>
 * <li><b>Notifier route</b> ({@code policy=pagetrack}): the handler bundle registers a
 *     {@link org.shadowbox.pagetrack.PageTrackNotifier} service at start; its
 *     {@code trackWrite} calls {@link org.shadowbox.mmu.spi.PteWriteRoute#trackWrite}. The
 *     MMU keeps its own fallback notifier attached to every VM it serves for the VM's life, and
 *     that notifier enters the same method.
 * <li><b>Direct route</b> ({@code policy=legacy}): the MMU's emulator path calls the same method
 *     itself after the write, as KVM did before the series; notifications are then not used for
 *     it.
 * </ol>
 *
 * <h2>Exactly once, also while the handler comes and goes</h2>
 * Page track calls every attached notifier for a write, one after the other on the writing
 * vCPU's thread, in an order that depends on registration; a handler can be bound or unbound
 * by another thread between two of those calls, and a notifier registered during a write may
 * not see it. If each notifier decided alone ("the MMU's notifier acts only while no handler
 * is bound, the handler's notifier only while one is"), a flip between the two calls of one
 * write could leave it processed by neither: a stale spte. So the decision is made once per
 * write, by the MMU, under its lock: the <em>first</em> notifier call of a write (from either
 * notifier) processes it, with the handler bound at that instant or, if none, with the
 * fallback; the other call of the same write does nothing. The MMU recognizes "the same
 * write" per vCPU: same gpa, value and size, and a notifier that has not yet been called for
 * it. Since the MMU's own notifier is called for every write, every write is processed, and
 * at most once. While a handler is bound the fallback never zaps; there is no double
 * processing. When the handler's notifier is missing (not yet attached, unregistered, or
 * disabled by page track's guard), the MMU's notifier still delivers every write, to the
 * handler if one is bound.
 *
 * <h2>Coming and going</h2>
 * Binding takes effect for the next write. Unbinding returns only when no call into the
 * handler is running (the handler runs under the MMU lock, so the MMU takes each VM's lock
 * once); the next write falls back at once. A handler that throws is blamed (logged with its
 * bundle), the write is then given to the fallback so the shadow stays coherent, and after
 * repeated failures the handler is no longer called.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.0.0")
package org.shadowbox.mmu.spi;
