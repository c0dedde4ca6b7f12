package dev.shapeshift.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Static validation: one bad spec per kind, each with its field path and hint asserted. */
class SpecValidatorTest {
    private final SpecReader reader = new SpecReader();

    private static final String COLUMN = """
                - name: email_verified
                  type: boolean
                  transform: legacy_verified_at IS NOT NULL
            """;

    private List<SpecProblem> problems(String yaml) {
        return SpecValidator.checkStatic(reader.read("users.yaml", yaml));
    }

    private static String spec(String name, String source, String target, String rest) {
        return (name == null ? "" : "name: " + name + "\n") + source + target + rest;
    }

    private static final String SOURCE = "source:\n  table: users\n";
    private static final String TARGET = "target:\n  columns:\n" + COLUMN;

    private SpecProblem only(List<SpecProblem> ps, String path) {
        assertThat(ps).extracting(SpecProblem::path).contains(path);
        return ps.stream().filter(p -> p.path().equals(path)).findFirst().orElseThrow();
    }

    @Test
    void examplesAreStaticallyValid() {
        for (String f : List.of("users-email-verified.yaml", "menu-translate-key.yaml")) {
            MigrationSpec s = reader.read(Path.of("..", "examples", f));
            assertThat(SpecValidator.checkStatic(s)).as(f).isEmpty();
        }
    }

    @Test
    void nameThatIsNotASlug() {
        SpecProblem p = only(problems(spec("Users Email!", SOURCE, TARGET, "")), "name");
        assertThat(p.message()).contains("not a safe name").contains("Kafka topic");
        assertThat(p.fix()).contains("lower-case letters, digits");
    }

    @Test
    void aTypeIsNotNeededWhenTheSpecWritesItsOwnExpandDdl() {
        assertThat(problems(spec("m", SOURCE, "target:\n  columns:\n    - {name: a, transform: '1'}\n",
                "expand:\n  ddl: ['ALTER TABLE users ADD COLUMN a int']\n"))).isEmpty();
    }

    /**
     * One bad spec per row: the path of its problem, and what the problem's message and fix contain
     * ({@code null}: that part not asserted); a {@code badExactly} row's message is the whole message.
     */
    static Stream<Arguments> badSpecs() {
        return Stream.of(
                badExactly("missing name", spec(null, SOURCE, TARGET, ""), "name", "missing", "add a migration name"),
                badExactly("no target columns", spec("m", SOURCE, "target:\n  columns: []\n", ""), "target.columns",
                        "no target columns", "add at least one column"),
                badExactly("empty transform", spec("m", SOURCE,
                        "target:\n  columns:\n    - {name: a, type: int, transform: ' '}\n", ""),
                        "target.columns[0].transform", "missing", "one SQL expression"),
                bad("missing type when the DDL is generated", spec("m", SOURCE,
                        "target:\n  columns:\n    - {name: a, transform: '1'}\n", ""), "target.columns[0].type",
                        "expand DDL is generated", "or write expand.ddl yourself"),
                bad("missing source table", spec("m", "source:\n  schema: app\n", TARGET, ""), "source.table",
                        null, "name the table to migrate"),
                bad("missing source", spec("m", "", TARGET, ""), "source", null, "add 'source:'"),
                bad("duplicate column", spec("m", SOURCE, TARGET + COLUMN, ""), "target.columns[1].name",
                        "duplicate column 'email_verified'", "distinct name"),
                bad("smuggled statement in a transform", spec("m", SOURCE,
                        "target:\n  columns:\n    - {name: a, type: int, transform: '1); DROP TABLE users; --'}\n", ""),
                        "target.columns[0].transform", "';' outside quotes", "single SQL expression"),
                bad("type with quotes or a comment", spec("m", SOURCE,
                        "target:\n  columns:\n    - {name: a, type: 'int -- x', transform: '1'}\n", ""),
                        "target.columns[0].type", null, "plain PostgreSQL type"),
                bad("table mode without a target table", spec("m", SOURCE, TARGET, "mode: table\n"), "target.table",
                        "table mode creates a new table", "mode: in-place"),
                bad("table mode's target is the source", spec("m", SOURCE, "target:\n  table: users\n  columns:\n" + COLUMN,
                        "mode: table\n"), "target.table", "is the source table", null),
                bad("in place with another target table", spec("m", SOURCE,
                        "target:\n  table: users_v2\n  columns:\n" + COLUMN, ""), "target.table", null, "mode: table"),
                bad("batch larger than the chunk", spec("m", SOURCE, TARGET, "backfill: {chunkRows: 100, batchRows: 1000}\n"),
                        "backfill.batchRows", null, "at most chunkRows"),
                bad("heap growth not above one", spec("m", SOURCE, TARGET, "backfill: {maxHeapGrowth: 1.0}\n"),
                        "backfill.maxHeapGrowth", "greater than 1", null),
                bad("dropping a column that is a target column", spec("m", SOURCE, TARGET,
                        "contract: {dropColumns: [email_verified]}\n"), "contract.dropColumns[0]", "also a target column",
                        "never the new shape"),
                bad("dropping the table in place", spec("m", SOURCE, TARGET, "contract: {dropTable: true}\n"),
                        "contract.dropTable", null, "dropColumns"),
                bad("several statements in one ddl entry", spec("m", SOURCE, TARGET,
                        "expand:\n  ddl: ['ALTER TABLE users ADD COLUMN email_verified boolean; DROP TABLE users']\n"),
                        "expand.ddl[0]", null, "one statement per list entry"),
                bad("in place, a reverse of a target column", spec("users-ev", SOURCE, "target:\n  columns:\n" + COLUMN,
                        "writes:\n  switch: true\n  reverse:\n    email_verified: 'true'\n"), "writes.reverse.email_verified",
                        "is a target column", null));
    }

    private static Arguments bad(String what, String yaml, String path, String message, String fix) {
        return Arguments.of(what, yaml, path, message, false, fix);
    }

    private static Arguments badExactly(String what, String yaml, String path, String message, String fix) {
        return Arguments.of(what, yaml, path, message, true, fix);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badSpecs")
    void aBadSpecIsAProblemAtItsPathSayingWhatIsWrongAndTheFix(String what, String yaml, String path, String message,
                                                               boolean wholeMessage, String fix) {
        SpecProblem p = only(problems(yaml), path);
        if (wholeMessage) {
            assertThat(p.message()).isEqualTo(message);
        } else if (message != null) {
            assertThat(p.message()).contains(message);
        }
        if (fix != null) {
            assertThat(p.fix()).contains(fix);
        }
    }

    @Test
    void nonPositiveSizesAndDurations() {
        List<SpecProblem> ps = problems(spec("m", SOURCE, TARGET,
                "backfill: {chunkRows: 0, batchRows: -1, targetTransaction: 0s, maxRowsPerSecond: -5}\n"
                        + "reconcile: {interval: 0ms, parallelism: 0}\n"));
        assertThat(only(ps, "backfill.chunkRows").message()).contains("must be positive, got 0");
        assertThat(only(ps, "backfill.batchRows").fix()).contains("greater than 0");
        assertThat(only(ps, "backfill.targetTransaction").message()).contains("positive duration");
        assertThat(only(ps, "backfill.maxRowsPerSecond").fix()).contains("0 for no limit");
        assertThat(only(ps, "reconcile.interval").message()).contains("positive duration");
        assertThat(only(ps, "reconcile.parallelism").message()).isEqualTo("must be between 1 and 16, got 0");
        assertThat(only(problems(spec("m", SOURCE, TARGET, "reconcile: {parallelism: 17}\n")), "reconcile.parallelism")
                .fix()).contains("such as 2");
    }

    @Test
    void collectsEveryProblemAndReportsThemTogether() {
        MigrationSpec s = reader.read("users.yaml", spec("Bad Name", "source: {}\n", "target: {columns: []}\n",
                "backfill: {chunkRows: 0}\n"));
        assertThatThrownBy(() -> SpecValidator.requireStaticallyValid("users.yaml", s))
                .isInstanceOfSatisfying(ShapeshiftException.class, e -> {
                    assertThat(e.code()).isEqualTo(ErrorCode.SPEC_INVALID);
                    assertThat(e.getMessage()).startsWith("users.yaml: 4 problems")
                            .contains("users.yaml: name: 'Bad Name' is not a safe name")
                            .contains("users.yaml: source.table: missing — name the table to migrate")
                            .contains("users.yaml: target.columns: no target columns")
                            .contains("users.yaml: backfill.chunkRows: must be positive");
                });
    }

    @Test
    void contractDeadlineAndCodeSearch() {
        MigrationSpec ok = reader.read("m.yaml", spec("m", SOURCE, TARGET, "contract: {deadline: 14d, codeSearch: [src, db/migration]}\n"));
        assertThat(ok.contract().deadline()).isEqualTo(java.time.Duration.ofDays(14));
        assertThat(ok.contract().codeSearch()).containsExactly("src", "db/migration");
        assertThat(SpecValidator.checkStatic(ok)).isEmpty();
        assertThat(only(problems(spec("m", SOURCE, TARGET, "contract: {deadline: 0s}\n")), "contract.deadline").fix())
                .isNotBlank();
        assertThat(only(problems(spec("m", SOURCE, TARGET, "contract: {codeSearch: [src, '']}\n")), "contract.codeSearch[1]")
                .message()).isEqualTo("empty");
    }

    @Test
    void writeSwitchInTableModeIsAcceptedAndItsReverseMayNameAColumnTheNewTableAlsoHas() {
        String table = "mode: table\ntarget:\n  table: users_v2\n  columns:\n" + COLUMN
                + "    - name: name\n      type: text\n      transform: name\n";
        String writes = "writes:\n  switch: true\n  reverse:\n    name: name\n"
                + "    legacy_verified_at: CASE WHEN email_verified THEN coalesce(legacy_verified_at, now()) END\n";
        assertThat(problems(spec("users-v2", SOURCE, table, writes))).isEmpty();
    }
}
