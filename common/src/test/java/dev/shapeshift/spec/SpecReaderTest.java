package dev.shapeshift.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shapeshift.embedded.UsersSpec;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class SpecReaderTest {
    private final SpecReader reader = new SpecReader();

    static final String MINIMAL = UsersSpec.yaml("users-email-verified");

    private ShapeshiftException malformed(String yaml) {
        Throwable t = org.assertj.core.api.Assertions.catchThrowable(() -> reader.read("users.yaml", yaml));
        assertThat(t).isInstanceOf(ShapeshiftException.class);
        ShapeshiftException e = (ShapeshiftException) t;
        assertThat(e.code()).isEqualTo(ErrorCode.SPEC_MALFORMED);
        assertThat(e.getMessage()).startsWith("users.yaml:");
        return e;
    }

    @Test
    void readsMinimalSpecWithDefaults() {
        MigrationSpec s = reader.read("users.yaml", MINIMAL);
        assertThat(s.mode()).isEqualTo(Mode.IN_PLACE);
        assertThat(s.source().schema()).isEqualTo("public");
        assertThat(s.backfill().chunkRows()).isEqualTo(50_000);
        assertThat(s.contract().retention()).isEqualTo(Duration.ofDays(7));
        assertThat(s.flagName()).isEqualTo("users-email-verified.read-new");
    }

    @Test
    void readsDurationsInEveryForm() {
        MigrationSpec s = reader.read("x.yaml", MINIMAL + """
                backfill: {targetTransaction: 250ms, lockTimeout: PT2S}
                reconcile: {interval: 5m, recheckAfter: 30s}
                contract: {quietPeriod: 24h, retention: 14d}
                """);
        assertThat(s.backfill().targetTransaction()).isEqualTo(Duration.ofMillis(250));
        assertThat(s.backfill().lockTimeout()).isEqualTo(Duration.ofSeconds(2));
        assertThat(s.reconcile().interval()).isEqualTo(Duration.ofMinutes(5));
        assertThat(s.contract().retention()).isEqualTo(Duration.ofDays(14));
    }

    @Test
    void readsTheSwitchKeyword() {
        MigrationSpec s = reader.read("x.yaml", MINIMAL + "switch: {flag: users.new, maxLag: 2s}\n");
        assertThat(s.readSwitch().flag()).isEqualTo("users.new");
        assertThat(s.readSwitch().maxLag()).isEqualTo(Duration.ofSeconds(2));
    }

    @Test
    void malformedYamlNamesLineAndColumn() {
        ShapeshiftException e = malformed("name: a\nsource:\n  table: users\n   bad: 1\n");
        assertThat(e.getMessage()).startsWith("users.yaml:4:7: not valid YAML: mapping values are not allowed here")
                .contains("fix the YAML syntax");
    }

    @Test
    void unknownFieldSuggestsTheClosestAndListsValidFields() {
        ShapeshiftException e = malformed(MINIMAL + "backfill:\n  chunkRow: 5000\n");
        assertThat(e.getMessage())
                .startsWith("users.yaml:10:3: ")
                .contains("backfill.chunkRow: unknown field 'chunkRow' (did you mean chunkRows?)")
                .contains("the fields of backfill are: batchRows, chunkRows, lockTimeout, maxHeapGrowth");
    }

    /**
     * A malformed addition to {@link #MINIMAL}, and every part its error message must contain: the
     * path, what is wrong, what to write instead.
     */
    static Stream<Arguments> malformedAdditions() {
        return Stream.of(
                Arguments.of("unknown top-level field lists the top-level fields", "contracts: {}\n",
                        List.of("contracts: unknown field 'contracts' (did you mean contract?)",
                                "the fields of the top level are:", "switch")),
                Arguments.of("wrong type says what to write", "backfill:\n  chunkRows: lots\n",
                        List.of("backfill.chunkRows: 'lots' is not a whole number — write a whole number")),
                Arguments.of("fraction for a whole number is rejected", "backfill:\n  batchRows: 10.5\n",
                        List.of("backfill.batchRows:", "whole number")),
                Arguments.of("bad duration names the accepted forms", "backfill:\n  lockTimeout: 2 minutes\n",
                        List.of("backfill.lockTimeout: '2 minutes' is not", "300ms, 5s, 5m, 24h, 7d", "PT5M")),
                Arguments.of("unknown mode lists the modes", "mode: inplace\n", List.of("mode:", "in-place, table")),
                Arguments.of("scalar where a list is expected", "contract:\n  dropColumns: legacy_verified_at\n",
                        List.of("contract.dropColumns", "a list")),
                Arguments.of("a list's path has the index", "    - name: x\n      tpye: text\n      transform: '1'\n",
                        List.of("target.columns[1].tpye: unknown field 'tpye' (did you mean type?)")),
                Arguments.of("explicit empty list item is rejected", "contract:\n  dropColumns:\n    -\n",
                        List.of("users.yaml:11:6: contract.dropColumns[0]: empty value — give a value, or remove the line")),
                Arguments.of("explicit null is rejected", "backfill:\n  chunkRows: ~\n",
                        List.of("backfill.chunkRows: empty value")));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformedAdditions")
    void malformedAdditionIsRejectedSayingWhereAndWhatToWrite(String what, String addition, List<String> says) {
        assertThat(malformed(MINIMAL + addition).getMessage()).contains(says);
    }

    @Test
    void duplicateKeyIsRejected() {
        ShapeshiftException e = malformed(MINIMAL + "name: again\n");
        assertThat(e.getMessage()).containsIgnoringCase("duplicate").contains("name");
    }

    @Test
    void emptyFileIsRejected() {
        ShapeshiftException e = malformed("# nothing here\n");
        assertThat(e.getMessage()).contains("the file is empty");
    }

    @Test
    void everyStructuralProblemIsReportedInOneRun() {
        String yaml = """
                name: users-email-verified
                sorce:
                  table: users
                target:
                  columns:
                    - name: email_verified
                      tpye: boolean
                      transform: legacy_verified_at IS NOT NULL
                backfill:
                  chunkRows: lots
                  lockTimeout: 2 minutes
                contract:
                  retention: ~
                """;
        SpecReader.Reading r = reader.readAll(yaml);
        assertThat(r.problems()).extracting(p -> p.describe("users.yaml")).containsExactly(
                "users.yaml:2:1: sorce: unknown field 'sorce' (did you mean source?) — the fields of the top level are: "
                        + "backfill, contract, expand, mode, name, reconcile, source, switch, target, writes",
                "users.yaml:7:7: target.columns[0].tpye: unknown field 'tpye' (did you mean type?) — the fields of "
                        + "target.columns[0] are: default, name, notNull, references, transform, type, unique",
                "users.yaml:10:3: backfill.chunkRows: 'lots' is not a whole number — write a whole number",
                "users.yaml:11:3: backfill.lockTimeout: '2 minutes' is not " + DurationText.FORMS + " — write " + DurationText.FORMS,
                "users.yaml:13:14: contract.retention: empty value — give a value, or remove the line to get the default "
                        + "(see docs/spec.md)");
        assertThat(r.spec()).as("the rest is bound, with defaults for what was left out").isNotNull();
        assertThat(r.spec().name()).isEqualTo("users-email-verified");
        assertThat(r.spec().backfill().chunkRows()).isEqualTo(50_000);
        assertThat(r.dropped("backfill.chunkRows")).isTrue();
        assertThat(r.dropped("name")).isFalse();

        ShapeshiftException e = malformed(yaml);
        assertThat(e.getMessage().lines()).as("read() throws them all, one line each").hasSize(5);
    }

    @Test
    void aWellFormedSpecHasNoProblems() {
        SpecReader.Reading r = reader.readAll(MINIMAL);
        assertThat(r.problems()).isEmpty();
        assertThat(r.spec()).isEqualTo(reader.read("users.yaml", MINIMAL));
    }

    @Test
    void missingFileNamesThePath() {
        assertThatThrownBy(() -> reader.read(Path.of("/nonexistent/users.yaml")))
                .isInstanceOf(ShapeshiftException.class)
                .hasMessageContaining("users.yaml: no such file").hasMessageContaining("check the path");
    }
}
