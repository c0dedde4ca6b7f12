package dev.shapeshift.spec;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The checks a spec must pass on its own, without a database. Collects every problem.
 *
 * <p>Why one class of ~350 lines: one short method per check, all collecting into one list so a
 * spec's every problem is reported in one pass.
 */
final class StaticChecks {
    /** A migration name becomes part of Kafka topic and replication slot names. */
    static final Pattern NAME = Pattern.compile("[a-z0-9][a-z0-9_-]{0,40}");
    /** Type names: words, dots, typmods and array brackets; never quotes, ';' or comments. */
    static final Pattern TYPE = Pattern.compile("[A-Za-z_][A-Za-z0-9_ .,()\\[\\]]*");
    private static final Pattern FLAG = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_.-]{0,100}");
    private static final int MAX_IDENT_BYTES = 63;

    private final List<SpecProblem> problems = new ArrayList<>();

    static List<SpecProblem> check(MigrationSpec spec) {
        StaticChecks c = new StaticChecks();
        c.name(spec.name());
        c.source(spec.source());
        c.target(spec);
        c.expand(spec.expand());
        c.backfill(spec.backfill());
        c.reconcile(spec.reconcile());
        c.readSwitch(spec.readSwitch());
        c.writes(spec);
        c.contract(spec);
        return List.copyOf(c.problems);
    }

    private void add(String path, String message, String fix) {
        problems.add(new SpecProblem(path, message, fix));
    }

    private void name(String name) {
        if (name == null || name.isBlank()) {
            add("name", "missing", "add a migration name such as 'users-email-verified'");
        } else if (!NAME.matcher(name).matches()) {
            add("name", "'" + name + "' is not a safe name (it becomes part of Kafka topic and replication slot names)",
                    "use 1-41 characters: lower-case letters, digits, '_' and '-', starting with a letter or digit");
        }
    }

    private void source(Source source) {
        if (source == null) {
            add("source", "missing", "add 'source:' with at least 'table:'");
            return;
        }
        identifier("source.schema", source.schema(), "the schema of the source table");
        if (source.table() == null || source.table().isBlank()) {
            add("source.table", "missing", "name the table to migrate, e.g. 'table: users'");
        } else {
            identifier("source.table", source.table(), "the source table");
        }
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < source.key().size(); i++) {
            String k = source.key().get(i);
            identifier("source.key[" + i + "]", k, "a key column");
            if (k != null && !seen.add(k)) {
                add("source.key[" + i + "]", "column '" + k + "' is listed twice", "list each key column once");
            }
        }
    }

    private void target(MigrationSpec spec) {
        Target target = spec.target();
        if (target == null) {
            add("target", "missing", "add 'target:' with 'columns:' (name, type, transform)");
            return;
        }
        if (spec.mode() == Mode.TABLE) {
            tableModeTarget(spec, target);
        } else if (spec.mode() == Mode.SINK) {
            SinkChecks.statics(spec, problems::add);
        } else {
            if (target.table() != null && spec.source() != null && !target.table().equals(spec.source().table())) {
                add("target.table", "in in-place mode the new columns go into the source table, but target.table is '"
                        + target.table() + "'", "remove target.table, or set 'mode: table' to create a new table");
            }
            if (target.schema() != null && spec.source() != null && !target.schema().equals(spec.source().schema())) {
                add("target.schema", "in in-place mode the target is the source table, but target.schema is '"
                        + target.schema() + "'", "remove target.schema, or set 'mode: table'");
            }
        }
        if (target.sink() != null && spec.mode() != Mode.SINK) {
            add("target.sink", "given, but mode is " + spec.mode().label() + ": only sink mode writes to a sink",
                    "set 'mode: sink', or remove target.sink");
        }
        if (target.columns().isEmpty()) {
            add("target.columns", "no target columns", "add at least one column with name, type and transform");
        }
        Set<String> names = new HashSet<>();
        List<String> key = spec.source() == null ? List.of() : spec.source().key();
        for (int i = 0; i < target.columns().size(); i++) {
            column(i, target.columns().get(i), names, key, spec.expand().ddl().isEmpty() && spec.mode() != Mode.SINK);
        }
        StructureChecks.statics(spec, problems::add);
    }

    private void tableModeTarget(MigrationSpec spec, Target target) {
        if (target.table() == null || target.table().isBlank()) {
            add("target.table", "missing: table mode creates a new table and needs its name",
                    "add 'table:' under target, or use 'mode: in-place' to add columns to the source table");
            return;
        }
        identifier("target.table", target.table(), "the target table");
        if (target.schema() != null) {
            identifier("target.schema", target.schema(), "the target schema");
        }
        if (spec.source() != null && target.table().equals(spec.source().table())
                && spec.targetSchema().equals(spec.source().schema())) {
            add("target.table", "the target table is the source table",
                    "name a new table, or use 'mode: in-place' to add columns to the source table");
        }
    }

    private void column(int i, TargetColumn col, Set<String> names, List<String> key, boolean generatedDdl) {
        String p = "target.columns[" + i + "]";
        if (col == null) {
            add(p, "empty entry", "remove it or give it name, type and transform");
            return;
        }
        if (col.name() == null || col.name().isBlank()) {
            add(p + ".name", "missing", "name the new column");
        } else {
            identifier(p + ".name", col.name(), "the column");
            if (!names.add(col.name())) {
                add(p + ".name", "duplicate column '" + col.name() + "'", "give every target column a distinct name");
            }
            if (key.contains(col.name())) {
                add(p + ".name", "'" + col.name() + "' is a key column", "key columns are copied as they are; pick another name");
            }
        }
        if (col.type() == null || col.type().isBlank()) {
            if (generatedDdl) {
                add(p + ".type", "missing: the expand DDL is generated from the target columns",
                        "give the SQL type, e.g. 'type: boolean', or write expand.ddl yourself");
            }
        } else if (!TYPE.matcher(col.type().trim()).matches() || SqlScanner.expression(col.type()).problem().isPresent()) {
            add(p + ".type", "'" + col.type() + "' is not a type name Shapeshift accepts",
                    "write a plain PostgreSQL type such as text, boolean, numeric(10,2), timestamptz or text[] (no quotes)");
        }
        if (col.transform() == null || col.transform().isBlank()) {
            add(p + ".transform", "missing", "write one SQL expression over source columns, e.g. 'legacy_verified_at IS NOT NULL'");
        } else {
            SqlScanner.expression(col.transform()).problem().ifPresent(what ->
                    add(p + ".transform", "contains " + what, "write a single SQL expression"));
        }
    }

    private void expand(Expand expand) {
        for (int i = 0; i < expand.ddl().size(); i++) {
            String ddl = expand.ddl().get(i);
            String p = "expand.ddl[" + i + "]";
            if (ddl == null || ddl.isBlank()) {
                add(p, "empty statement", "remove it");
                continue;
            }
            SqlScanner.statement(ddl).problem().ifPresent(what -> add(p, "contains " + what,
                    "write one statement per list entry"));
        }
        if (expand.unsafe() != null) {
            if (expand.ddl().isEmpty()) {
                add("expand.unsafe", "given without expand.ddl: the generated DDL needs no exception",
                        "remove expand.unsafe");
            }
            if (expand.unsafe().reason() == null || expand.unsafe().reason().isBlank()) {
                add("expand.unsafe.reason", "missing: an exception to the DDL safety check needs its reason",
                        "say why the statements may lock or rewrite the table, e.g. 'reason: 2k rows, idle at night'");
            }
            return;
        }
        List<List<DdlSafety.Finding>> findings = DdlSafety.check(expand.ddl());
        for (int i = 0; i < findings.size(); i++) {
            for (DdlSafety.Finding f : findings.get(i)) {
                add("expand.ddl[" + i + "]", f.what(), "write " + f.instead()
                        + "; or, if the table may be locked for that long, add expand.unsafe.reason (docs/ddl.md)");
            }
        }
    }

    private void backfill(Backfill b) {
        positive("backfill.chunkRows", b.chunkRows());
        positive("backfill.batchRows", b.batchRows());
        if (b.chunkRows() > 0 && b.batchRows() > b.chunkRows()) {
            add("backfill.batchRows", "batchRows " + b.batchRows() + " exceeds chunkRows " + b.chunkRows(),
                    "make batchRows at most chunkRows");
        }
        positive("backfill.targetTransaction", b.targetTransaction());
        notNegative("backfill.maxRowsPerSecond", b.maxRowsPerSecond());
        positive("backfill.lockTimeout", b.lockTimeout());
        if (!(b.maxHeapGrowth() > 1.0) || b.maxHeapGrowth().isInfinite()) {
            add("backfill.maxHeapGrowth", "must be a finite number greater than 1, got " + b.maxHeapGrowth(),
                    "use e.g. 1.2 (vacuum keeps the heap below 1.2 times its size before the backfill)");
        }
    }

    private void reconcile(Reconcile r) {
        positive("reconcile.rangeRows", r.rangeRows());
        positive("reconcile.interval", r.interval());
        notNegative("reconcile.maxRowsPerSecond", r.maxRowsPerSecond());
        positive("reconcile.recheckAfter", r.recheckAfter());
        if (r.parallelism() < 1 || r.parallelism() > Reconcile.MAX_PARALLELISM) {
            add("reconcile.parallelism", "must be between 1 and " + Reconcile.MAX_PARALLELISM + ", got " + r.parallelism(),
                    "use 1 for one range at a time, or a small number of connections such as 2 (the default) or 4");
        }
    }

    private void readSwitch(Switch s) {
        if (s.flag() != null && !FLAG.matcher(s.flag()).matches()) {
            add("switch.flag", "'" + s.flag() + "' is not a flag name Shapeshift accepts",
                    "use letters, digits, '.', '_' and '-', or omit it for '<name>.read-new'");
        }
        positive("switch.cleanFor", s.cleanFor());
        positive("switch.maxLag", s.maxLag());
    }

    private void writes(MigrationSpec spec) {
        Writes w = spec.writes();
        if (w.flag() != null && !FLAG.matcher(w.flag()).matches()) {
            add("writes.flag", "'" + w.flag() + "' is not a flag name Shapeshift accepts",
                    "use letters, digits, '.', '_' and '-', or omit it for '<name>.write-new'");
        }
        if (w.flag() != null && w.flag().equals(spec.flagName())) {
            add("writes.flag", "'" + w.flag() + "' is also the read flag", "give the write flag its own name");
        }
        positive("writes.cleanFor", w.cleanFor());
        positive("writes.flagPropagation", w.flagPropagation());
        if (w.roundTripSample() != null && w.roundTripSample() <= 0) {
            add("writes.roundTripSample", "must be positive, got " + w.roundTripSample(), "give a row count, or remove it to check every row");
        }
        if (!w.switchWrites()) {
            if (!w.reverse().isEmpty()) {
                add("writes.reverse", "given while writes.switch is false: nothing would use it",
                        "set 'writes.switch: true', or remove writes.reverse");
            }
            return;
        }
        if (spec.mode() == Mode.SINK) {
            add("writes.switch", "the write switch works in in-place and table mode (not yet in sink mode: the "
                    + "reverse sync from a sink is not built)", "leave writes.switch false for a sink");
        }
        Set<String> targetNames = new HashSet<>();
        if (spec.target() != null) {
            spec.target().columns().stream().filter(t -> t != null && t.name() != null).forEach(t -> targetNames.add(t.name()));
        }
        List<String> key = spec.source() == null ? List.of() : spec.source().key();
        for (var e : w.reverse().entrySet()) {
            String p = "writes.reverse." + e.getKey();
            identifier(p, e.getKey(), "the old column the reverse transform writes");
            // In table mode old and new columns live in different tables and may share a name.
            if (spec.mode() != Mode.TABLE && targetNames.contains(e.getKey())) {
                add(p, "'" + e.getKey() + "' is a target column: a reverse transform writes an old column",
                        "name an old column of the source table");
            }
            if (key.contains(e.getKey())) {
                add(p, "'" + e.getKey() + "' is a key column: keys are never rewritten", "remove it");
            }
            if (e.getValue() == null || e.getValue().isBlank()) {
                add(p, "empty expression", "write one SQL expression over the new columns and the current old columns");
            } else {
                SqlScanner.Scan scan = SqlScanner.expression(e.getValue());
                scan.problem().ifPresent(problem -> add(p, "contains " + problem, "write a single SQL expression"));
            }
        }
    }

    private void contract(MigrationSpec spec) {
        Contract c = spec.contract();
        Set<String> targetNames = new HashSet<>();
        if (spec.target() != null) {
            spec.target().columns().stream().filter(t -> t != null && t.name() != null).forEach(t -> targetNames.add(t.name()));
        }
        List<String> key = spec.source() == null ? List.of() : spec.source().key();
        Set<String> seen = new HashSet<>();
        for (int i = 0; i < c.dropColumns().size(); i++) {
            String col = c.dropColumns().get(i);
            String p = "contract.dropColumns[" + i + "]";
            identifier(p, col, "the column to drop");
            if (col == null) {
                continue;
            }
            if (!seen.add(col)) {
                add(p, "'" + col + "' is listed twice", "list each column once");
            }
            if (targetNames.contains(col)) {
                add(p, "'" + col + "' is also a target column", "drop only old columns, never the new shape");
            }
            if (key.contains(col)) {
                add(p, "'" + col + "' is a key column", "the key stays; remove it from dropColumns");
            }
        }
        if (c.dropTable() && spec.mode() != Mode.TABLE) {
            add("contract.dropTable", spec.mode() == Mode.SINK
                    ? "true in sink mode would drop the source table, and the contract of a sink does not drop tables"
                    : "true in in-place mode would drop the table that holds the new columns",
                    "use contract.dropColumns");
        }
        positive("contract.quietPeriod", c.quietPeriod());
        positive("contract.retention", c.retention());
        if (c.deadline() != null) {
            positive("contract.deadline", c.deadline());
        }
        if (c.brownout() != null) {
            positive("contract.brownout", c.brownout());
        }
        if (c.brownoutAbortAfter() < 1) {
            add("contract.brownoutAbortAfter", c.brownoutAbortAfter() + " is not a count of failures",
                    "use 1 (undo at the first failed statement, the default) or more");
        }
        for (int i = 0; i < c.codeSearch().size(); i++) {
            if (c.codeSearch().get(i).isBlank()) {
                add("contract.codeSearch[" + i + "]", "empty", "name a directory of source code to search, or remove the entry");
            }
        }
    }

    private void identifier(String path, String name, String what) {
        if (name == null || name.isEmpty()) {
            add(path, "empty", "name " + what);
        } else if (name.getBytes(StandardCharsets.UTF_8).length > MAX_IDENT_BYTES) {
            add(path, "'" + name + "' is longer than PostgreSQL's 63-byte identifier limit", "use a shorter name");
        } else if (name.indexOf('\0') >= 0) {
            add(path, "contains a NUL character", "use a real identifier");
        }
    }

    private void positive(String path, Number n) {
        if (n.longValue() <= 0) {
            add(path, "must be positive, got " + n, "use a number greater than 0");
        }
    }

    private void notNegative(String path, Number n) {
        if (n.longValue() < 0) {
            add(path, "must not be negative, got " + n, "use 0 for no limit, or a positive rate");
        }
    }

    private void positive(String path, Duration d) {
        if (d.isNegative() || d.isZero()) {
            add(path, "must be a positive duration, got " + DurationText.format(d), "use e.g. 300ms, 5s, 5m, 24h or 7d");
        }
    }
}
