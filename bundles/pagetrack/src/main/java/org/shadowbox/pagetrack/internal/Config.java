package org.shadowbox.pagetrack.internal;

import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

/** Page track's tunables: Configuration Admin PID {@value PageTrackPlatform#PID}. */
@ObjectClassDefinition(name = "Shadowbox page track",
        description = "Guest page tracking (KVM page_track.c) and the guard around tracker notifiers.")
public @interface Config {

    /** {@code guard.maxFailures}: a notifier that failed this many times is disabled. */
    @AttributeDefinition(name = "Notifier failures before it is disabled", min = "1",
            description = "A page-track notifier whose calls threw this many times stays attached but is no longer called.")
    int guard_maxFailures() default NotifierGuard.DEFAULT_MAX_FAILURES;

    /** {@code guard.timeoutMillis}: a notifier call running this long disables the notifier (0: never). */
    @AttributeDefinition(name = "Notifier call timeout (ms)", min = "0",
            description = "A page-track notifier call that has not returned after this many milliseconds disables the"
                    + " notifier and interrupts the calling vCPU thread, as Felix EventAdmin deny-lists a slow handler."
                    + " 0 turns the timeout off.")
    long guard_timeoutMillis() default NotifierGuard.DEFAULT_TIMEOUT_MILLIS;

    /** {@code guard.isolate}: bundles whose notifiers run on courier threads. */
    @AttributeDefinition(name = "Isolated tracker bundles", required = false, cardinality = 100,
            description = "Symbolic names of the bundles whose notifiers are called on a courier thread of their own"
                    + " instead of the vCPU's (comma-separated), or * for every bundle but Shadowbox's own"
                    + " (org.shadowbox.*). A call that times out there is abandoned and the vCPU goes on, even if"
                    + " the callback ignores interrupts; each call costs a thread hand-off.")
    String[] guard_isolate() default {};
}
