/**
 * The guest's own paging, exactly as the x86 architecture defines it: KVM's
 * {@code paging_tmpl.h} {@code FNAME(walk_addr)} for the three guest modes, one
 * {@link org.shadowbox.mmu.internal.paging.PagingMode} strategy each. The walker is
 * also the reference model: a guest access through it alone is what a guest on bare
 * metal would see.
 */
package org.shadowbox.mmu.internal.paging;
