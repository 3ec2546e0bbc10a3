package org.shadowbox.pagetrack.internal;

import org.shadowbox.pagetrack.spi.WriteProtectHook;

/** The MMU's {@link WriteProtectHook}, with its guard record. It is never disabled. */
final class HookEntry extends GuardedTarget {
    final WriteProtectHook hook;

    HookEntry(WriteProtectHook hook, String bundle, long serviceId) {
        super(hook, bundle, serviceId, false);
        this.hook = hook;
    }
}
