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
        return withColumn(name, "email_verified", "boolean", "legacy_verified_at IS NOT NULL") + more;
    }

    /** The same shape with another new column: {@code column} of {@code type} from {@code transform}. */
    public static String withColumn(String name, String column, String type, String transform) {
        return """
                name: %s
                source:
                  table: users
                target:
                  columns:
                    - name: %s
                      type: %s
                      transform: %s
                """.formatted(name, column, type, transform);
    }
}
