package org.shadowbox.mmu.internal.shadow;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import sun.misc.Unsafe;

/**
 * The padded per-vCPU words are where their Javadoc says: at least a cache line (64 bytes) from
 * either end of their object, so that no other object, wherever the allocator or the collector
 * puts it, shares a line with them. Checked on the running JVM's own layout (field offsets by
 * {@code Unsafe.objectFieldOffset}): the JVM (15 and later) fills the 4 bytes after a compressed
 * object header with a subclass's first {@code int} if the padding superclass leaves them free,
 * which put {@code AccessResult.exception} and {@code VcpuRequests.bits} at offset 12, before their
 * padding, until the padding classes took that hole themselves.
 */
class PaddingLayoutTest {
    private static final int LINE = 64;

    @Test
    void theAccessResultsFieldsHaveTheirOwnLines() throws Exception {
        assertApart(AccessResult.class, "exception", "errorCode", "value", "gpa", "emulated");
    }

    @Test
    void theRequestWordAndTheModeShareOneLineOfTheirOwn() throws Exception {
        assertApart(VcpuRequests.class, "bits", "mode");
        long bits = offset(VcpuRequests.class, "bits");
        long mode = offset(VcpuRequests.class, "mode");
        assertTrue(Math.abs(bits - mode) < LINE - 4,
                "vcpu->requests and vcpu->mode belong in one line, as in KVM: bits at " + bits + ", mode at " + mode);
    }

    @Test
    void theVcpuMutexWordHasItsOwnLine() throws Exception {
        assertApart(Class.forName("org.shadowbox.mmu.internal.osgi.VcpuMutex"), "owner", "wanted", "holds");
    }

    private static void assertApart(Class<?> c, String... hot) throws Exception {
        long end = 0;
        for (Field f : fields(c)) {
            end = Math.max(end, unsafe().objectFieldOffset(f) + bytes(f.getType()));
        }
        long size = (end + 7) & ~7L; // the instance size: 8-byte object alignment
        for (String name : hot) {
            Field f = field(c, name);
            long at = unsafe().objectFieldOffset(f);
            assertTrue(at >= LINE, c.getSimpleName() + "." + name + " at offset " + at
                    + ": closer than a cache line to the object before (accepted: 64 or more)");
            long after = size - (at + bytes(f.getType()));
            assertTrue(after >= LINE, c.getSimpleName() + "." + name + " ends " + after
                    + " bytes before the object's end (size " + size + "): closer than a cache line to the next object");
        }
    }

    private static long offset(Class<?> c, String name) throws Exception {
        return unsafe().objectFieldOffset(field(c, name));
    }

    private static Field field(Class<?> c, String name) {
        for (Field f : fields(c)) {
            if (f.getName().equals(name)) {
                return f;
            }
        }
        throw new IllegalArgumentException(c + " has no field " + name);
    }

    private static List<Field> fields(Class<?> c) {
        List<Field> all = new ArrayList<>();
        for (Class<?> k = c; k != Object.class; k = k.getSuperclass()) {
            for (Field f : k.getDeclaredFields()) {
                if (!Modifier.isStatic(f.getModifiers())) {
                    all.add(f);
                }
            }
        }
        return all;
    }

    private static int bytes(Class<?> t) {
        if (t == long.class || t == double.class) {
            return 8;
        }
        if (t == int.class || t == float.class) {
            return 4;
        }
        if (t == short.class || t == char.class) {
            return 2;
        }
        if (t == byte.class || t == boolean.class) {
            return 1;
        }
        return unsafe().arrayIndexScale(Object[].class); // a reference: 4 with compressed oops
    }

    private static Unsafe unsafe() {
        try {
            Field f = Unsafe.class.getDeclaredField("theUnsafe");
            f.setAccessible(true);
            return (Unsafe) f.get(null);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("no sun.misc.Unsafe to read field offsets with", e);
        }
    }
}
