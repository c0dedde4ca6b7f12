package dev.shapeshift.coordinator.reconcile;

import dev.shapeshift.refresh.KeySql;
import dev.shapeshift.refresh.TransformSql;
import dev.shapeshift.spec.Column;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.TargetColumn;
import dev.shapeshift.sql.Ident;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/**
 * Renders the comparison statements of one migration: pure text, identifiers quoted, keys and
 * bounds as bind parameters (the same shapes as {@code RefreshSql}).
 *
 * <p>Every compare statement reads both sides once and returns one row: the counts, and
 * {@code pg_current_wal_lsn()} read after its snapshot was taken (every write the comparison saw
 * has a commit record below that position). Result columns: source rows, target rows, lsn, then —
 * null when nothing differs — one {@code text[]} per key column, the kinds and the source rows'
 * {@code xmin}, element i of each array describing the i-th differing key.
 *
 * <p>Normalisation (docs/reconcile.md): the values are rendered by {@link TransformSql}, the
 * renderer refresh writes with: the transform as the write stores it, cast to the target column's
 * <em>actual</em> type (read from {@code pg_attribute} into the resolved spec), so numeric scale,
 * varchar length and timestamp precision are applied exactly as the write applied them;
 * {@code json} is compared as {@code jsonb} ({@code json} has no equality); {@code xml} as text;
 * everything else, floating point included, with the type's own equality via
 * {@code IS DISTINCT FROM} (NULL equals NULL).
 */
final class DiffSql {
    private final ResolvedSpec resolved;
    private final String source;
    private final String target;
    private final List<Column> key;
    private final KeySql keySql;
    private final List<TargetColumn> columns;
    private final TransformSql transforms;

    /**
     * @param targetTypes the target columns' {@code format_type} text by column name, added to the
     *                    resolved spec's; a column in neither is cast to the spec's {@code type}
     *                    only, or not at all
     */
    DiffSql(ResolvedSpec resolved, Map<String, String> targetTypes) {
        this(resolved.withTargetTypes(targetTypes));
    }

    DiffSql(ResolvedSpec resolved) {
        this.resolved = resolved;
        var spec = resolved.spec();
        this.source = Ident.qualified(spec.source().schema(), spec.source().table());
        this.target = Ident.qualified(spec.targetSchema(), spec.targetTable());
        this.key = resolved.key();
        this.keySql = new KeySql(key);
        this.columns = spec.target().columns();
        this.transforms = new TransformSql(resolved);
    }

    boolean inPlace() {
        return resolved.spec().mode() == Mode.IN_PLACE;
    }

    List<Column> key() {
        return key;
    }

    /** Parameters: the {@code after} key's values (if {@code hasAfter}), then the {@code upTo} key's (if {@code hasUpTo}). */
    String forRange(boolean hasAfter, boolean hasUpTo) {
        return render(rangeWhere(source, hasAfter, hasUpTo), rangeWhere(target, hasAfter, hasUpTo));
    }

    /** Parameters: one {@code text[]} per key column, twice (source side, then target side in table mode). */
    String forKeys() {
        return render(keysWhere(source), keysWhere(target));
    }

    /** The {@code rows}-th key after a bound: parameters the bound's values (if {@code hasAfter}), then the offset. */
    String rangeEnd(boolean hasAfter) {
        // The text cast is outside the OFFSET subquery: inside, it would run for every skipped key
        // (docs/performance.md, "Reconcile", "Where the time went").
        return "SELECT " + aliasesAsText("r.") + " FROM (SELECT " + keySql.aliased(source) + " FROM " + source + " WHERE "
                + (hasAfter ? "(" + keyTuple(source) + ") > (" + keySql.params() + ")" : "true")
                + " ORDER BY " + keyTuple(source) + " OFFSET ? LIMIT 1) r";
    }

    /**
     * The highest key after a bound on either side (source, and target in table mode): where the
     * open last range ended. Parameters: the bound's values (if {@code hasAfter}), once per side.
     */
    String lastKey(boolean hasAfter) {
        StringJoiner desc = new StringJoiner(", ");
        for (int i = 0; i < key.size(); i++) {
            desc.add("__k" + i + " DESC");
        }
        String source = highest(this.source, hasAfter, desc.toString());
        String both = inPlace() ? source : source + " UNION ALL " + highest(target, hasAfter, desc.toString());
        return "SELECT " + aliasesAsText("") + " FROM (" + both + ") u ORDER BY " + desc + " LIMIT 1";
    }

    private String highest(String table, boolean hasAfter, String desc) {
        return "(SELECT " + keySql.aliased(table) + " FROM " + table + " WHERE " + rangeWhere(table, hasAfter, false)
                + " ORDER BY " + desc + " LIMIT 1)";
    }

    /** Source rows estimated by the planner's statistics (0 if never analyzed). */
    String estimatedRows() {
        return "SELECT greatest(reltuples, 0)::bigint FROM pg_catalog.pg_class WHERE oid = to_regclass(?)";
    }

    String sourceName() {
        return source;
    }

    String targetName() {
        return target;
    }

    private String render(String sourceWhere, String targetWhere) {
        return inPlace() ? renderInPlace(sourceWhere) : renderTable(sourceWhere, targetWhere);
    }

    private String renderTable(String sourceWhere, String targetWhere) {
        StringJoiner sv = new StringJoiner(", ");
        StringJoiner tv = new StringJoiner(", ");
        StringJoiner sTuple = new StringJoiner(", ");
        StringJoiner tTuple = new StringJoiner(", ");
        for (int i = 0; i < columns.size(); i++) {
            TargetColumn c = columns.get(i);
            sv.add(transforms.comparable(transforms.stored(i), i) + " AS __v" + i);
            tv.add(transforms.comparable(target + "." + Ident.quote(c.name()), i) + " AS __v" + i);
            sTuple.add("s.__v" + i);
            tTuple.add("t.__v" + i);
        }
        StringJoiner join = new StringJoiner(" AND ");
        StringJoiner merged = new StringJoiner(", ");
        for (int i = 0; i < key.size(); i++) {
            join.add("s.__k" + i + " = t.__k" + i);
            merged.add("coalesce(s.__k" + i + ", t.__k" + i + ") AS __k" + i);
        }
        String joined = "SELECT s.__k0 AS __s, t.__k0 AS __t, " + merged + ", s.__xmin, "
                + "CASE WHEN t.__k0 IS NULL THEN 'missing' WHEN s.__k0 IS NULL THEN 'extra' "
                + "WHEN (" + sTuple + ", NULL) IS DISTINCT FROM (" + tTuple + ", NULL) THEN 'different' END AS __kind\n"
                + "FROM (SELECT " + keySql.aliased(source) + ", " + source + ".xmin AS __xmin, " + sv
                + " FROM " + source + " WHERE " + sourceWhere + ") s\n"
                + "FULL JOIN (SELECT " + keySql.aliased(target) + ", " + tv + " FROM " + target + " WHERE " + targetWhere
                + ") t ON " + join;
        return aggregated("count(j.__s), count(j.__t)", joined, "j.__kind");
    }

    private String renderInPlace(String sourceWhere) {
        StringJoiner current = new StringJoiner(", ");
        StringJoiner computed = new StringJoiner(", ");
        for (int i = 0; i < columns.size(); i++) {
            TargetColumn c = columns.get(i);
            current.add(transforms.comparable(source + "." + Ident.quote(c.name()), i));
            computed.add(transforms.comparable(transforms.stored(i), i));
        }
        String rows = "SELECT " + keySql.aliased(source) + ", " + source + ".xmin AS __xmin, CASE WHEN ("
                + current + ", NULL) IS DISTINCT FROM (" + computed + ", NULL) THEN 'different' END AS __kind"
                + " FROM " + source + " WHERE " + sourceWhere;
        return aggregated("count(*), count(*)", rows, "j.__kind");
    }

    /**
     * One pass over {@code rows} (columns {@code __k*}, {@code __xmin}, {@code __kind}; kind null
     * where the row agrees) aggregated into a single result row: the counts, the LSN, then one
     * array per key column, the kinds and the source xmins of the differing rows only (aligned:
     * every aggregate of a group sees the rows in the same order; null when nothing differs).
     * {@code OFFSET 0} keeps the subquery from being flattened, which would evaluate the kind —
     * the transform and the comparison — once per aggregate instead of once per row. No CTE: a
     * CTE read twice (for the counts and the join) is materialised, and the join of two
     * materialised CTEs can only be a hash join; inline, both key-ordered index scans merge.
     */
    private String aggregated(String counts, String rows, String kind) {
        String differs = " FILTER (WHERE " + kind + " IS NOT NULL)";
        StringJoiner out = new StringJoiner(", ");
        out.add(counts);
        out.add("pg_current_wal_lsn()::text");
        for (int i = 0; i < key.size(); i++) {
            out.add("array_agg(j.__k" + i + "::text)" + differs);
        }
        out.add("array_agg(" + kind + ")" + differs);
        out.add("array_agg(j.__xmin::text)" + differs);
        return "SELECT " + out + "\nFROM (" + rows + "\nOFFSET 0) j";
    }

    private String rangeWhere(String table, boolean hasAfter, boolean hasUpTo) {
        return keySql.rangeWhere(table, hasAfter, hasUpTo);
    }

    private String keysWhere(String table) {
        StringJoiner arrays = new StringJoiner(", ");
        StringJoiner aliases = new StringJoiner(", ");
        for (int i = 0; i < key.size(); i++) {
            arrays.add("?::text[]::" + key.get(i).type() + "[]");
            aliases.add("__q" + i);
        }
        return "(" + keyTuple(table) + ") IN (SELECT " + aliases + " FROM unnest(" + arrays + ") AS __q(" + aliases + "))";
    }

    private String keyTuple(String table) {
        return keySql.tuple(table);
    }

    private String aliasesAsText(String prefix) {
        StringJoiner t = new StringJoiner(", ");
        for (int i = 0; i < key.size(); i++) {
            t.add(prefix + "__k" + i + "::text");
        }
        return t.toString();
    }
}
