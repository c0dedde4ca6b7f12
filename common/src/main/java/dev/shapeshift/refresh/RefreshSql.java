package dev.shapeshift.refresh;

import dev.shapeshift.spec.Column;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.TargetColumn;
import dev.shapeshift.sql.Ident;
import java.util.ArrayList;
import java.util.List;
import java.util.StringJoiner;

/**
 * Renders the refresh statements of one migration (docs/refresh.md, "The statements").
 * Pure text: identifiers come from a {@link ResolvedSpec} (checked against the database) and are
 * quoted; keys, bounds and limits are bind parameters.
 *
 * <p>Every statement has the same skeleton of common table expressions:
 * <ol>
 *   <li>{@code __src}: the source rows of the keys or range, read under the guard's row lock
 *       (table mode also evaluates the transforms here);</li>
 *   <li>{@code __pause}: only in fault tests, a sleep after the read to widen the race window;</li>
 *   <li>{@code __w}: the write (upsert into the target table, or the in-place UPDATE);</li>
 *   <li>{@code __del}: table mode, refresh by keys: target rows whose source row is gone.</li>
 * </ol>
 * and ends with {@code SELECT read, written, deleted, last_key}.
 *
 * <p>Why one class of ~610 lines: every refresh statement (by keys, by range, in place, table mode,
 * reverse, the dual-write check) is a variant of one skeleton of common table expressions, and
 * keeping the variants side by side is what keeps them alike; a column's value is rendered once, in
 * {@link TransformSql}.
 */
public final class RefreshSql {
    private final ResolvedSpec resolved;
    private final Guards guards;
    private final String source;
    private final String sourceRef;
    private final String target;
    private final List<Column> key;
    private final List<TargetColumn> columns;
    private final KeySql keySql;
    private final TransformSql transforms;

    public RefreshSql(ResolvedSpec resolved, Guards guards) {
        this.resolved = resolved;
        this.guards = guards;
        var spec = resolved.spec();
        this.source = Ident.qualified(spec.source().schema(), spec.source().table());
        this.sourceRef = Ident.quote(spec.source().table());
        this.target = Ident.qualified(spec.targetSchema(), spec.targetTable());
        this.key = resolved.key();
        this.columns = spec.target().columns();
        this.keySql = new KeySql(resolved.key());
        this.transforms = new TransformSql(resolved);
    }

    /** Parameters: one {@code text[]} per key column (same length); then the pause in seconds if it pauses. */
    public String forKeys() {
        String keys = keysCte();
        String where = "(" + keyTuple(source) + ") IN (SELECT " + keyAliases("") + " FROM __keys)";
        return render(keys, where, "", true);
    }

    /**
     * Parameters: the {@code after} key's values (if {@code hasAfter}), the {@code upTo} key's
     * values (if {@code hasUpTo}), the row limit, then the pause in seconds if it pauses.
     */
    public String forRange(boolean hasAfter, boolean hasUpTo) {
        String where = keySql.rangeWhere(source, hasAfter, hasUpTo);
        String order = " ORDER BY " + keyTuple(source) + " LIMIT ?";
        return render(null, where, order, false);
    }

    /**
     * Table mode, a backfill sub-batch whose range has no target row at all (the caller checked
     * that inside the fence, {@link #targetRowsIn}): one plain {@code INSERT … SELECT … ORDER BY
     * key LIMIT n}, no anti-join and no materialised read; the keys it returns give the count and
     * the checkpoint. Parameters as {@link #forRange}. A pause, if any, is evaluated once in the
     * statement, whose snapshot is taken before it: the window between read and write stays.
     */
    public String forEmptyRange(boolean hasAfter, boolean hasUpTo) {
        requireTableMode();
        StringJoiner names = new StringJoiner(", ");
        StringJoiner values = new StringJoiner(", ");
        StringJoiner returning = new StringJoiner(", ");
        for (int i = 0; i < key.size(); i++) {
            names.add(Ident.quote(key.get(i).name()));
            values.add(source + "." + Ident.quote(key.get(i).name()));
            returning.add(Ident.quote(key.get(i).name()) + " AS __k" + i);
        }
        for (int i = 0; i < columns.size(); i++) {
            names.add(Ident.quote(columns.get(i).name()));
            values.add(transforms.written(i));
        }
        String from = source + (guards.pauses() ? ", (SELECT pg_sleep(?)) __pause" : "");
        return "WITH __w AS (INSERT INTO " + target + " (" + names + ") SELECT " + values + " FROM " + from
                + " WHERE " + keySql.rangeWhere(source, hasAfter, hasUpTo) + " ORDER BY " + keyTuple(source)
                + " LIMIT ? RETURNING " + returning + ")\n"
                + "SELECT (SELECT count(*) FROM __w), (SELECT count(*) FROM __w), 0, (SELECT ARRAY["
                + keyAliasesAsText() + "] FROM __w ORDER BY " + keyAliasesDesc() + " LIMIT 1)";
    }

    /**
     * Table mode: one row if the target has any row in a key range, none otherwise. Parameters as
     * {@link #deleteExtras}. {@code ORDER BY key LIMIT 1} makes it a walk of the primary key from
     * the range's start whatever the statistics say; as {@code EXISTS (…)} (which drops both) a
     * one-sided range was planned as a sequential scan expected to stop early — and on a range
     * with no row read the whole target, in every sub-batch of the last chunk (docs/performance.md,
     * "Figures behind the code's choices").
     */
    public String targetRowsIn(boolean hasAfter, boolean hasUpTo) {
        requireTableMode();
        return "SELECT 1 FROM " + target + " WHERE " + keySql.rangeWhere(target, hasAfter, hasUpTo)
                + " ORDER BY " + keyTuple(target) + " LIMIT 1";
    }

    /**
     * Table mode: deletes target rows in a range whose source row does not exist (repair of
     * "extra" drift). Parameters as {@link #forRange} without the limit and pause.
     */
    public String deleteExtras(boolean hasAfter, boolean hasUpTo) {
        requireTableMode();
        List<String> conditions = new ArrayList<>(keySql.rangeConditions(target, hasAfter, hasUpTo));
        conditions.add("NOT EXISTS (SELECT 1 FROM " + source + " WHERE " + keyMatch(source, target) + ")");
        return "DELETE FROM " + target + " WHERE " + String.join(" AND ", conditions);
    }

    /**
     * In place, after the write switch: makes the old columns of these keys equal to
     * {@code reverse(new, old)} (spec {@code writes.reverse}), writing only rows that differ. The
     * forward refresh with the roles swapped: the UPDATE evaluates every reverse on the row version
     * it locks (all SET expressions see that version's values), so it cannot write a value computed
     * from an older version. Parameters as {@link #forKeys} (no pause). Null when the spec has no
     * reverse transforms (nothing to keep: the old shape goes stale).
     */
    public String reverseForKeys() {
        var reverse = resolved.spec().writes().reverse();
        if (reverse.isEmpty()) {
            return null;
        }
        if (!inPlace()) {
            return reverseIntoSourceTable();
        }
        StringJoiner set = new StringJoiner(", ");
        StringJoiner current = new StringJoiner(", ");
        StringJoiner computed = new StringJoiner(", ");
        for (var e : reverse.entrySet()) {
            String value = reverseValue(e.getKey(), e.getValue());
            String type = oldColumnType(e.getKey());
            set.add(Ident.quote(e.getKey()) + " = " + value);
            current.add(TransformSql.comparable(source + "." + Ident.quote(e.getKey()), type));
            computed.add(TransformSql.comparable(value, type));
        }
        String keys = keysCte();
        String src = "__src AS MATERIALIZED (SELECT " + keySql.aliased(source) + " FROM " + source + " WHERE ("
                + keyTuple(source) + ") IN (SELECT " + keyAliases("") + " FROM __keys))";
        String w = "__w AS (UPDATE " + source + " SET " + set + " FROM __src WHERE " + keyMatch(source, "__src")
                + " AND (" + current + ", NULL) IS DISTINCT FROM (" + computed + ", NULL) RETURNING 1)";
        return "WITH " + keys + ",\n" + src + ",\n" + w + "\nSELECT (SELECT count(*) FROM __src), (SELECT count(*) FROM __w), 0, "
                + "(SELECT ARRAY[" + keyAliasesAsText() + "] FROM __src ORDER BY " + keyAliasesDesc() + " LIMIT 1)";
    }

    /**
     * In place, while the application dual-writes: records every key of these keys whose new
     * columns differ from {@code transform(old)} in {@code shapeshift.write_mismatch} (kind
     * {@code dual-write-mismatch}, md5 digests of both values), before the forward refresh corrects
     * them in the same transaction. Parameters: as {@link #forKeys} (no pause), then the
     * migration name. Returns one row: the number of keys recorded.
     */
    public String recordDualWriteMismatches() {
        if (!inPlace()) {
            return recordTableDualWriteMismatches();
        }
        StringJoiner current = new StringJoiner(", ");
        StringJoiner computed = new StringJoiner(", ");
        for (int i = 0; i < columns.size(); i++) {
            current.add(transforms.comparable(source + "." + Ident.quote(columns.get(i).name()), i));
            computed.add(transforms.comparable(transforms.stored(i), i));
        }
        String keys = keysCte();
        String keyJson = "to_jsonb(ARRAY[" + keyTextOf(source) + "])";
        String ins = "__ins AS (INSERT INTO shapeshift.write_mismatch (migration, key, kind, written, expected) "
                + "SELECT ?::text, " + keyJson + ", 'dual-write-mismatch', md5(ROW(" + current + ")::text), md5(ROW("
                + computed + ")::text) FROM " + source + " WHERE (" + keyTuple(source) + ") IN (SELECT "
                + keyAliases("") + " FROM __keys) AND (" + current + ", NULL) IS DISTINCT FROM (" + computed
                + ", NULL) ON CONFLICT (migration, kind, key) DO UPDATE SET last_seen = now(), "
                + "times = write_mismatch.times + 1, written = EXCLUDED.written, expected = EXCLUDED.expected RETURNING 1)";
        return "WITH " + keys + ",\n" + ins + "\nSELECT count(*) FROM __ins";
    }

    /**
     * One chunk of the round trip {@code transform(reverse(new, old)) = new}, by key range: the next
     * {@code ?} rows in key order after a key (or from the first, {@code hasAfter} false), each
     * chunk its own short statement. The transforms are evaluated over a derived table that carries
     * the row's columns with the old columns replaced by their reverse (in table mode: the old row
     * rebuilt from the new row and the current old row), so they read exactly what a forward refresh
     * would read after the reverse wrote. Parameters: the key
     * after which the chunk starts (with {@code hasAfter}, as {@link KeySql#params}), the chunk's
     * row limit, the limit of offending keys returned. Returns one row: the rows the chunk checked,
     * the chunk's last key (a {@code text[]}; null when empty), the offending keys (a
     * {@code text[]} of {@code [v1, v2]} strings).
     *
     * @param allColumns every column of the table, in order (in place; ignored in table mode)
     */
    public String roundTripChunk(List<String> allColumns, boolean hasAfter) {
        var reverse = resolved.spec().writes().reverse();
        StringJoiner stored = new StringJoiner(", ");
        StringJoiner again = new StringJoiner(", ");
        String page;
        String last;
        String from;
        String offending;
        if (inPlace()) {
            StringJoiner inner = new StringJoiner(", ");
            for (String col : allColumns) {
                String q = Ident.quote(col);
                inner.add(reverse.containsKey(col) ? reverseValue(col, reverse.get(col)) + " AS " + q : source + "." + q);
            }
            for (int i = 0; i < columns.size(); i++) {
                stored.add(transforms.comparable(sourceRef + "." + Ident.quote(columns.get(i).name()), i));
                again.add(transforms.comparable(transforms.stored(i), i));
            }
            page = "SELECT * FROM " + source + " WHERE " + keySql.rangeWhere(source, hasAfter, false) + " ORDER BY "
                    + keyTuple(source) + " LIMIT ?";
            last = "SELECT ARRAY[" + keyTextOf("__page") + "] FROM __page ORDER BY " + desc(keyTuple("__page")) + " LIMIT 1";
            from = "(SELECT " + inner.toString().replace(source + ".", sourceRef + ".") + " FROM __page AS " + sourceRef
                    + ") AS " + sourceRef;
            offending = keyTextOf(sourceRef);
        } else {
            page = reverseScope(keySql.rangeWhere("__n", hasAfter, false), " ORDER BY " + keyTuple("__n") + " LIMIT ?", "");
            List<Column> old = resolved.sourceColumns();
            StringJoiner oldRow = new StringJoiner(", ");
            for (int i = 0; i < old.size(); i++) {
                String name = old.get(i).name();
                int k = resolved.keyNames().indexOf(name);
                String value = reverse.containsKey(name) ? reverseValue(name, reverse.get(name))
                        : k >= 0 ? sourceRef + ".__k" + k : sourceRef + ".__o" + i;
                oldRow.add(value + " AS " + Ident.quote(name));
            }
            StringJoiner carried = new StringJoiner(", ");
            for (int i = 0; i < key.size(); i++) {
                carried.add(sourceRef + ".__k" + i);
            }
            for (int i = 0; i < columns.size(); i++) {
                carried.add(sourceRef + ".__t" + i);
                stored.add(transforms.comparable(sourceRef + ".__t" + i, i));
                again.add(transforms.comparable(transforms.stored(i), i));
            }
            last = "SELECT ARRAY[" + keyAliasesAsText() + "] FROM __page ORDER BY " + keyAliasesDesc() + " LIMIT 1";
            from = "(SELECT " + oldRow + ", " + carried + " FROM __page AS " + sourceRef + ") AS " + sourceRef;
            offending = keyAliasesAsText().replace("__k", sourceRef + ".__k");
        }
        return "WITH __page AS MATERIALIZED (" + page + ")\nSELECT (SELECT count(*) FROM __page), (" + last + "), "
                + "ARRAY(SELECT '[' || array_to_string(ARRAY[" + offending + "], ', ') || ']' FROM " + from
                + " WHERE (" + stored + ", NULL) IS DISTINCT FROM (" + again + ", NULL) LIMIT ?)";
    }

    /** {@code a DESC, b DESC} from {@code a, b}. */
    private static String desc(String tuple) {
        StringJoiner d = new StringJoiner(", ");
        for (String part : tuple.split(", ")) {
            d.add(part + " DESC");
        }
        return d.toString();
    }

    /**
     * Table mode, after the write switch: makes the source rows of these keys equal to
     * {@code reverse(new, old)} — the forward refresh with the tables swapped. {@code __src} reads
     * the target rows under the guard's row lock ({@code FOR SHARE}) and evaluates every reverse
     * over {@link #reverseScope} (the new row's columns, and the current old row's other columns);
     * {@code __w} upserts the source rows (key and reversed columns; every other old column takes
     * its default on insert), writing only rows that differ; {@code __del} deletes the source rows
     * of these keys whose target row is gone. A key change arrives as both keys and moves the row.
     * Parameters as {@link #forKeys} (the pause, in fault tests, after the keys).
     */
    private String reverseIntoSourceTable() {
        var reverse = resolved.spec().writes().reverse();
        String keys = keysCte();
        StringJoiner values = new StringJoiner(", ");
        StringJoiner names = new StringJoiner(", ");
        StringJoiner inserted = new StringJoiner(", ");
        StringJoiner set = new StringJoiner(", ");
        StringJoiner current = new StringJoiner(", ");
        StringJoiner excluded = new StringJoiner(", ");
        for (int i = 0; i < key.size(); i++) {
            values.add(sourceRef + ".__k" + i);
            names.add(Ident.quote(key.get(i).name()));
            inserted.add("__k" + i);
        }
        int i = 0;
        for (var e : reverse.entrySet()) {
            String col = Ident.quote(e.getKey());
            String type = oldColumnType(e.getKey());
            values.add(reverseValue(e.getKey(), e.getValue()) + " AS __v" + i);
            names.add(col);
            inserted.add("__v" + i);
            set.add(col + " = EXCLUDED." + col);
            current.add(TransformSql.comparable(source + "." + col, type));
            excluded.add(TransformSql.comparable("EXCLUDED." + col, type));
            i++;
        }
        String where = "(" + keyTuple("__n") + ") IN (SELECT " + keyAliases("") + " FROM __keys)";
        String lock = guards.lock() == Guards.RowLock.NONE ? "" : " " + guards.lock().sql() + " OF __n";
        String src = "__src AS MATERIALIZED (SELECT " + values + " FROM (" + reverseScope(where, "", lock) + ") AS "
                + sourceRef + ")";
        if (guards.pauses()) {
            src += ",\n__pause AS MATERIALIZED (SELECT pg_sleep(?) FROM (SELECT count(*) FROM __src) __c)";
        }
        String w = "__w AS (INSERT INTO " + source + " (" + names + ") OVERRIDING SYSTEM VALUE SELECT " + inserted
                + " FROM __src" + (guards.pauses() ? ", __pause" : "") + " ON CONFLICT (" + Ident.columnList(resolved.keyNames(), null) + ") DO UPDATE SET " + set
                + " WHERE (" + current + ", NULL) IS DISTINCT FROM (" + excluded + ", NULL) RETURNING 1)";
        String del = "__del AS (DELETE FROM " + source + " WHERE (" + keyTuple(source) + ") IN (SELECT " + keyAliases("")
                + " FROM __keys) AND NOT EXISTS (SELECT 1 FROM " + target + " WHERE " + keyMatch(target, source)
                + ") RETURNING 1)";
        return "WITH " + keys + ",\n" + src + ",\n" + w + ",\n" + del + "\nSELECT (SELECT count(*) FROM __src), "
                + "(SELECT count(*) FROM __w), (SELECT count(*) FROM __del), (SELECT ARRAY[" + keyAliasesAsText()
                + "] FROM __src ORDER BY " + keyAliasesDesc() + " LIMIT 1)";
    }

    /**
     * Table mode: the row a reverse expression is evaluated over, one per target row matching
     * {@code where} (over alias {@code __n}), with the current source row of its key
     * ({@code __o}, left joined: absent for a row the application inserted). A name of a key or
     * target column is the new row's value; every other source column is the current old row's
     * value (NULL when there is none). Also carries, under private names, the key
     * ({@code __k<i>}), the stored target values ({@code __t<i>}) and every current old value
     * ({@code __o<i>}), so the round trip can compare them.
     */
    private String reverseScope(String where, String orderLimit, String lock) {
        java.util.Set<String> newNames = new java.util.LinkedHashSet<>(resolved.keyNames());
        columns.forEach(c -> newNames.add(c.name()));
        StringJoiner cols = new StringJoiner(", ");
        for (String n : newNames) {
            cols.add("__n." + Ident.quote(n) + " AS " + Ident.quote(n));
        }
        List<Column> old = resolved.sourceColumns();
        for (Column c : old) {
            if (!newNames.contains(c.name())) {
                cols.add("__o." + Ident.quote(c.name()) + " AS " + Ident.quote(c.name()));
            }
        }
        for (int i = 0; i < key.size(); i++) {
            cols.add("__n." + Ident.quote(key.get(i).name()) + " AS __k" + i);
        }
        for (int i = 0; i < columns.size(); i++) {
            cols.add("__n." + Ident.quote(columns.get(i).name()) + " AS __t" + i);
        }
        for (int i = 0; i < old.size(); i++) {
            cols.add("__o." + Ident.quote(old.get(i).name()) + " AS __o" + i);
        }
        return "SELECT " + cols + " FROM " + target + " AS __n LEFT JOIN " + source + " AS __o ON " + keyMatch("__o", "__n")
                + " WHERE " + where + orderLimit + lock;
    }

    /**
     * Table mode, while the application dual-writes: records every key of these keys whose target
     * row, as the application left it, differs from {@code transform(source row)} — values, or a
     * row on one side only ({@code 'absent'} in place of a digest) — before the forward refresh
     * corrects it in the same transaction. Parameters as {@link #recordDualWriteMismatches}.
     */
    private String recordTableDualWriteMismatches() {
        StringJoiner current = new StringJoiner(", ");
        StringJoiner computed = new StringJoiner(", ");
        for (int i = 0; i < columns.size(); i++) {
            current.add(transforms.comparable("__t." + Ident.quote(columns.get(i).name()), i));
            computed.add(transforms.comparable(transforms.stored("__s.__v" + i, i), i));
        }
        String targetExists = "__t." + Ident.quote(key.get(0).name()) + " IS NOT NULL";
        String sourceExists = "__s.__k0 IS NOT NULL";
        String written = "CASE WHEN " + targetExists + " THEN md5(ROW(" + current + ")::text) ELSE 'absent' END";
        String expected = "CASE WHEN " + sourceExists + " THEN md5(ROW(" + computed + ")::text) ELSE 'absent' END";
        String keyJson = "to_jsonb(ARRAY[" + keyAliasesAsText().replace("__k", "__keys.__k") + "])";
        // The transforms are evaluated in a derived table over the source alone, so a source
        // column named like a target column is never ambiguous.
        String transformed = "(SELECT " + srcColumns() + " FROM " + source + ") AS __s";
        StringJoiner sourceMatch = new StringJoiner(" AND ");
        for (int i = 0; i < key.size(); i++) {
            sourceMatch.add("__s.__k" + i + " = __keys.__k" + i);
        }
        String ins = "__ins AS (INSERT INTO shapeshift.write_mismatch (migration, key, kind, written, expected) "
                + "SELECT ?::text, " + keyJson + ", 'dual-write-mismatch', " + written + ", " + expected
                + " FROM (SELECT DISTINCT * FROM __keys) AS __keys LEFT JOIN " + target + " AS __t ON "
                + keyMatchKeys("__t") + " LEFT JOIN " + transformed + " ON " + sourceMatch
                + " WHERE (" + targetExists + " OR " + sourceExists + ") AND ((" + targetExists + ") IS DISTINCT FROM ("
                + sourceExists + ") OR (" + current + ", NULL) IS DISTINCT FROM (" + computed + ", NULL))"
                + " ON CONFLICT (migration, kind, key) DO UPDATE SET last_seen = now(), "
                + "times = write_mismatch.times + 1, written = EXCLUDED.written, expected = EXCLUDED.expected RETURNING 1)";
        return "WITH " + keysCte() + ",\n" + ins + "\nSELECT count(*) FROM __ins";
    }

    /** {@code t.k1 = __keys.__k0 AND …}. */
    private String keyMatchKeys(String table) {
        StringJoiner m = new StringJoiner(" AND ");
        for (int i = 0; i < key.size(); i++) {
            m.add(table + "." + Ident.quote(key.get(i).name()) + " = __keys.__k" + i);
        }
        return m.toString();
    }

    /** A reverse transform cast to the old column's live type: the reverse direction's {@link TransformSql#written}. */
    private String reverseValue(String column, String expr) {
        return TransformSql.cast("(" + expr + ")", oldColumnType(column));
    }

    private String oldColumnType(String column) {
        return resolved.sourceColumns().stream().filter(c -> c.name().equals(column)).map(Column::type)
                .findFirst().orElse(null);
    }

    private String keyTextOf(String table) {
        StringJoiner cols = new StringJoiner(", ");
        for (Column k : key) {
            cols.add(table + "." + Ident.quote(k.name()) + "::text");
        }
        return cols.toString();
    }

    public boolean inPlace() {
        return resolved.spec().mode() == Mode.IN_PLACE;
    }

    public List<Column> key() {
        return key;
    }

    private String render(String keysCte, String where, String orderLimit, boolean deleteMissing) {
        StringJoiner ctes = new StringJoiner(",\n", "WITH ", "\n");
        if (keysCte != null) {
            ctes.add(keysCte);
        }
        ctes.add("__src AS MATERIALIZED (SELECT " + srcColumns() + " FROM " + source
                + " WHERE " + where + orderLimit + lockClause() + ")");
        if (guards.pauses()) {
            ctes.add("__pause AS MATERIALIZED (SELECT pg_sleep(?) FROM (SELECT count(*) FROM __src) __c)");
        }
        ctes.add("__w AS (" + (inPlace() ? update(orderLimit.isEmpty() ? "" : batchBounds(source)) : upsert()) + " RETURNING 1)");
        boolean deletes = deleteMissing && !inPlace();
        if (deletes) {
            ctes.add("__del AS (" + deleteMissing() + " RETURNING 1)");
        }
        return ctes + "SELECT (SELECT count(*) FROM __src), (SELECT count(*) FROM __w), "
                + (deletes ? "(SELECT count(*) FROM __del)" : "0")
                + ", (SELECT ARRAY[" + keyAliasesAsText() + "] FROM __src ORDER BY " + keyAliasesDesc() + " LIMIT 1)";
    }

    private String srcColumns() {
        StringJoiner cols = new StringJoiner(", ");
        for (int i = 0; i < key.size(); i++) {
            cols.add(source + "." + Ident.quote(key.get(i).name()) + " AS __k" + i);
        }
        boolean valuesRead = !inPlace() || guards.onConflict() == Guards.OnConflict.OVERWRITE;
        if (valuesRead) {
            for (int i = 0; i < columns.size(); i++) {
                cols.add(transforms.written(i) + " AS __v" + i);
            }
        }
        return cols.toString();
    }

    private String lockClause() {
        // In place, the UPDATE locks the rows it writes and evaluates the transforms on the
        // version it locks, so the read needs no lock of its own.
        if (inPlace() || guards.lock() == Guards.RowLock.NONE) {
            return "";
        }
        return " " + guards.lock().sql() + " OF " + sourceRef;
    }

    private String upsert() {
        StringJoiner names = new StringJoiner(", ");
        StringJoiner values = new StringJoiner(", ");
        for (int i = 0; i < key.size(); i++) {
            names.add(Ident.quote(key.get(i).name()));
            values.add("__k" + i);
        }
        for (int i = 0; i < columns.size(); i++) {
            names.add(Ident.quote(columns.get(i).name()));
            values.add("__v" + i);
        }
        String sql = "INSERT INTO " + target + " (" + names + ") SELECT " + values + " FROM __src"
                + (guards.pauses() ? ", __pause" : "");
        if (guards.onConflict() == Guards.OnConflict.INSERT_MISSING) {
            return sql + " WHERE NOT EXISTS (SELECT 1 FROM " + target + " __t WHERE " + keyMatch("__t", "__src")
                    + batchBounds("__t") + ")";
        }
        sql += " ON CONFLICT (" + Ident.columnList(resolved.keyNames(), null) + ") ";
        return sql + switch (guards.onConflict()) {
            case INSERT_MISSING -> throw new AssertionError("handled above");
            case NOTHING -> "DO NOTHING";
            case OVERWRITE -> "DO UPDATE SET " + excludedAssignments();
            case UPDATE_IF_DISTINCT -> "DO UPDATE SET " + excludedAssignments()
                    + " WHERE (" + targetColumnTuple(target) + ") IS DISTINCT FROM (" + targetColumnTuple("EXCLUDED") + ")";
        };
    }

    /**
     * Bounds a join with {@code __src} by the first and last key the batch read. In place, a range
     * sub-batch's UPDATE joined with {@code __src} alone scanned the whole table for every
     * sub-batch (docs/performance.md, "Where the time goes"); the backfill's anti-join with the
     * target could do the same with a hash join. With the bounds both read an index range.
     */
    private String batchBounds(String table) {
        String first = "(SELECT " + keyAliases("") + " FROM __src ORDER BY " + keyAliases("") + " LIMIT 1)";
        String last = "(SELECT " + keyAliases("") + " FROM __src ORDER BY " + keyAliasesDesc() + " LIMIT 1)";
        return " AND (" + keyTuple(table) + ") >= " + first + " AND (" + keyTuple(table) + ") <= " + last;
    }

    private String update(String bounds) {
        StringJoiner set = new StringJoiner(", ");
        StringJoiner current = new StringJoiner(", ");
        StringJoiner computed = new StringJoiner(", ");
        boolean overwrite = guards.onConflict() == Guards.OnConflict.OVERWRITE;
        for (int i = 0; i < columns.size(); i++) {
            String value = overwrite ? "__src.__v" + i : transforms.written(i);
            set.add(Ident.quote(columns.get(i).name()) + " = " + value);
            current.add(transforms.comparable(source + "." + Ident.quote(columns.get(i).name()), i));
            computed.add(transforms.comparable(transforms.stored(value, i), i));
        }
        String from = " FROM __src" + (guards.pauses() ? ", __pause" : "");
        String where = " WHERE " + keyMatch(source, "__src") + bounds;
        if (!overwrite) {
            where += " AND (" + current + ", NULL) IS DISTINCT FROM (" + computed + ", NULL)";
        }
        return "UPDATE " + source + " SET " + set + from + where;
    }

    private String deleteMissing() {
        return "DELETE FROM " + target + " WHERE (" + keyTuple(target) + ") IN (SELECT " + keyAliases("")
                + " FROM __keys)" + (guards.pauses() ? " AND EXISTS (SELECT 1 FROM __pause)" : "")
                + " AND NOT EXISTS (SELECT 1 FROM " + source + " WHERE " + keyMatch(source, target) + ")";
    }

    private String excludedAssignments() {
        StringJoiner set = new StringJoiner(", ");
        for (TargetColumn c : columns) {
            set.add(Ident.quote(c.name()) + " = EXCLUDED." + Ident.quote(c.name()));
        }
        return set.toString();
    }

    private String targetColumnTuple(String table) {
        StringJoiner t = new StringJoiner(", ");
        for (int i = 0; i < columns.size(); i++) {
            t.add(transforms.comparable(table + "." + Ident.quote(columns.get(i).name()), i));
        }
        // A one-element row constructor needs the ROW keyword; a trailing NULL keeps it a row.
        return t + ", NULL";
    }

    /** {@code a.k1 = b.k1 AND …}, where b is a qualified table or the {@code __src} CTE. */
    private String keyMatch(String a, String b) {
        StringJoiner m = new StringJoiner(" AND ");
        for (int i = 0; i < key.size(); i++) {
            String right = b.equals("__src") ? "__src.__k" + i : b + "." + Ident.quote(key.get(i).name());
            m.add(a + "." + Ident.quote(key.get(i).name()) + " = " + right);
        }
        return m.toString();
    }

    private String keyTuple(String table) {
        return keySql.tuple(table);
    }

    /** {@code __keys}: the bound key arrays as rows, one {@code text[]} parameter per key column. */
    private String keysCte() {
        return "__keys AS (SELECT * FROM unnest(" + keyArrays() + ") AS __k(" + keyAliases("") + "))";
    }

    private String keyArrays() {
        StringJoiner p = new StringJoiner(", ");
        for (Column c : key) {
            p.add("?::text[]::" + c.type() + "[]");
        }
        return p.toString();
    }

    private String keyAliases(String prefix) {
        StringJoiner p = new StringJoiner(", ");
        for (int i = 0; i < key.size(); i++) {
            p.add(prefix + "__k" + i);
        }
        return p.toString();
    }

    private String keyAliasesAsText() {
        StringJoiner p = new StringJoiner(", ");
        for (int i = 0; i < key.size(); i++) {
            p.add("__k" + i + "::text");
        }
        return p.toString();
    }

    private String keyAliasesDesc() {
        StringJoiner p = new StringJoiner(", ");
        for (int i = 0; i < key.size(); i++) {
            p.add("__k" + i + " DESC");
        }
        return p.toString();
    }

    private void requireTableMode() {
        if (inPlace()) {
            throw new IllegalStateException("in-place migrations have no separate target rows");
        }
    }
}
