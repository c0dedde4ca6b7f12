package dev.shapeshift.coordinator.contract;

import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.spec.SpecJson;
import dev.shapeshift.spec.TargetColumn;
import java.time.Duration;
import java.util.List;

/**
 * What the contract removes and the rollback keeps, read from a migration's stored spec.
 *
 * @param key         the spec's key columns; empty means the primary key
 * @param dropColumns in-place mode: the old columns ({@code contract.dropColumns})
 * @param dropTable   table mode: whether the old table goes
 * @param newColumns  in-place mode: the columns the expand added (what a rollback drops)
 * @param codeSearch  source trees to scan for the old shape's identifiers ({@code contract.codeSearch})
 * @param brownout    the brownout window before the drop ({@code contract.brownout}); null: none
 * @param brownoutAbortAfter failed statements of others that end a brownout early
 */
public record OldShape(String migration, Mode mode, String schema, String table, List<String> key,
                       List<String> dropColumns,
                       boolean dropTable, String targetSchema, String targetTable, List<String> newColumns,
                       Duration quietPeriod, Duration retention, List<String> codeSearch,
                       Duration brownout, int brownoutAbortAfter) {

    public static OldShape of(MigrationRecord m) {
        MigrationSpec s = SpecJson.read(m.specJson());
        List<String> added = s.target() == null ? List.of()
                : s.target().columns().stream().map(TargetColumn::name).toList();
        return new OldShape(m.name(), s.mode(), s.source().schema(), s.source().table(), s.source().key(),
                s.contract().dropColumns(),
                s.contract().dropTable(), s.targetSchema(), s.targetTable(), added, s.contract().quietPeriod(),
                s.contract().retention(), s.contract().codeSearch(),
                s.contract().brownout(), s.contract().brownoutAbortAfter());
    }

    public boolean inPlace() {
        return mode == Mode.IN_PLACE;
    }

    /** Whether the contract removes anything at all. */
    public boolean dropsSomething() {
        return inPlace() ? !dropColumns.isEmpty() : dropTable;
    }

    /**
     * What the contract does when it removes nothing, for people; null when it removes something.
     * In-place without {@code contract.dropColumns} there is no old shape at all; table mode
     * without {@code dropTable} keeps the old table, but the contract still ends the sync, so only
     * writes to the old table matter (they would no longer reach the new one).
     */
    public String dropsNothing() {
        if (dropsSomething()) {
            return null;
        }
        return inPlace() ? "the spec drops nothing (contract.dropColumns is empty): there is no old column to watch, "
                + "and the contract only ends the migration"
                : "the spec drops nothing (contract.dropTable is false): " + schema + "." + table + " stays; the "
                + "contract ends the sync, so only writes to it are watched (they would no longer reach "
                + targetSchema + "." + targetTable + ")";
    }

    /** The watched old shape, for people: {@code public.users(legacy_verified_at)} or {@code public.orders}. */
    public String describe() {
        return schema + "." + table + (inPlace() ? "(" + String.join(", ", dropColumns) + ")" : "");
    }
}
