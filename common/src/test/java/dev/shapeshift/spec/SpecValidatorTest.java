package dev.shapeshift.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

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
    void missingName() {
        SpecProblem p = only(problems(spec(null, SOURCE, TARGET, "")), "name");
        assertThat(p.message()).isEqualTo("missing");
        assertThat(p.fix()).contains("add a migration name");
    }

    @Test
    void nameThatIsNotASlug() {
        SpecProblem p = only(problems(spec("Users Email!", SOURCE, TARGET, "")), "name");
        assertThat(p.message()).contains("not a safe name").contains("Kafka topic");
        assertThat(p.fix()).contains("lower-case letters, digits");
    }

    @Test
    void missingSourceTable() {
        SpecProblem p = only(problems(spec("m", "source:\n  schema: app\n", TARGET, "")), "source.table");
        assertThat(p.fix()).contains("name the table to migrate");
    }

    @Test
    void missingSource() {
        assertThat(only(problems(spec("m", "", TARGET, "")), "source").fix()).contains("add 'source:'");
    }

    @Test
    void noTargetColumns() {
        SpecProblem p = only(problems(spec("m", SOURCE, "target:\n  columns: []\n", "")), "target.columns");
        assertThat(p.message()).isEqualTo("no target columns");
        assertThat(p.fix()).contains("add at least one column");
    }

    @Test
    void duplicateColumn() {
        SpecProblem p = only(problems(spec("m", SOURCE, TARGET + COLUMN, "")), "target.columns[1].name");
        assertThat(p.message()).contains("duplicate column 'email_verified'");
        assertThat(p.fix()).contains("distinct name");
    }

    @Test
    void emptyTransform() {
        SpecProblem p = only(problems(spec("m", SOURCE, "target:\n  columns:\n    - {name: a, type: int, transform: ' '}\n", "")),
                "target.columns[0].transform");
        assertThat(p.message()).isEqualTo("missing");
        assertThat(p.fix()).contains("one SQL expression");
    }

    @Test
    void smuggledStatementInTransform() {
        SpecProblem p = only(problems(spec("m", SOURCE,
                "target:\n  columns:\n    - {name: a, type: int, transform: '1); DROP TABLE users; --'}\n", "")),
                "target.columns[0].transform");
        assertThat(p.message()).contains("';' outside quotes");
        assertThat(p.fix()).contains("single SQL expression");
    }

    @Test
    void missingTypeWhenDdlIsGenerated() {
        SpecProblem p = only(problems(spec("m", SOURCE, "target:\n  columns:\n    - {name: a, transform: '1'}\n", "")),
                "target.columns[0].type");
        assertThat(p.message()).contains("expand DDL is generated");
        assertThat(p.fix()).contains("or write expand.ddl yourself");
        assertThat(problems(spec("m", SOURCE, "target:\n  columns:\n    - {name: a, transform: '1'}\n",
                "expand:\n  ddl: ['ALTER TABLE users ADD COLUMN a int']\n"))).isEmpty();
    }

    @Test
    void typeWithQuotesOrComment() {
        SpecProblem p = only(problems(spec("m", SOURCE,
                "target:\n  columns:\n    - {name: a, type: 'int -- x', transform: '1'}\n", "")), "target.columns[0].type");
        assertThat(p.fix()).contains("plain PostgreSQL type");
    }

    @Test
    void tableModeWithoutTargetTable() {
        SpecProblem p = only(problems(spec("m", SOURCE, TARGET, "mode: table\n")), "target.table");
        assertThat(p.message()).contains("table mode creates a new table");
        assertThat(p.fix()).contains("mode: in-place");
    }

    @Test
    void tableModeTargetIsSource() {
        SpecProblem p = only(problems(spec("m", SOURCE, "target:\n  table: users\n  columns:\n" + COLUMN, "mode: table\n")),
                "target.table");
        assertThat(p.message()).contains("is the source table");
    }

    @Test
    void inPlaceWithOtherTargetTable() {
        SpecProblem p = only(problems(spec("m", SOURCE, "target:\n  table: users_v2\n  columns:\n" + COLUMN, "")),
                "target.table");
        assertThat(p.fix()).contains("mode: table");
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
    void batchLargerThanChunk() {
        SpecProblem p = only(problems(spec("m", SOURCE, TARGET, "backfill: {chunkRows: 100, batchRows: 1000}\n")),
                "backfill.batchRows");
        assertThat(p.fix()).contains("at most chunkRows");
    }

    @Test
    void heapGrowthNotAboveOne() {
        SpecProblem p = only(problems(spec("m", SOURCE, TARGET, "backfill: {maxHeapGrowth: 1.0}\n")), "backfill.maxHeapGrowth");
        assertThat(p.message()).contains("greater than 1");
    }

    @Test
    void dropColumnThatIsATargetColumn() {
        SpecProblem p = only(problems(spec("m", SOURCE, TARGET, "contract: {dropColumns: [email_verified]}\n")),
                "contract.dropColumns[0]");
        assertThat(p.message()).contains("also a target column");
        assertThat(p.fix()).contains("never the new shape");
    }

    @Test
    void dropTableInPlace() {
        SpecProblem p = only(problems(spec("m", SOURCE, TARGET, "contract: {dropTable: true}\n")), "contract.dropTable");
        assertThat(p.fix()).contains("dropColumns");
    }

    @Test
    void multipleStatementsInOneDdlEntry() {
        SpecProblem p = only(problems(spec("m", SOURCE, TARGET,
                "expand:\n  ddl: ['ALTER TABLE users ADD COLUMN email_verified boolean; DROP TABLE users']\n")), "expand.ddl[0]");
        assertThat(p.fix()).contains("one statement per list entry");
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

    @Test
    void inPlaceReverseOfATargetColumnIsRefused() {
        String target = "target:\n  columns:\n" + COLUMN;
        String writes = "writes:\n  switch: true\n  reverse:\n    email_verified: 'true'\n";
        SpecProblem p = only(problems(spec("users-ev", SOURCE, target, writes)), "writes.reverse.email_verified");
        assertThat(p.message()).contains("is a target column");
    }
}
