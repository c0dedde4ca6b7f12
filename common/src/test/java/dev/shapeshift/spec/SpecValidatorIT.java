package dev.shapeshift.spec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.embedded.PostgresExtension;
import dev.shapeshift.embedded.PostgresServer;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Live validation against a real PostgreSQL: one bad spec per kind, each message asserted. */
@ExtendWith(PostgresExtension.class)
class SpecValidatorIT {
    private final PostgresServer pg;
    private Connection c;

    SpecValidatorIT(PostgresServer pg) {
        this.pg = pg;
    }

    @BeforeEach
    void schema() throws SQLException {
        c = pg.connect(pg.createDatabase("spec"));
        try (Statement s = c.createStatement()) {
            s.execute("CREATE TABLE users (id bigint PRIMARY KEY, email text, legacy_verified_at timestamptz, age int)");
            s.execute("CREATE TABLE menu_items (id bigint PRIMARY KEY, label text NOT NULL, price numeric(10,2))");
            s.execute("CREATE TABLE events (seq bigint, tenant int NOT NULL, code text NOT NULL, note text)");
            s.execute("CREATE UNIQUE INDEX events_tenant_code ON events (tenant, code)");
            s.execute("CREATE UNIQUE INDEX events_note ON events (note)");
            s.execute("INSERT INTO users VALUES (1, 'a@example.com', now(), 30)");
        }
    }

    @AfterEach
    void close() throws SQLException {
        c.close();
    }

    private Validation check(String yaml) {
        return SpecValidator.check(new SpecReader().read("users.yaml", yaml), c);
    }

    private static String inPlace(String table, String columns, String rest) {
        return "name: m\nsource:\n  table: " + table + "\ntarget:\n  columns:\n" + columns + rest;
    }

    private static String col(String name, String type, String transform) {
        return "    - name: " + name + "\n" + (type == null ? "" : "      type: " + type + "\n")
                + "      transform: \"" + transform.replace("\"", "\\\"") + "\"\n";
    }

    private static final String VERIFIED = col("email_verified", "boolean", "legacy_verified_at IS NOT NULL");

    private SpecProblem problem(Validation v, String path) {
        assertThat(v.valid()).isFalse();
        assertThat(v.problems()).extracting(SpecProblem::path).contains(path);
        return v.problems().stream().filter(p -> p.path().equals(path)).findFirst().orElseThrow();
    }

    @Test
    void theExamplesResolve() throws SQLException {
        for (String f : List.of("users-email-verified.yaml", "menu-translate-key.yaml")) {
            Validation v = SpecValidator.check(new SpecReader().read(java.nio.file.Path.of("..", "examples", f)), c);
            assertThat(v.problems()).as(f).isEmpty();
            assertThat(v.live()).isTrue();
            assertThat(v.resolved().keyNames()).containsExactly("id");
            assertThat(v.expand().origin()).isEqualTo(ExpandPlan.Origin.GENERATED);
        }
        Validation v = SpecValidator.check(new SpecReader().read(java.nio.file.Path.of("..", "examples", "users-email-verified.yaml")), c);
        assertThat(v.expand().script()).isEqualTo("ALTER TABLE \"public\".\"users\"\n  ADD COLUMN \"email_verified\" boolean;");
        assertThat(c.getAutoCommit()).isTrue();
    }

    @Test
    void unknownTableSuggestsTheClosest() {
        SpecProblem p = problem(check(inPlace("user", VERIFIED, "")), "source.table");
        assertThat(p.message()).isEqualTo("table \"user\" does not exist in schema public (did you mean users?)");
    }

    @Test
    void unknownKeyColumn() {
        SpecProblem p = problem(check(inPlace("users", VERIFIED, "").replace("table: users", "table: users\n  key: [ids]")),
                "source.key[0]");
        assertThat(p.message()).contains("column \"ids\" does not exist in public.users (did you mean id?)");
    }

    @Test
    void keyThatIsNotUnique() {
        SpecProblem p = problem(check(inPlace("users", VERIFIED, "").replace("table: users", "table: users\n  key: [email]")),
                "source.key");
        assertThat(p.message()).contains("(email) is not a key of public.users: no primary key or unique index");
        assertThat(p.fix()).contains("candidates: (id)");
    }

    @Test
    void keyWithNullableColumns() {
        SpecProblem p = problem(check(inPlace("events", col("n2", "text", "upper(note)"), "")
                .replace("table: events", "table: events\n  key: [note]")), "source.key");
        assertThat(p.message()).contains("allow NULL");
    }

    @Test
    void tableWithoutPrimaryKeyAndNoKeyGiven() {
        SpecProblem p = problem(check(inPlace("events", col("n2", "text", "upper(note)"), "")), "source.key");
        assertThat(p.message()).isEqualTo("table public.events has no primary key");
        assertThat(p.fix()).contains("candidates: (tenant, code)").doesNotContain("(note)");
        Validation ok = check(inPlace("events", col("n2", "text", "upper(note)"), "")
                .replace("table: events", "table: events\n  key: [code, tenant]"));
        assertThat(ok.problems()).isEmpty();
        assertThat(ok.resolved().keyNames()).containsExactly("code", "tenant");
    }

    @Test
    void unknownColumnInTransformSuggestsTheClosest() {
        SpecProblem p = problem(check(inPlace("users", col("email_verified", "boolean", "legacy_verifed_at IS NOT NULL"), "")),
                "target.columns[0].transform");
        assertThat(p.describe("users.yaml")).startsWith("users.yaml: target.columns[0].transform: column \"legacy_verifed_at\""
                + " does not exist in public.users (did you mean legacy_verified_at?) — fix the expression");
    }

    /**
     * Transforms refused by their own check, each message starting with why: one that does not
     * parse, a ')' that would open a select list, a volatile function.
     */
    @ParameterizedTest(name = "{1}")
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            int    | CASE age WHEN 1 THEN 2 | does not parse: syntax error
            int    | 1), (2                 | contains a ')' without its '('
            float8 | random() + age         | calls volatile function(s) random
            """)
    void aTransformThatCannotBeUsedIsRefusedSayingWhy(String type, String transform, String says) {
        SpecProblem p = problem(check(inPlace("users", col("x", type, transform), "")), "target.columns[0].transform");
        assertThat(p.message()).startsWith(says);
    }

    @Test
    void smuggledSecondStatementNeverRuns() throws SQLException {
        Validation v = check(inPlace("users", col("x", "int", "1); DROP TABLE menu_items; --"), ""));
        assertThat(problem(v, "target.columns[0].transform").message()).contains("';' outside quotes");
        Validation v2 = check(inPlace("users", col("x", "int", "1) FROM users; DROP TABLE menu_items; SELECT (1"), ""));
        assertThat(problem(v2, "target.columns[0].transform").message()).contains("';' outside quotes");
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT count(*) FROM menu_items")) {
            assertThat(rs.next()).isTrue();
        }
    }

    @Test
    void typeMismatchWithExistingColumn() throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("ALTER TABLE users ADD COLUMN email_len integer");
        }
        SpecProblem p = problem(check(inPlace("users", col("email_len", "integer", "email"), "")), "target.columns[0].transform");
        assertThat(p.message()).contains("type mismatch").contains("integer").contains("text");
        Validation ok = check(inPlace("users", col("email_len", "integer", "length(email)"), ""));
        assertThat(ok.problems()).isEmpty();
        assertThat(ok.expand().origin()).isEqualTo(ExpandPlan.Origin.ALREADY_APPLIED);
    }

    @Test
    void invalidTypeName() {
        SpecProblem p = problem(check(inPlace("users", col("x", "booleen", "true"), "")), "target.columns[0].type");
        assertThat(p.message()).isEqualTo("type \"booleen\" does not exist");
    }

    @Test
    void dropColumnThatDoesNotExist() {
        SpecProblem p = problem(check(inPlace("users", VERIFIED, "contract: {dropColumns: [legacy_verified]}\n")),
                "contract.dropColumns[0]");
        assertThat(p.message()).contains("does not exist in public.users (did you mean legacy_verified_at?)");
    }

    @Test
    void partlyExistingTargetColumns() throws SQLException {
        try (Statement s = c.createStatement()) {
            s.execute("ALTER TABLE users ADD COLUMN email_verified boolean");
        }
        SpecProblem p = problem(check(inPlace("users", VERIFIED + col("y", "int", "age"), "")), "target.columns");
        assertThat(p.message()).contains("partly there");
        SpecProblem q = problem(check(inPlace("users", VERIFIED, "expand:\n  ddl: ['ALTER TABLE users ADD COLUMN email_verified boolean']\n")),
                "target.columns");
        assertThat(q.message()).contains("already exist");
    }

    @Test
    void tableModeGeneratesCreateTableAndRefusesAnExistingTableWithCustomDdl() {
        String spec = "name: m\nmode: table\nsource: {table: menu_items}\ntarget:\n  table: menu_items_v2\n  columns:\n"
                + col("translate_key", "text", "lower(label)");
        Validation v = check(spec);
        assertThat(v.problems()).isEmpty();
        assertThat(v.expand().script()).isEqualTo("CREATE TABLE \"public\".\"menu_items_v2\" (\n  \"id\" bigint NOT NULL,\n"
                + "  \"translate_key\" text,\n  PRIMARY KEY (\"id\")\n);");
        SpecProblem p = problem(check(spec.replace("menu_items_v2", "users") + "expand:\n  ddl: ['CREATE TABLE x (id int)']\n"),
                "target.table");
        assertThat(p.message()).contains("already exists");
    }

    @Test
    void allProblemsAreReportedTogether() {
        Validation v = check(inPlace("users", col("a", "booleen", "nope") + col("b", "int", "age"),
                "contract: {dropColumns: [gone]}\nbackfill: {chunkRows: 0}\n"));
        assertThat(v.problems()).extracting(SpecProblem::path).containsExactlyInAnyOrder(
                "backfill.chunkRows", "target.columns[0].type", "target.columns[0].transform", "contract.dropColumns[0]");
    }

    @Test
    void stagedStructureIsCheckedAgainstTheDatabase() {
        String slug = "    - name: slug\n      type: text\n      transform: lower(email)\n";
        Validation ok = check(inPlace("users", VERIFIED + slug, "  indexes:\n    - columns: [slug, age]\n      unique: true\n"
                + "      where: age > 0\n  checks:\n    - expression: slug <> email\n"));
        assertThat(ok.problems()).isEmpty();

        SpecProblem unknown = problem(check(inPlace("users", VERIFIED + slug, "  indexes:\n    - columns: [slugg]\n")),
                "target.indexes[0].columns[0]");
        assertThat(unknown.message()).contains("\"slugg\" is not a column of the target table").contains("slug");
        assertThat(unknown.fix()).contains("email_verified");

        SpecProblem badCheck = problem(check(inPlace("users", VERIFIED + slug, "  checks:\n    - expression: slug > 3 +\n")),
                "target.checks[0].expression");
        assertThat(badCheck.message()).contains("rejected by PostgreSQL");
        SpecProblem badType = problem(check(inPlace("users", VERIFIED + slug, "  checks:\n    - expression: nosuch > 1\n")),
                "target.checks[0].expression");
        assertThat(badType.message()).contains("nosuch");

        String fk = "    - name: owner\n      type: bigint\n      transform: age\n      references: {table: events, column: seq}\n";
        SpecProblem noKey = problem(check(inPlace("users", VERIFIED + fk, "")), "target.columns[1].references.column");
        assertThat(noKey.message()).contains("no primary key or unique index on exactly (seq)");
        SpecProblem noTable = problem(check(inPlace("users", VERIFIED + fk.replace("events", "evnts"), "")),
                "target.columns[1].references.table");
        assertThat(noTable.message()).contains("does not exist").contains("events");
        String goodFk = fk.replace("events, column: seq", "menu_items, column: id");
        assertThat(check(inPlace("users", VERIFIED + goodFk, "")).problems()).isEmpty();

        SpecProblem badDefault = problem(check(inPlace("users", VERIFIED + "      default: \"'maybe'\"\n", "")),
                "target.columns[0].default");
        assertThat(badDefault.message()).contains("rejected by PostgreSQL");
    }
}
