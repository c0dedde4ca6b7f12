package dev.shapeshift.embedded;

/**
 * The spec file most tests migrate with, as YAML text: the README's example, a new boolean
 * {@code email_verified} on {@code public.users} derived from {@code legacy_verified_at}.
 * Plain text so that a test reads it exactly as a user's file is read (through {@code SpecReader},
 * a registration or the CLI), and so that tests of modules that do not see the spec classes can
 * write it to a file.
 *
 * <pre>
 * name: &lt;name&gt;
 * source:
 *   table: users
 * target:
 *   columns:
 *     - name: email_verified
 *       type: boolean
 *       transform: legacy_verified_at IS NOT NULL
 * &lt;more&gt;
 * </pre>
 */
public final class UsersSpec {
    private UsersSpec() {
    }

    /** The spec named {@code name}, every other section left to its default. */
    public static String yaml(String name) {
        return yaml(name, "");
    }

    /**
     * @param more top-level sections appended as they are ({@code mode: in-place}, {@code backfill:},
     *             {@code reconcile:} ...), each line ending in a newline
     */
    public static String yaml(String name, String more) {
        return withColumns(name, EMAIL_VERIFIED, more);
    }

    /** The same shape with another new column: {@code column} of {@code type} from {@code transform}. */
    public static String withColumn(String name, String column, String type, String transform) {
        return withColumns(name, column(column, type, transform), "");
    }

    /** The column item of {@link #yaml}: {@code email_verified}, a boolean from {@code legacy_verified_at}. */
    public static final String EMAIL_VERIFIED = column("email_verified", "boolean", "legacy_verified_at IS NOT NULL");

    /**
     * The staged items' columns (an in-place spec's): {@code email_verified} NOT NULL with a default,
     * a unique {@code slug}, and {@code org_ref} referencing {@code orgs.id}.
     */
    public static final String STAGED_COLUMNS = EMAIL_VERIFIED + """
                  notNull: true
                  default: "false"
            """ + column("slug", "text", "lower(email)") + """
                  unique: true
            """ + column("org_ref", "bigint", "org_id") + """
                  references: {table: orgs, column: id}
            """;

    /** One item of {@code target.columns}, indented as it stands there. */
    public static String column(String column, String type, String transform) {
        return """
                    - name: %s
                      type: %s
                      transform: %s
                """.formatted(column, type, transform);
    }

    /**
     * An in-place spec of {@code users}.
     *
     * @param columns the items of {@code target.columns} ({@link #column}, {@link #EMAIL_VERIFIED} ...)
     * @param rest    what follows them as it is: more of {@code target} (indented two spaces) and
     *                top-level sections, each line ending in a newline
     */
    public static String withColumns(String name, String columns, String rest) {
        return """
                name: %s
                source:
                  table: users
                target:
                  columns:
                %s%s""".formatted(name, columns, rest);
    }

    /** A table-mode spec: {@code users} into the new table {@code users_v2}; as {@link #withColumns}. */
    public static String tableMode(String name, String columns, String rest) {
        return """
                name: %s
                source:
                  table: users
                mode: table
                target:
                  table: users_v2
                  columns:
                %s%s""".formatted(name, columns, rest);
    }
}
