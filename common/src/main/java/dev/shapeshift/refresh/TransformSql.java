package dev.shapeshift.refresh;

import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.TargetColumn;
import java.util.List;
import java.util.Locale;

/**
 * The one row model: how every statement family — refresh (backfill, sync, repair), reconcile,
 * the sink path and the reverse direction — renders a column's value. Pure text over a
 * {@link ResolvedSpec}; no statement renders a transform or a comparison any other way, so what a
 * write stores and what a comparison expects agree by construction (docs/refresh.md, "One row
 * model").
 *
 * <p>Per target column {@code i}:
 * <ul>
 *   <li>{@link #written(int)}: the value a write stores — the transform, cast to the spec's
 *       {@code type} when it names one. The write's assignment to the column does the rest (so a
 *       value too long for a {@code varchar(n)} is an error, never silently cut);</li>
 *   <li>{@link #stored(String, int)}: a written value as the column holds it — cast once more to the
 *       live column's {@code format_type} when the resolved spec knows it and it is not the spec's
 *       type as written (an untyped column; {@code numeric} in the spec, {@code numeric(10,2)} in the
 *       table), so scale, length and precision apply as the assignment applied them;</li>
 *   <li>{@link #comparable(String, int)}: a value in a form PostgreSQL compares — {@code json} (no
 *       equality) as {@code jsonb}, {@code xml} as text — by the column's stored type.</li>
 * </ul>
 * A statement that asks "does the column hold what the transform gives?" compares
 * {@code comparable(column)} with {@code comparable(stored(written))}.
 */
public final class TransformSql {
    private final ResolvedSpec resolved;
    private final List<TargetColumn> columns;

    public TransformSql(ResolvedSpec resolved) {
        this.resolved = resolved;
        this.columns = resolved.spec().target().columns();
    }

    public List<TargetColumn> columns() {
        return columns;
    }

    /** The transform of column {@code i} as a write stores it. */
    public String written(int i) {
        TargetColumn c = columns.get(i);
        return cast("(" + c.transform() + ")", declaredType(i));
    }

    /** The transform of column {@code i} as the column holds it after the write. */
    public String stored(int i) {
        return stored(written(i), i);
    }

    /** A written value of column {@code i} ({@link #written}, or a name bound to it) as the column holds it. */
    public String stored(String writtenValue, int i) {
        String live = resolved.targetType(columns.get(i).name());
        String declared = declaredType(i);
        return live == null || live.equals(declared) ? writtenValue : cast(writtenValue, live);
    }

    /** A value of column {@code i} (stored, or read from the column) in a form PostgreSQL can compare. */
    public String comparable(String expr, int i) {
        return comparable(expr, storedType(i));
    }

    /** The type column {@code i} has: the live {@code format_type} when known, else the spec's {@code type} (or null). */
    public String storedType(int i) {
        String live = resolved.targetType(columns.get(i).name());
        return live != null ? live : declaredType(i);
    }

    private String declaredType(int i) {
        String type = columns.get(i).type();
        return type == null || type.isBlank() ? null : type.strip();
    }

    /** {@code (expr)::type}, or {@code expr} when there is no type. */
    public static String cast(String expr, String type) {
        return type == null ? expr : "(" + expr + ")::" + type;
    }

    /**
     * A value of a column of type {@code type} in a form PostgreSQL can compare: {@code json} has no
     * equality operator (it compares as {@code jsonb}, i.e. canonically), {@code xml} compares as
     * text; every other type with its own equality.
     */
    public static String comparable(String expr, String type) {
        String t = type == null ? "" : type.strip().toLowerCase(Locale.ROOT);
        return switch (t) {
            case "json" -> "(" + expr + ")::jsonb";
            case "xml" -> "(" + expr + ")::text";
            default -> expr;
        };
    }
}
