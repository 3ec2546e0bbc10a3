package org.shadowbox.writeflood.internal;

/**
 * The arithmetic of {@code kvm_mmu_pte_write} (arch/x86/kvm/mmu.c, 2016), as pure functions of
 * a shadow page's role bits and the write: {@code mmu_pte_write_fetch_gpte}'s widening,
 * {@code detect_write_misaligned} and {@code get_written_sptes} with the 32-bit quadrant rules.
 */
final class PteWriteRules {
    /** KVM's flood threshold: the third write since the page was last used zaps it. */
    static final int DEFAULT_THRESHOLD = 3;
    /** PT32_ROOT_LEVEL: a 32-bit guest's page directory. */
    static final int PT32_ROOT_LEVEL = 2;

    private PteWriteRules() {
    }

    /**
     * {@code mmu_pte_write_fetch_gpte}'s first step: a 4-byte write from a vCPU with CR4.PAE
     * (PAE or 64-bit paging) writes half of an 8-byte gpte, so the whole aligned entry is read.
     *
     * @return the gpa to read the gpte from
     */
    static long widenedGpa(boolean vcpuPae, long gpa, int bytes) {
        return vcpuPae && bytes == 4 ? gpa & ~7L : gpa;
    }

    /** The size that goes with {@link #widenedGpa}. */
    static int widenedBytes(boolean vcpuPae, int bytes) {
        return vcpuPae && bytes == 4 ? 8 : bytes;
    }

    /** Whether a write of {@code bytes} yields a gpte at all: only 4 and 8 do (any other size gives 0). */
    static boolean gpteSized(int bytes) {
        return bytes == 4 || bytes == 8;
    }

    /**
     * {@code detect_write_misaligned}: an aligned 1-byte write is fine (Linux's {@code clear_bit}
     * writes one byte of status bits); otherwise a write that crosses a gpte boundary or is
     * shorter than 4 bytes is misaligned.
     *
     * @param spCr4Pae the shadow page's role.cr4_pae: 8-byte gptes, else 4-byte
     */
    static boolean misaligned(boolean spCr4Pae, long gpa, int bytes) {
        int offset = (int) (gpa & 4095);
        int pteSize = spCr4Pae ? 8 : 4;
        if ((offset & (pteSize - 1)) == 0 && bytes == 1) {
            return false;
        }
        int crossing = (offset ^ (offset + bytes - 1)) & ~(pteSize - 1);
        return crossing != 0 || bytes < 4;
    }

    /**
     * {@code get_written_sptes}: the index of the first spte of the page that the write at
     * {@code gpa} concerns, or -1 when the page does not shadow that part of the guest table.
     * 64-bit and PAE pages: one spte at offset / 8. A 32-bit guest's table (1024 4-byte gptes)
     * is shadowed by 512-entry pages, one per quadrant: the offset is doubled (32 to 64), at
     * level 2 aligned down to 8 and doubled again (a 4 MiB guest page is two 2 MiB sptes); the
     * quadrant is the offset's page and must be the shadow page's.
     */
    static int writtenSpteIndex(boolean spCr4Pae, int level, int quadrant, long gpa) {
        int pageOffset = (int) (gpa & 4095);
        if (!spCr4Pae) {
            pageOffset <<= 1;
            if (level == PT32_ROOT_LEVEL) {
                pageOffset &= ~7;
                pageOffset <<= 1;
            }
            int q = pageOffset >>> 12;
            pageOffset &= 4095;
            if (q != quadrant) {
                return -1;
            }
        }
        return pageOffset / 8;
    }

    /** How many sptes from {@link #writtenSpteIndex} are written: two for a 32-bit guest's page directory. */
    static int writtenSpteCount(boolean spCr4Pae, int level) {
        return !spCr4Pae && level == PT32_ROOT_LEVEL ? 2 : 1;
    }
}
