package org.shadowbox.console.internal;

import java.util.ArrayList;
import java.util.List;

import org.apache.felix.gogo.runtime.Parser;
import org.apache.felix.gogo.runtime.Parser.Executable;
import org.apache.felix.gogo.runtime.Parser.Operator;
import org.apache.felix.gogo.runtime.Parser.Program;
import org.apache.felix.gogo.runtime.SyntaxError;
import org.apache.felix.gogo.runtime.Token;

/**
 * Splits a Gogo program into its top-level statements with Gogo's own parser, so that
 * {@code a; b} runs (and prints) {@code a} and then {@code b}, exactly as two lines typed
 * at the interactive shell would.
 *
 * <p>Only {@code ;} and end-of-line separate statements. {@code a && b}, {@code a || b},
 * {@code a & b} and pipelines stay one statement, because their parts depend on each
 * other. Newlines inside braces, brackets or parentheses belong to the closure, list or
 * sequence they are in, so a script may spread one statement over several lines. Comments
 * ({@code #} or {@code //} to end of line, {@code /* ... *}{@code /}) are dropped by the
 * tokenizer.
 */
final class Statements {

    /** One top-level statement: its source text and its line (1-based) in the program. */
    record Statement(String text, int line) {
    }

    private Statements() {
    }

    /**
     * The top-level statements of {@code program}, in order, blank ones left out.
     *
     * @throws SyntaxError (Gogo's, with line and column) when the program does not parse;
     *                     nothing has run then
     */
    static List<Statement> split(CharSequence program) {
        Program parsed = new Parser(program).program();
        List<Statement> statements = new ArrayList<>();
        Token first = null;
        Token last = null;
        for (Executable executable : parsed.tokens()) {
            boolean separator = executable instanceof Operator
                    && (Token.eq(";", executable) || Token.eq("\n", executable));
            if (separator) {
                add(statements, program, first, last);
                first = null;
                last = null;
            } else {
                if (first == null) {
                    first = executable;
                }
                last = executable;
            }
        }
        add(statements, program, first, last);
        return statements;
    }

    private static void add(List<Statement> statements, CharSequence program, Token first, Token last) {
        if (first == null) {
            return;
        }
        String text = program.subSequence(first.start(), last.start() + last.length()).toString().strip();
        if (!text.isEmpty()) {
            statements.add(new Statement(text, first.line() + 1));
        }
    }
}
