package org.shadowbox.vm.spi;

import org.shadowbox.vm.Memslot;

/**
 * A memslot change, as KVM's {@code enum kvm_mr_change}.
 *
 * @param kind    what happens
 * @param oldSlot the slot before ({@code null} for CREATE)
 * @param newSlot the slot after ({@code null} for DELETE)
 */
public record SlotChange(Kind kind, Memslot oldSlot, Memslot newSlot) {
    public enum Kind { CREATE, DELETE, MOVE }
}
