package org.shadowbox.audit.internal;

import java.lang.reflect.Proxy;
import java.util.concurrent.atomic.AtomicBoolean;

import org.shadowbox.vm.Vm;

/** VMs for the recorder's tests: the recorder needs only a VM's identity, name and liveness. */
final class TestVms {

    private TestVms() {
    }

    static Vm vm(String name) {
        return vm(name, new AtomicBoolean());
    }

    /** A VM whose {@link Vm#destroyed()} answers {@code destroyed}; any other call fails the test. */
    static Vm vm(String name, AtomicBoolean destroyed) {
        return (Vm) Proxy.newProxyInstance(Vm.class.getClassLoader(), new Class<?>[] { Vm.class },
                (proxy, method, args) -> switch (method.getName()) {
                    case "name", "toString" -> name;
                    case "destroyed" -> destroyed.get();
                    case "hashCode" -> System.identityHashCode(proxy);
                    case "equals" -> proxy == args[0];
                    default -> throw new UnsupportedOperationException("the recorder must not call Vm." + method.getName());
                });
    }
}
