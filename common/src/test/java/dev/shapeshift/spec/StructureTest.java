package dev.shapeshift.spec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.embedded.UsersSpec;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The staged items of a spec, what the expand adds for them, and their static checks. */
class StructureTest {
    private static final String BASE = UsersSpec.withColumns("staged", UsersSpec.STAGED_COLUMNS, """
              indexes:
                - columns: [org_ref, slug]
                  where: slug <> ''
              checks:
                - expression: slug <> ''
                - name: slug_short
                  expression: length(slug) < 200
            """);

    private static MigrationSpec read(String yaml) {
        return new SpecReader().read("staged.yaml", yaml);
    }

    @Test
    void itemsComeInEnforcementOrderWithDefaultNames() {
        assertThat(Structure.items(read(BASE))).extracting(Structure.Item::label).containsExactly(
                "unique index users_slug_key", "index users_org_ref_slug_idx", "check users_check1", "check slug_short",
                "foreign key users_org_ref_fkey", "not null email_verified");
        assertThat(SpecValidator.checkStatic(read(BASE))).isEmpty();
    }

    @Test
    void theGeneratedExpandAddsTheDefaultButNoConstraintThatWouldCheckTheBackfill() {
        List<String> plan = ExpandPlan.withoutDatabase(read(BASE)).statements();
        assertThat(plan.get(0)).startsWith("ALTER TABLE \"public\".\"users\"").contains("ADD COLUMN \"slug\" text")
                .doesNotContain("DEFAULT");
        assertThat(plan).contains("ALTER TABLE \"public\".\"users\" ALTER COLUMN \"email_verified\" SET DEFAULT false");
        // A NOT VALID check or foreign key would check the backfill's writes: violators would fail chunks
        // instead of becoming findings. The enforcement adds them (addNotValid) after the finding query.
        assertThat(plan).noneMatch(s -> s.contains("CONSTRAINT")).noneMatch(s -> s.contains("REFERENCES"))
                .noneMatch(s -> s.contains("INDEX")).noneMatch(s -> s.contains("SET NOT NULL"));
        assertThat(plan).allMatch(s -> DdlSafety.check(List.of(s)).get(0).isEmpty());
        Structure.Item check = Structure.items(read(BASE)).stream().filter(i -> i.name().equals("users_check1")).findFirst()
                .orElseThrow();
        Structure.Item fk = Structure.items(read(BASE)).stream().filter(i -> i.name().equals("users_org_ref_fkey"))
                .findFirst().orElseThrow();
        assertThat(Structure.addNotValid(read(BASE), check))
                .isEqualTo("ALTER TABLE \"public\".\"users\" ADD CONSTRAINT \"users_check1\" CHECK (slug <> '') NOT VALID");
        assertThat(Structure.addNotValid(read(BASE), fk)).isEqualTo("ALTER TABLE \"public\".\"users\" ADD CONSTRAINT "
                + "\"users_org_ref_fkey\" FOREIGN KEY (\"org_ref\") REFERENCES \"public\".\"orgs\" (\"id\") NOT VALID");
    }

    @Test
    void staticProblemsNameTheFieldAndTheFix() {
        String noDefault = BASE.replace("      default: \"false\"\n", "");
        assertThat(SpecValidator.checkStatic(read(noDefault))).singleElement().satisfies(p -> {
            assertThat(p.path()).isEqualTo("target.columns[0].notNull");
            assertThat(p.fix()).contains("target.columns[0].default");
        });
        String badIndex = BASE.replace("columns: [org_ref, slug]", "columns: []").replace("slug <> ''\n  checks",
                "slug <> ''\n  checks");
        assertThat(SpecValidator.checkStatic(read(badIndex))).extracting(SpecProblem::path)
                .contains("target.indexes[0].columns");
        String badCheck = BASE.replace("length(slug) < 200", "length(slug) < 200; DROP TABLE users");
        assertThat(SpecValidator.checkStatic(read(badCheck))).extracting(SpecProblem::path)
                .containsExactly("target.checks[1].expression");
        String noRef = BASE.replace("{table: orgs, column: id}", "{table: orgs}");
        assertThat(SpecValidator.checkStatic(read(noRef))).extracting(SpecProblem::path)
                .containsExactly("target.columns[2].references.column");
        String twice = BASE.replace("name: slug_short", "name: users_check1");
        assertThat(SpecValidator.checkStatic(read(twice))).extracting(SpecProblem::message)
                .anyMatch(m -> m.contains("named users_check1"));
    }

    @Test
    void tableModeIndexColumnsMustBeTargetOrKeyColumns() {
        String table = """
                name: menu
                source:
                  table: menu_items
                  key: [id]
                mode: table
                target:
                  table: menu_items_v2
                  columns:
                    - name: translate_key
                      type: text
                      transform: lower(label)
                  indexes:
                    - columns: [translate_key, labl]
                      unique: true
                """;
        assertThat(SpecValidator.checkStatic(read(table))).singleElement().satisfies(p -> {
            assertThat(p.path()).isEqualTo("target.indexes[0].columns[1]");
            assertThat(p.message()).contains("\"labl\" is not a column of the target table");
        });
    }
}
