/**
 * Conventions shared by the bundles that add Gogo commands, so that a plugin need not copy
 * them nor lean on the shell's internals: {@link org.shadowbox.command.Usage} renders
 * {@code CMD --help} and the one-line diagnosis of bad arguments from a command method's
 * {@code @Descriptor} and {@code @Parameter} annotations; {@link org.shadowbox.command.Json}
 * encodes maps, lists and scalars, and {@link org.shadowbox.command.JsonWriter} streams
 * objects and arrays, for {@code --json}, and {@link org.shadowbox.command.JsonReader} reads JSON back; {@link org.shadowbox.command.Interrupts} lets a
 * long command stop cleanly on Ctrl-C, and {@link org.shadowbox.command.ShellTerminal} gives
 * it the terminal to draw a progress bar on.
 */
@org.osgi.annotation.bundle.Export
@org.osgi.annotation.versioning.Version("1.3.0")
package org.shadowbox.command;
