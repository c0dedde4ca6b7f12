package dev.shapeshift.coordinator.reconcile;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.refresh.Guards;
import dev.shapeshift.refresh.RefreshSql;
import dev.shapeshift.sinks.SinkRefresh;
import dev.shapeshift.spec.Column;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.Mode;
import dev.shapeshift.spec.ResolvedSpec;
import dev.shapeshift.spec.SinkTarget;
import dev.shapeshift.spec.SpecBuilder;
import dev.shapeshift.spec.Target;
import dev.shapeshift.spec.TargetColumn;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;
import org.junit.jupiter.api.Test;

/**
 * One row model: the refresh family (backfill, sync), the reconcile family and the sink/reverse
 * family render the same expression for every column. The expected expressions are written out
 * by hand here — the value a write stores, and that value as the live column holds it (cast to
 * its {@code format_type}, json as jsonb) — not taken from the renderer under test.
 */
class RowModelTest {
    private static final List<Column> BIGINT = List.of(new Column("id", "bigint"));
    private static final List<Column> COMPOSITE = List.of(new Column("tenant", "text"), new Column("id", "bigint"));
    private static final List<Column> UUID = List.of(new Column("id", "uuid"));

    /** A target column, its live type (null: not read), and the two expressions every family must render for it. */
    private record Col(TargetColumn column, String live, String written, String compared) {
    }

    private static final List<Col> COLUMNS = List.of(
            // typed, the live type spelled as the spec spells it: one cast
            new Col(new TargetColumn("verified", "boolean", "verified_at IS NOT NULL"), "boolean",
                    "((verified_at IS NOT NULL))::boolean", "((verified_at IS NOT NULL))::boolean"),
            // untyped: the write assigns, the comparison casts to the live type
            new Col(new TargetColumn("third", null, "price / 3"), "numeric(10,2)",
                    "(price / 3)", "((price / 3))::numeric(10,2)"),
            // a split: two columns from one
            new Col(new TargetColumn("first_name", "text", "split_part(name, ' ', 1)"), "text",
                    "((split_part(name, ' ', 1)))::text", "((split_part(name, ' ', 1)))::text"),
            new Col(new TargetColumn("last_name", "varchar(40)", "split_part(name, ' ', 2)"), "character varying(40)",
                    "((split_part(name, ' ', 2)))::varchar(40)",
                    "(((split_part(name, ' ', 2)))::varchar(40))::character varying(40)"),
            // a cast of a column to another type, spelled otherwise in the catalog
            new Col(new TargetColumn("code", "int", "code::int"), "integer", "((code::int))::int", "(((code::int))::int)::integer"),
            // json has no equality: compared as jsonb on every side
            new Col(new TargetColumn("doc", "json", "json_build_object('a', a)"), "json",
                    "((json_build_object('a', a)))::json", "(((json_build_object('a', a)))::json)::jsonb"));

    @Test
    void tableModeRefreshReconcileAndRoundTripRenderTheSameExpressions() {
        for (List<Column> key : List.of(BIGINT, COMPOSITE, UUID)) {
            ResolvedSpec resolved = resolved(Mode.TABLE, key, COLUMNS, null);
            String refresh = new RefreshSql(resolved, Guards.SYNC).forKeys();
            String backfill = new RefreshSql(resolved, Guards.BACKFILL).forRange(true, false);
            String reconcile = new DiffSql(resolved).forKeys();
            String roundTrip = new RefreshSql(resolved, Guards.SYNC).roundTripChunk(List.of(), true);
            String sink = new SinkRefresh(resolved).keysSql();
            for (int i = 0; i < COLUMNS.size(); i++) {
                Col c = COLUMNS.get(i);
                assertThat(refresh).as("sync writes %s", c.column().name()).contains(", " + c.written() + " AS __v" + i);
                assertThat(backfill).as("backfill writes %s", c.column().name()).contains(", " + c.written() + " AS __v" + i);
                assertThat(sink).as("the sink carries %s", c.column().name())
                        .contains(", (" + c.written() + ")::text AS \"" + c.column().name() + "\"");
                assertThat(reconcile).as("reconcile expects %s", c.column().name()).contains(", " + c.compared() + " AS __v" + i);
            }
            assertThat(roundTrip).as("the round trip recomputes every column as reconcile does")
                    .contains(" IS DISTINCT FROM (" + tuple(COLUMNS, Col::compared) + ", NULL) LIMIT ?)");
        }
    }

    @Test
    void inPlaceRefreshReconcileDualWriteCheckAndRoundTripCompareTheSameExpressions() {
        for (List<Column> key : List.of(BIGINT, COMPOSITE, UUID)) {
            ResolvedSpec resolved = resolved(Mode.IN_PLACE, key, COLUMNS, null);
            String update = new RefreshSql(resolved, Guards.SYNC).forKeys();
            String reconcile = new DiffSql(resolved).forKeys();
            String mismatches = new RefreshSql(resolved, Guards.SYNC).recordDualWriteMismatches();
            String roundTrip = new RefreshSql(resolved, Guards.SYNC).roundTripChunk(List.of("id", "price"), false);
            String expected = " IS DISTINCT FROM (" + tuple(COLUMNS, Col::compared) + ", NULL)";
            for (int i = 0; i < COLUMNS.size(); i++) {
                Col c = COLUMNS.get(i);
                String set = (i == 0 ? " SET " : ", ") + "\"" + c.column().name() + "\" = " + c.written()
                        + (i == COLUMNS.size() - 1 ? " FROM " : ", ");
                assertThat(update).as("the update writes %s", c.column().name()).contains(set);
            }
            assertThat(update).as("the update skips rows that hold the value already").contains(expected);
            assertThat(reconcile).contains(expected + " THEN 'different'");
            assertThat(mismatches).contains(expected);
            assertThat(roundTrip).contains(expected + " LIMIT ?)");
        }
    }

    @Test
    void sinkRefreshAndSinkReconcileReadTheSameExpressions() {
        for (List<Column> key : List.of(BIGINT, COMPOSITE, UUID)) {
            // A sink has no live column: every value is the written one.
            List<Col> columns = new ArrayList<>();
            for (Col c : COLUMNS) {
                columns.add(new Col(c.column(), null, c.written(), c.written()));
            }
            SinkRefresh sink = new SinkRefresh(resolved(Mode.SINK, key, columns, new SinkTarget("memory", Map.of())));
            String refresh = sink.keysSql();
            String observed = sink.observeKeysSql();
            for (Col c : columns) {
                String expr = ", (" + c.written() + ")::text AS \"" + c.column().name() + "\"";
                assertThat(refresh).contains(expr);
                assertThat(observed).contains(expr);
            }
        }
    }

    private static ResolvedSpec resolved(Mode mode, List<Column> key, List<Col> cols, SinkTarget sink) {
        List<TargetColumn> columns = cols.stream().map(Col::column).toList();
        Target target = new Target("app", mode == Mode.TABLE ? "users_v2" : null, columns, null, null, sink);
        MigrationSpec spec = SpecBuilder.spec("row-model").source("app", "users", key.stream().map(Column::name).toList())
                .mode(mode).target(target).build();
        Map<String, String> live = new LinkedHashMap<>();
        cols.stream().filter(c -> c.live() != null).forEach(c -> live.put(c.column().name(), c.live()));
        return new ResolvedSpec(spec, key, key, live);
    }

    private static String tuple(List<Col> cols, java.util.function.Function<Col, String> part) {
        StringJoiner t = new StringJoiner(", ");
        cols.forEach(c -> t.add(part.apply(c)));
        return t.toString();
    }
}
