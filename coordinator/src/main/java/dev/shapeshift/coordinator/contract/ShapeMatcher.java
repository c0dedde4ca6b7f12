package dev.shapeshift.coordinator.contract;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * Does a normalized statement text (as {@code pg_stat_statements} stores it) touch the old shape?
 * Identifiers match on word boundaries, quoted ({@code "legacy_verified_at"}, case-sensitive) or
 * unquoted (case-folded, as PostgreSQL folds them), bare or qualified ({@code u.legacy_verified_at},
 * {@code "public"."users"}). In-place mode needs the table and one of the old columns, or an
 * implicit use of every column: {@code *} in a select list or {@code RETURNING}, or an
 * {@code INSERT} without a column list. Table mode needs the table only.
 *
 * <p>This is text matching, not parsing: a column with the old name in another table of the same
 * statement also matches (a false alarm keeps the gate closed, the safe side); access through a
 * view or a function body is not visible in the statement text at all (docs/contract.md).
 */
public final class ShapeMatcher {
    private static final String WORD = "A-Za-z0-9_$\\u0080-\\uFFFF";
    private static final Pattern STAR = Pattern.compile("(?:^|[\\s,.])\\*(?=\\s*(?:,|\\bfrom\\b|$|\\)))",
            Pattern.CASE_INSENSITIVE);

    /** {@code EXPLAIN} without {@code ANALYZE} plans a statement and reads no rows. */
    private static final Pattern EXPLAIN = Pattern.compile("^\\s*explain\\b", Pattern.CASE_INSENSITIVE);
    private static final Pattern ANALYZE = Pattern.compile("\\banaly[sz]e\\b", Pattern.CASE_INSENSITIVE);

    private final Pattern table;
    private final List<Pattern> columns;
    private final Pattern insertAllColumns;
    private final boolean inPlace;
    private final Pattern writes;

    public ShapeMatcher(String table, List<String> columns, boolean inPlace) {
        this.table = identifier(table);
        this.columns = columns.stream().map(ShapeMatcher::identifier).toList();
        this.inPlace = inPlace;
        this.writes = null;
        this.insertAllColumns = Pattern.compile("\\binsert\\s+into\\s+(?:(?:\"[^\"]+\"|[" + WORD + "]+)\\.)?"
                + nameAlternatives(table) + "\\s*(?:as\\s+\\S+\\s*)?(?:values|select|default|overriding)\\b",
                Pattern.CASE_INSENSITIVE);
    }

    private ShapeMatcher(String table) {
        this.table = identifier(table);
        this.columns = List.of();
        this.inPlace = false;
        this.insertAllColumns = null;
        this.writes = Pattern.compile("\\b(?:insert\\s+into|update|delete\\s+from|merge\\s+into|truncate(?:\\s+table)?)"
                + "\\s+(?:only\\s+)?(?:(?:\"[^\"]+\"|[" + WORD + "]+)\\.)?" + nameAlternatives(table) + "(?![" + WORD + "\"])",
                Pattern.CASE_INSENSITIVE);
    }

    /**
     * The matcher for a migration's old shape. A spec that drops nothing: in place, nothing
     * matches (there is no old column); table mode, only writes to the old table match.
     */
    public static ShapeMatcher of(OldShape shape) {
        if (!shape.dropsSomething() && !shape.inPlace()) {
            return writesTo(shape.table());
        }
        return new ShapeMatcher(shape.table(), shape.dropColumns(), shape.inPlace());
    }

    /** Matches statements that write the table (insert, update, delete, merge, truncate), nothing else. */
    static ShapeMatcher writesTo(String table) {
        return new ShapeMatcher(table);
    }

    /** Why the statement touches the old shape, or empty if it does not. */
    public Optional<String> match(String sql) {
        if (sql == null || !table.matcher(sql).find() || planOnly(sql)) {
            return Optional.empty();
        }
        if (writes != null) {
            return writes.matcher(sql).find() ? Optional.of("writes the old table") : Optional.empty();
        }
        if (!inPlace) {
            return Optional.of("references the old table");
        }
        for (Pattern c : columns) {
            if (c.matcher(sql).find()) {
                return Optional.of("references an old column");
            }
        }
        if (columns.isEmpty()) {
            return Optional.empty();
        }
        if (STAR.matcher(sql).find()) {
            return Optional.of("uses * on the table (reads every column, the old ones too)");
        }
        if (insertAllColumns.matcher(sql).find()) {
            return Optional.of("inserts without a column list (writes every column, the old ones too)");
        }
        return Optional.empty();
    }

    /**
     * A plain {@code EXPLAIN}: it plans the statement and reads or writes no rows, so it is no access
     * ({@link dev.shapeshift.db.QueryIds} explains the reconciler's reads to learn their query ids).
     * Any {@code ANALYZE} in it, which runs the statement, and it counts as the statement would.
     */
    static boolean planOnly(String sql) {
        return EXPLAIN.matcher(sql).find() && !ANALYZE.matcher(sql).find();
    }

    /** One identifier as SQL text may spell it: quoted exactly, or unquoted when it folds to itself. */
    static Pattern identifier(String name) {
        return Pattern.compile("(?<![" + WORD + "\"])" + nameAlternatives(name) + "(?![" + WORD + "\"])");
    }

    private static String nameAlternatives(String name) {
        String quoted = Pattern.quote("\"" + name.replace("\"", "\"\"") + "\"");
        if (name.equals(name.toLowerCase(Locale.ROOT)) && name.matches("[a-z_][a-z0-9_$]*")) {
            return "(?:" + quoted + "|(?i:" + Pattern.quote(name) + "))";
        }
        return quoted;
    }
}
