package org.shadowbox.shell.internal;

/**
 * Marks the records that Shadowbox commands return, so that the Gogo {@link ShellConverter}
 * renders them and leaves every other object to Gogo's own formatting.
 */
public interface View {
}
