package org.shadowbox.pagetrack.guard;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/**
 * The guard around every page-track notifier, as tools see it. Registered as an OSGi service
 * by the page-track bundle.
 */
@ProviderType
public interface GuardMonitor {

    /** Every registered notifier, newest first. */
    List<GuardRecord> notifiers();

    /** {@code guard.timeoutMillis}: a call running this long disables its notifier (0: never). */
    long timeoutMillis();

    /** {@code guard.maxFailures}: failures after which a notifier is disabled. */
    int maxFailures();

    /**
     * {@code guard.isolate}: the bundles (symbolic names, {@code *} for every bundle but the
     * sandbox's own) whose notifiers are called on courier threads, as in force now.
     */
    List<String> isolate();
}
