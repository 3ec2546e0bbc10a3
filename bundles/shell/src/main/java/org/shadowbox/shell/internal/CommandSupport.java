package org.shadowbox.shell.internal;

import java.util.function.Supplier;

import org.shadowbox.command.CommandBase;
import org.shadowbox.mmu.Mmu;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;

/**
 * What every shell command class shares, on top of the command library's {@link CommandBase}
 * (the same {@code --help}, usage and one-line diagnosis as every plugin's commands): the
 * String flags, the {@code --json} and {@code --help} texts, {@link #run}, and the lookups of
 * a VM, the MMU and page track with their one-line errors.
 *
 * <p>Every parameter here is a String, so a method that fits always wins over
 * {@link CommandBase#_main}, which Gogo falls back to only when no command method fits:
 * {@code vm:create --help} (NAME missing), a missing or extra argument, an unknown option.
 */
public abstract class CommandSupport extends CommandBase {

    /** presentValue of every flag: flags are Strings so that no argument costs a conversion. */
    static final String ON = "true";
    static final String OFF = "false";

    static final String JSON = "print the result as one JSON value";
    static final String HELP = "show this help";

    protected CommandSupport(String scope) {
        super(scope);
    }

    /**
     * Runs one command: its usage if {@code help} is set, else {@code body}'s result, as a
     * JSON String if {@code json} is set (Gogo prints Strings as they are).
     */
    protected final Object run(String command, String help, String json, Supplier<?> body) {
        if (ON.equals(help)) {
            return usage(command);
        }
        Object result = body.get();
        return ON.equals(json) ? Json.encode(result) : result;
    }
    static Vm vm(Hypervisor hypervisor, String name) {
        if (name == null || name.isBlank()) {
            throw new VmException("missing VM: give a VM name (vm:list shows them)");
        }
        return hypervisor.require(name.trim());
    }

    /** The MMU, or the one-line error that says its bundle is not running. */
    static Mmu require(Mmu mmu) {
        if (mmu == null) {
            throw new VmException("the MMU is unavailable: the org.shadowbox.mmu bundle is not active"
                    + " (start it, then retry)");
        }
        return mmu;
    }

    /** Page track, or the one-line error that says its bundle is not running. */
    static PageTrack require(PageTrack pageTrack) {
        if (pageTrack == null) {
            throw new VmException("page tracking is unavailable: the org.shadowbox.pagetrack bundle is not active"
                    + " (start it, then retry)");
        }
        return pageTrack;
    }
}
