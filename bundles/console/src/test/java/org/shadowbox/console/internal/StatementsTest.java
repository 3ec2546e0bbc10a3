package org.shadowbox.console.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.apache.felix.gogo.runtime.SyntaxError;
import org.junit.jupiter.api.Test;
import org.shadowbox.console.internal.Statements.Statement;

class StatementsTest {

    private static List<String> texts(String program) {
        return Statements.split(program).stream().map(Statement::text).toList();
    }

    @Test
    void semicolonsAndNewlinesSeparateStatements() {
        assertEquals(List.of("echo a", "echo b", "echo c"), texts("echo a; echo b\necho c"));
    }

    @Test
    void blankStatementsAreDropped() {
        assertEquals(List.of("echo a", "echo b"), texts(";; echo a;\n\n\n ; echo b;\n"));
        assertEquals(List.of(), texts(""));
        assertEquals(List.of(), texts("\n \n"));
    }

    @Test
    void conditionalsPipelinesAndBackgroundStayOneStatement() {
        assertEquals(List.of("a && b || c", "lb | grep x", "sleep 1 & echo y"),
                texts("a && b || c; lb | grep x\nsleep 1 & echo y"));
    }

    @Test
    void aClosureMaySpanLines() {
        String loop = "each [1 2] {\n    echo $it\n    echo done\n}";
        assertEquals(List.of(loop, "echo after"), texts(loop + "\necho after"));
    }

    @Test
    void listsAndSequencesMaySpanLines() {
        assertEquals(List.of("x = [a\n b]", "echo (echo\n y)"), texts("x = [a\n b]\necho (echo\n y)"));
    }

    @Test
    void commentsAreNotStatements() {
        assertEquals(List.of("echo a", "echo b", "echo c"),
                texts("# first\necho a # trailing\n// slashes\necho b /* inline */\n/* block\n over lines */ echo c"));
    }

    @Test
    void quotedSeparatorsDoNotSplit() {
        assertEquals(List.of("echo 'a; b'", "echo \"c\nd\""), texts("echo 'a; b'; echo \"c\nd\""));
    }

    @Test
    void linesAreOneBasedAndPointAtTheStatementStart() {
        List<Statement> statements = Statements.split("# header\n\necho a; echo b\n\neach [1] {\n echo $it\n}\necho z");
        assertEquals(List.of(3, 3, 5, 8), statements.stream().map(Statement::line).toList());
    }

    @Test
    void anUnfinishedProgramIsASyntaxErrorBeforeAnythingRuns() {
        assertThrows(SyntaxError.class, () -> Statements.split("echo a; each [1] {"));
        assertThrows(SyntaxError.class, () -> Statements.split("echo a }"));
        assertThrows(SyntaxError.class, () -> Statements.split("lb |"));
    }
}
