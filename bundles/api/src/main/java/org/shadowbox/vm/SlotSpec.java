package org.shadowbox.vm;

/**
 * A memslot as userspace describes it to {@code KVM_SET_USER_MEMORY_REGION}.
 *
 * @param id      slot id, 0 to {@link Memslot#MAX_SLOT_ID}
 * @param baseGfn first guest frame
 * @param npages  number of 4 KiB pages, at least 1
 * @param flags   {@link Memslot#LOG_DIRTY_PAGES} and/or {@link Memslot#READONLY}
 */
public record SlotSpec(int id, long baseGfn, long npages, int flags) {
}
