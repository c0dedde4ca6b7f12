package dev.shapeshift.catalog;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** Flyway's connections carry Shapeshift's application_name, so the contract gate knows them. */
class CatalogSchemaTest {
    @Test
    void flywaysConnectionsAreNamedAsShapeshiftSessions() {
        assertThat(CatalogSchema.named("jdbc:postgresql://db:5432/app"))
                .isEqualTo("jdbc:postgresql://db:5432/app?ApplicationName=shapeshift-catalog-migrate&assumeMinServerVersion=10");
        assertThat(CatalogSchema.named("jdbc:postgresql://db/app?sslmode=require"))
                .isEqualTo("jdbc:postgresql://db/app?sslmode=require&ApplicationName=shapeshift-catalog-migrate&assumeMinServerVersion=10");
        assertThat(CatalogSchema.named("jdbc:postgresql://db/app?ApplicationName=mine")).as("an explicit name is kept")
                .isEqualTo("jdbc:postgresql://db/app?ApplicationName=mine");
    }
}
