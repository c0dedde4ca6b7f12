package dev.shapeshift.scenarios;

import java.nio.charset.StandardCharsets;
import java.util.List;


/**
 * The key shapes a scenario table can have. A key is generated from a number ({@code index}), and
 * its text form is exactly PostgreSQL's {@code ::text} of the column, so the checker can compare
 * keys as text. The column names are a convention every scenario's {@code schema.sql} follows.
 */
enum KeyKind {
    /** {@code id bigint}. */
    INT(List.of("id"), List.of("bigint")),
    /** {@code id text}. */
    TEXT(List.of("id"), List.of("text")),
    /** {@code id uuid}. */
    UUID(List.of("id"), List.of("uuid")),
    /** {@code (region text, n integer)}. */
    COMPOSITE(List.of("region", "n"), List.of("text", "integer"));

    final List<String> columns;
    final List<String> types;

    KeyKind(List<String> columns, List<String> types) {
        this.columns = columns;
        this.types = types;
    }

    /** The key's column values as PostgreSQL prints them. */
    List<String> key(long index) {
        return switch (this) {
            case INT -> List.of(Long.toString(index));
            case TEXT -> List.of(String.format("k-%09d", index));
            case UUID -> List.of(java.util.UUID.nameUUIDFromBytes(("key" + index).getBytes(StandardCharsets.UTF_8))
                    .toString());
            case COMPOSITE -> List.of("r" + (index % 7), Long.toString(index));
        };
    }

    /** {@code col1 = ?::type1 AND …}. */
    String predicate() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < columns.size(); i++) {
            b.append(i == 0 ? "" : " AND ").append(columns.get(i)).append(" = ?::").append(types.get(i));
        }
        return b.toString();
    }

    /** {@code col1 = ?::type1, …}. */
    String assignment() {
        return predicate().replace(" AND ", ", ");
    }

    /** {@code ?::type1, …}. */
    String placeholders() {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < types.size(); i++) {
            b.append(i == 0 ? "" : ", ").append("?::").append(types.get(i));
        }
        return b.toString();
    }

    static KeyKind parse(String s) {
        return valueOf(s.trim().toUpperCase(java.util.Locale.ROOT));
    }

}
