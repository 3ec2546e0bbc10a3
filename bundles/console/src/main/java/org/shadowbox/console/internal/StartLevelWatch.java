package org.shadowbox.console.internal;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.FrameworkEvent;
import org.osgi.framework.FrameworkListener;
import org.osgi.framework.startlevel.FrameworkStartLevel;

/**
 * Tells when the framework has finished moving to its final start level.
 *
 * <p>The bnd launcher starts the framework at level 1 and then raises it to the beginning
 * level of the run ({@code shadowbox.startlevel}). Felix reports the new level as soon as
 * it begins starting that level's bundles, so the level alone is not enough: the move is
 * over only when {@link FrameworkEvent#STARTLEVEL_CHANGED} is fired. This listener is
 * registered when the console bundle starts (level 1), before that event.
 */
final class StartLevelWatch implements FrameworkListener {

    /** Framework property: the start level the run ends at (set in shadowbox.bndrun). */
    static final String TARGET_PROPERTY = "shadowbox.startlevel";

    private final BundleContext context;
    private final int target;
    private volatile boolean changed;

    StartLevelWatch(BundleContext context) {
        this.context = context;
        this.target = parseLevel(context.getProperty(TARGET_PROPERTY));
    }

    void open() {
        context.addFrameworkListener(this);
    }

    void close() {
        try {
            context.removeFrameworkListener(this);
        } catch (IllegalStateException e) {
            // the bundle is already stopping: nothing left to remove
        }
    }

    int target() {
        return target;
    }

    @Override
    public void frameworkEvent(FrameworkEvent event) {
        if (event.getType() == FrameworkEvent.STARTLEVEL_CHANGED) {
            changed = true;
        }
    }

    /** True once the framework is at or above the target level and no level change is under way. */
    boolean reached() {
        Bundle system = context.getBundle(0);
        int level = system.adapt(FrameworkStartLevel.class).getStartLevel();
        if (level < target) {
            return false;
        }
        // At level 1 there is no change to wait for; the system bundle is ACTIVE once started.
        return changed || (target <= 1 && system.getState() == Bundle.ACTIVE);
    }

    static int parseLevel(String value) {
        if (value == null) {
            return 1;
        }
        try {
            return Math.max(1, Integer.parseInt(value.strip()));
        } catch (NumberFormatException e) {
            return 1;
        }
    }
}
