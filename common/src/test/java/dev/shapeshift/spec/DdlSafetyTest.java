package dev.shapeshift.spec;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shapeshift.embedded.UsersSpec;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The statement shapes of expand.ddl that lock or rewrite a busy table, and the ones that pass. */
class DdlSafetyTest {

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "CREATE INDEX users_email ON users (email)                                   | CREATE INDEX CONCURRENTLY IF NOT EXISTS",
        "create unique index users_slug on public.users (slug);                      | target.indexes with unique: true",
        "CREATE INDEX CONCURRENTLY users_email ON users (email)                      | IF NOT EXISTS <name>",
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS ON users (email)                    | IF NOT EXISTS <name>",
        "ALTER TABLE users ADD COLUMN token uuid DEFAULT gen_random_uuid()           | SET DEFAULT gen_random_uuid()",
        "ALTER TABLE users ADD COLUMN r float8 NOT NULL DEFAULT random()             | SET DEFAULT random()",
        "ALTER TABLE users ADD COLUMN n bigserial                                    | fill it through a target column transform",
        "ALTER TABLE users ADD COLUMN n int GENERATED ALWAYS AS IDENTITY             | fill it through a target column transform",
        "ALTER TABLE users ADD COLUMN d int GENERATED ALWAYS AS (id * 2) STORED      | make it a target column",
        "ALTER TABLE users ALTER COLUMN id TYPE bigint                               | add a new column of the new type",
        "ALTER TABLE users ALTER email SET DATA TYPE varchar(100)                    | add a new column of the new type",
        "ALTER TABLE users ALTER COLUMN email SET NOT NULL                           | notNull: true",
        "ALTER TABLE users ADD CONSTRAINT email_ok CHECK (email LIKE '%@%')         | append NOT VALID",
        "ALTER TABLE orders ADD FOREIGN KEY (user_id) REFERENCES users (id)          | append NOT VALID",
        "ALTER TABLE orders ADD COLUMN user_id bigint REFERENCES users (id)          | FOREIGN KEY … NOT VALID",
        "ALTER TABLE users ADD COLUMN age int CHECK (age > 0)                        | CHECK (…) NOT VALID",
        "ALTER TABLE users ADD CONSTRAINT users_slug UNIQUE (slug)                   | UNIQUE USING INDEX",
        "ALTER TABLE users ADD PRIMARY KEY (id)                                      | UNIQUE USING INDEX",
        "ALTER TABLE users SET TABLESPACE fast                                       | leave it out",
        "VACUUM FULL users                                                           | pg_repack",
        "CLUSTER users USING users_pkey                                              | pg_repack",
        "LOCK TABLE users IN ACCESS EXCLUSIVE MODE                                   | leave it out",
        "ALTER TABLE users ADD COLUMN a int, ALTER COLUMN b SET NOT NULL             | notNull: true",
    })
    void refusesAShapeThatLocksOrRewritesNamingTheSafeAlternative(String sql, String instead) {
        List<DdlSafety.Finding> found = DdlSafety.check(List.of(sql)).get(0);
        assertThat(found).as(sql).isNotEmpty();
        assertThat(found.get(0).instead()).contains(instead.strip());
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
        "ALTER TABLE users ADD COLUMN email_verified boolean",
        "ALTER TABLE users ADD COLUMN created timestamptz NOT NULL DEFAULT now()",
        "ALTER TABLE users ADD COLUMN status text DEFAULT 'random()' -- a literal, not a call",
        "ALTER TABLE users ADD COLUMN flag boolean NOT NULL DEFAULT false",
        "CREATE INDEX CONCURRENTLY IF NOT EXISTS users_email ON users (email)",
        "create unique index concurrently if not exists \"Users Slug\" on public.users (slug) where slug is not null",
        "ALTER TABLE users ADD CONSTRAINT email_ok CHECK (email LIKE '%@%') NOT VALID",
        "ALTER TABLE orders ADD CONSTRAINT orders_user FOREIGN KEY (user_id) REFERENCES users (id) NOT VALID",
        "ALTER TABLE users VALIDATE CONSTRAINT email_ok",
        "ALTER TABLE users ADD CONSTRAINT users_slug UNIQUE USING INDEX users_slug",
        "ALTER TABLE users ALTER COLUMN token SET DEFAULT gen_random_uuid()",
        "ALTER TABLE users ALTER COLUMN legacy DROP NOT NULL",
        "CREATE TABLE public.users_v2 (id bigint PRIMARY KEY, email text UNIQUE, CHECK (email <> ''))",
        "COMMENT ON COLUMN users.email IS 'CREATE INDEX x ON users (a)'",
        "/* ALTER TABLE users ALTER COLUMN id TYPE bigint */ ALTER TABLE users ADD COLUMN note text",
    })
    void passesStatementsThatNeitherScanNorRewrite(String sql) {
        assertThat(DdlSafety.check(List.of(sql)).get(0)).as(sql).isEmpty();
    }

    @Test
    void aTableCreatedEarlierInTheSameDdlIsNewAndEmpty() {
        List<List<DdlSafety.Finding>> found = DdlSafety.check(List.of(
                "CREATE TABLE menu_items_v2 (id bigint PRIMARY KEY, translate_key text)",
                "CREATE UNIQUE INDEX menu_items_v2_key ON menu_items_v2 (translate_key)",
                "ALTER TABLE public.menu_items_v2 ALTER COLUMN translate_key SET NOT NULL",
                "CREATE INDEX menu_items_label ON menu_items (label)"));
        assertThat(found.get(0)).isEmpty();
        assertThat(found.get(1)).isEmpty();
        assertThat(found.get(2)).isEmpty();
        assertThat(found.get(3)).as("the old table is not new").isNotEmpty();
    }

    @Test
    void theSpecCheckNamesTheStatementAndTheFixAndTheUnsafeReasonLetsItThrough() {
        String base = UsersSpec.yaml("idx", """
                expand:
                  ddl:
                    - ALTER TABLE users ADD COLUMN email_verified boolean
                    - CREATE INDEX users_verified ON users (email_verified)
                """);
        List<SpecProblem> problems = SpecValidator.checkStatic(new SpecReader().read("idx.yaml", base));
        assertThat(problems).singleElement().satisfies(p -> {
            assertThat(p.path()).isEqualTo("expand.ddl[1]");
            assertThat(p.message()).contains("without CONCURRENTLY");
            assertThat(p.fix()).contains("CREATE INDEX CONCURRENTLY IF NOT EXISTS").contains("expand.unsafe.reason");
        });
        String allowed = base + "  unsafe:\n    reason: 3k rows, written only by the nightly import\n";
        assertThat(SpecValidator.checkStatic(new SpecReader().read("idx.yaml", allowed))).isEmpty();
        String noReason = base + "  unsafe:\n    reason: ' '\n";
        assertThat(SpecValidator.checkStatic(new SpecReader().read("idx.yaml", noReason)))
                .extracting(SpecProblem::path).containsExactly("expand.unsafe.reason");
    }
}
