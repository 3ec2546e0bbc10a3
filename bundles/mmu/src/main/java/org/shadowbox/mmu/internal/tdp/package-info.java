/**
 * Two-dimensional paging (EPT/NPT) for VMs created with {@code mmu=tdp}: KVM's
 * {@code tdp_page_fault} and {@code __direct_map} of 2016, over one 4-level table per VM
 * that maps gpa to host frame ({@link org.shadowbox.mmu.internal.tdp.TdpMmu}). The guest
 * walks its own tables "in hardware" ({@link org.shadowbox.mmu.internal.paging.GuestWalker}):
 * no exit for guest page-table writes, A/D set by the walk, guest page faults delivered
 * directly. Only a TDP violation exits, and its handler asks page track first, so
 * external trackers (KVMGT) see every write to a tracked page. No shadow pages exist for
 * guest page tables in this mode.
 */
package org.shadowbox.mmu.internal.tdp;
