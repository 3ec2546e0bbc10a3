package org.shadowbox.shell.internal;

import java.util.List;

/**
 * Rows of one record type: what a listing command returns. The renderer prints an aligned
 * table with a header (also when there are no rows); JSON prints the array of rows.
 *
 * @param type the row type, which names the columns
 * @param rows the rows, in display order
 */
public record Table(Class<? extends Record> type, List<? extends Record> rows) implements View {
    public Table {
        rows = List.copyOf(rows);
    }

    static <R extends Record> Table of(Class<R> type, List<R> rows) {
        return new Table(type, rows);
    }
}
