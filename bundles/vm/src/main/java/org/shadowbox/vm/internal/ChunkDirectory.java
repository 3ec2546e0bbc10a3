package org.shadowbox.vm.internal;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A two-level directory of lazily allocated chunks, indexed by chunk number: the sparse
 * backbone of slot memory, page-track counters and large-page counts. Nothing is
 * allocated for a range until something is stored in it, so cost follows use, not size.
 *
 * <p>Readers are lock-free: chunk references are published with release semantics and
 * read with acquire semantics; a chunk is a zero-filled array when first seen, which the
 * JMM guarantees for default values. Writers that create chunks serialize on this object.
 */
final class ChunkDirectory {
    private static final int BLOCK_SHIFT = 9;
    private static final int BLOCK_SIZE = 1 << BLOCK_SHIFT;
    private static final VarHandle SLOTS = MethodHandles.arrayElementVarHandle(Object[].class);

    private final Object[] blocks; // blocks[i] is an Object[BLOCK_SIZE] of chunks, or null
    private int allocatedChunks;

    /** @param chunks how many chunks the directory can hold */
    ChunkDirectory(long chunks) {
        long nblocks = (chunks + BLOCK_SIZE - 1) >>> BLOCK_SHIFT;
        if (nblocks > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("directory too large: " + chunks + " chunks");
        }
        this.blocks = new Object[(int) Math.max(1, nblocks)];
    }

    /** The chunk, or null if never stored. Lock-free. */
    Object get(long chunk) {
        Object[] block = (Object[]) SLOTS.getAcquire(blocks, (int) (chunk >>> BLOCK_SHIFT));
        return block == null ? null : SLOTS.getAcquire(block, (int) (chunk & (BLOCK_SIZE - 1)));
    }

    /** The chunk, created by {@code factory} if absent. */
    Object getOrCreate(long chunk, ChunkFactory factory) {
        Object c = get(chunk);
        return c != null ? c : create(chunk, factory);
    }

    private synchronized Object create(long chunk, ChunkFactory factory) {
        int bi = (int) (chunk >>> BLOCK_SHIFT);
        Object[] block = (Object[]) SLOTS.getAcquire(blocks, bi);
        if (block == null) {
            block = new Object[BLOCK_SIZE];
            SLOTS.setRelease(blocks, bi, block);
        }
        int ci = (int) (chunk & (BLOCK_SIZE - 1));
        Object c = SLOTS.getAcquire(block, ci);
        if (c == null) {
            c = factory.newChunk();
            SLOTS.setRelease(block, ci, c);
            allocatedChunks++;
        }
        return c;
    }

    synchronized int allocatedChunks() {
        return allocatedChunks;
    }

    /** Host bytes taken by the directory itself (not the chunks). */
    synchronized long overheadBytes() {
        long bytes = 16L + 4L * blocks.length;
        for (Object b : blocks) {
            if (b != null) {
                bytes += 16L + 4L * BLOCK_SIZE;
            }
        }
        return bytes;
    }

    @FunctionalInterface
    interface ChunkFactory {
        Object newChunk();
    }
}
