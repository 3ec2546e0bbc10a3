package org.shadowbox.shell.internal;

import java.util.List;
import java.util.function.Supplier;

import org.apache.felix.service.command.Descriptor;
import org.shadowbox.mmu.Mmu;
import org.shadowbox.pagetrack.PageTrack;
import org.shadowbox.vm.Hypervisor;
import org.shadowbox.vm.Vm;
import org.shadowbox.vm.VmException;

/**
 * What every command class shares: {@code --help} and {@code --json}, and the one-line
 * error when Gogo finds no method that takes the arguments typed.
 *
 * <p>How Gogo 1.1.6 reaches us: it picks, among the public methods named after the command,
 * the one whose parameters the arguments fit ({@code @Parameter} options are taken out of
 * the argument list first, so they are declared before the positional parameters). Every
 * parameter here is a String, so a method that fits always wins over {@link #_main}, which
 * Gogo also tries for every command, with the command's name first. Gogo falls back to
 * {@code _main} only when no command method fits: {@code vm:create --help} (NAME missing),
 * a missing or extra argument, an unknown option. {@code _main} then prints the usage if
 * {@code --help} was given, and otherwise says in one line what was wrong.
 */
public abstract class CommandSupport {

    /** presentValue of every flag: flags are Strings so that no argument costs a conversion. */
    static final String ON = "true";
    static final String OFF = "false";

    static final String JSON = "print the result as one JSON value";
    static final String HELP = "show this help";

    private final String scope;

    protected CommandSupport(String scope) {
        this.scope = scope;
    }

    /** Gogo's fallback for a command whose methods did not fit the arguments: see the class comment. */
    @Descriptor("not a command: Gogo's fallback when no method fits the arguments")
    public Object _main(String command, String[] args) {
        List<java.lang.reflect.Method> methods = Usage.methods(getClass(), command);
        if (methods.isEmpty()) {
            throw new VmException(scope + ":" + command + ": no such command");
        }
        for (String a : args) {
            if ("--help".equals(a)) {
                return Usage.render(scope, command, methods);
            }
        }
        throw new VmException(Usage.diagnose(scope, command, methods, args));
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

    /** The {@code CMD --help} text of one of this class's commands. */
    final String usage(String command) {
        return Usage.render(scope, command, Usage.methods(getClass(), command));
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
