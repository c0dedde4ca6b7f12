package dev.shapeshift.spec;

import dev.shapeshift.sql.Ident;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The structure a spec's new shape ends with ({@code target.indexes}, {@code target.checks},
 * {@code target.columns[].notNull / unique / references / default}) as staged items, and whether
 * the database has each one enforced. Rendering and catalog look-ups only; the enforcement itself
 * is the coordinator's {@code Enforcer}.
 *
 * <p>Order of enforcement: indexes (a foreign key may need the unique one), checks, foreign keys,
 * NOT NULL.
 */
public final class Structure {
    private static final int MAX_IDENT_BYTES = 63;

    public enum Kind {
        INDEX("index"), UNIQUE_INDEX("unique index"), CHECK("check"), FOREIGN_KEY("foreign key"), NOT_NULL("not null");

        private final String label;

        Kind(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /**
     * One staged piece of structure.
     *
     * @param name       the index or constraint name; for NOT NULL the helper check's name
     * @param columns    the columns it is on (one for a foreign key or NOT NULL)
     * @param expression a check's expression, or an index's WHERE predicate; else null
     * @param references a foreign key's referenced table and column; else null
     */
    public record Item(Kind kind, String name, List<String> columns, String expression,
                       TargetColumn.References references) {
        public String label() {
            return kind.label() + " " + (kind == Kind.NOT_NULL ? columns.get(0) : name);
        }
    }

    private Structure() {
    }

    /** Every staged item of the spec, in enforcement order. */
    public static List<Item> items(MigrationSpec spec) {
        List<Item> out = new ArrayList<>();
        if (spec.target() == null || spec.source() == null || spec.source().table() == null) {
            return out;
        }
        String table = spec.targetTable();
        for (TargetColumn c : spec.target().columns()) {
            if (c != null && c.unique()) {
                out.add(new Item(Kind.UNIQUE_INDEX, name(table + "_" + c.name() + "_key"), List.of(c.name()), null, null));
            }
        }
        for (Target.Index i : spec.target().indexes()) {
            if (i == null) {
                continue;
            }
            String suffix = i.unique() ? "_key" : "_idx";
            String n = i.name() != null ? i.name() : name(table + "_" + String.join("_", i.columns()) + suffix);
            out.add(new Item(i.unique() ? Kind.UNIQUE_INDEX : Kind.INDEX, n, i.columns(), i.where(), null));
        }
        List<Target.Check> checks = spec.target().checks();
        for (int k = 0; k < checks.size(); k++) {
            Target.Check ch = checks.get(k);
            if (ch != null) {
                out.add(new Item(Kind.CHECK, ch.name() != null ? ch.name() : name(table + "_check" + (k + 1)), List.of(),
                        ch.expression(), null));
            }
        }
        for (TargetColumn c : spec.target().columns()) {
            if (c != null && c.references() != null) {
                out.add(new Item(Kind.FOREIGN_KEY, name(table + "_" + c.name() + "_fkey"), List.of(c.name()), null,
                        c.references()));
            }
        }
        for (TargetColumn c : spec.target().columns()) {
            if (c != null && c.notNull()) {
                out.add(new Item(Kind.NOT_NULL, name(table + "_" + c.name() + "_not_null"), List.of(c.name()), null, null));
            }
        }
        return out;
    }

    /** A name cut to PostgreSQL's 63-byte limit (at a character boundary). */
    static String name(String wanted) {
        String n = wanted;
        while (n.getBytes(StandardCharsets.UTF_8).length > MAX_IDENT_BYTES) {
            n = n.substring(0, n.length() - 1);
        }
        return n;
    }

    /** The referenced table of a foreign key, quoted. */
    public static String referenced(MigrationSpec spec, TargetColumn.References r) {
        return Ident.qualified(r.schema() != null ? r.schema() : spec.targetSchema(), r.table());
    }

    /**
     * What the expand adds besides the columns or table: in place, each {@code DEFAULT} by
     * {@code SET DEFAULT} (no rewrite; table mode writes it in {@code CREATE TABLE}). CHECK and
     * FOREIGN KEY constraints are not added here: a {@code NOT VALID} constraint checks every later
     * write, the backfill's and the sync's included, so a source row that violates it would fail its
     * chunk instead of becoming a finding. The enforcement adds them {@code NOT VALID} once the
     * finding query found no violating row, then validates them ({@link #addNotValid}).
     */
    public static List<String> atExpand(MigrationSpec spec) {
        List<String> out = new ArrayList<>();
        String t = Ident.qualified(spec.targetSchema(), spec.targetTable());
        if (spec.mode() == Mode.IN_PLACE && spec.target() != null) {
            for (TargetColumn c : spec.target().columns()) {
                if (c != null && c.defaultValue() != null) {
                    out.add("ALTER TABLE " + t + " ALTER COLUMN " + Ident.quote(c.name()) + " SET DEFAULT "
                            + c.defaultValue().strip());
                }
            }
        }
        return out;
    }

    /** {@code ALTER TABLE … ADD CONSTRAINT … NOT VALID} of a CHECK or FOREIGN KEY item; null for others. */
    public static String addNotValid(MigrationSpec spec, Item i) {
        String t = Ident.qualified(spec.targetSchema(), spec.targetTable());
        return switch (i.kind()) {
            case CHECK -> "ALTER TABLE " + t + " ADD CONSTRAINT " + Ident.quote(i.name()) + " CHECK (" + i.expression()
                    + ") NOT VALID";
            case FOREIGN_KEY -> "ALTER TABLE " + t + " ADD CONSTRAINT " + Ident.quote(i.name()) + " FOREIGN KEY ("
                    + Ident.quote(i.columns().get(0)) + ") REFERENCES " + referenced(spec, i.references()) + " ("
                    + Ident.quote(i.references().column()) + ") NOT VALID";
            default -> null;
        };
    }

    /**
     * Whether the database has {@code item} enforced on the target table: a valid, ready index; a
     * validated constraint ({@code pg_constraint.convalidated}); a column with {@code attnotnull}.
     */
    public static boolean enforced(Connection c, MigrationSpec spec, Item item) throws SQLException {
        String schema = spec.targetSchema();
        String table = spec.targetTable();
        String sql = switch (item.kind()) {
            case INDEX, UNIQUE_INDEX -> "SELECT i.indisvalid AND i.indisready FROM pg_index i JOIN pg_class x "
                    + "ON x.oid = i.indexrelid WHERE x.relname = ? AND i.indrelid = to_regclass(?)";
            case CHECK, FOREIGN_KEY -> "SELECT k.convalidated FROM pg_constraint k WHERE k.conname = ? "
                    + "AND k.conrelid = to_regclass(?)";
            case NOT_NULL -> "SELECT a.attnotnull FROM pg_attribute a WHERE a.attname = ? "
                    + "AND a.attrelid = to_regclass(?) AND NOT a.attisdropped";
        };
        try (PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, item.kind() == Kind.NOT_NULL ? item.columns().get(0) : item.name());
            ps.setString(2, Ident.qualified(schema, table));
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() && rs.getBoolean(1);
            }
        }
    }

    /** The labels of the items the database does not have enforced yet. */
    public static List<String> pending(Connection c, MigrationSpec spec) throws SQLException {
        List<String> out = new ArrayList<>();
        for (Item i : items(spec)) {
            if (!enforced(c, spec, i)) {
                out.add(i.label());
            }
        }
        return out;
    }
}
