package dev.shapeshift.spec;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class SqlScannerTest {
    @Test
    void acceptsQuotedSemicolonsAndParentheses() {
        assertThat(SqlScanner.expression("lower(regexp_replace(label, '[^a-zA-Z0-9;)]+', '_', 'g'))").problem()).isEmpty();
        assertThat(SqlScanner.expression("$x$ ; ) $x$ || \"odd;col\" || E'it\\'s;'").problem()).isEmpty();
        assertThat(SqlScanner.expression("a /* ; ( /* nested */ */ + 1 -- ;\n").problem()).isEmpty();
    }

    @Test
    void rejectsSmuggledStatements() {
        assertThat(SqlScanner.expression("1); DROP TABLE users; --").problem()).get().asString().contains("';'");
        assertThat(SqlScanner.expression("1 ; select 2").problem()).get().asString().contains("';'");
        assertThat(SqlScanner.expression("1) AS x FROM t UNION SELECT (2").problem()).get().asString().contains("')'");
        assertThat(SqlScanner.expression("lower(a").problem()).get().asString().contains("'('");
        assertThat(SqlScanner.expression("'abc").problem()).get().asString().contains("unterminated string");
        assertThat(SqlScanner.expression("a /* x").problem()).get().asString().contains("unterminated /*");
        assertThat(SqlScanner.expression("$q$ abc").problem()).get().asString().contains("unterminated $q$");
    }

    @Test
    void findsCalledNames() {
        assertThat(SqlScanner.expression("lower(x) || pg_catalog.nextval('s') || \"Random\"() || coalesce(a, b)").functions())
                .containsExactly("lower", "nextval", "Random", "coalesce");
    }

    @Test
    void statementsMayEndWithOneSemicolon() {
        assertThat(SqlScanner.statement("ALTER TABLE t ADD COLUMN c int;").problem()).isEmpty();
        assertThat(SqlScanner.statement("ALTER TABLE t ADD COLUMN c int; -- done").problem()).isEmpty();
        assertThat(SqlScanner.statement("ALTER TABLE t ADD COLUMN c int; DROP TABLE t").problem()).isPresent();
    }
}
