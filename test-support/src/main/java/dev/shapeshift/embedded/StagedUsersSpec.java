package dev.shapeshift.embedded;

/**
 * The spec the staged-structure tests migrate with, as YAML text: {@link UsersSpec}'s
 * {@code email_verified} made {@code NOT NULL DEFAULT false}, with two more staged columns, a
 * unique {@code slug} and an {@code org_ref} that references {@code orgs}. Plain text for the same
 * reasons as {@link UsersSpec}.
 *
 * <pre>
 * &lt;UsersSpec.yaml(name)&gt;
 *       notNull: true
 *       default: "false"
 *     - name: slug
 *       type: text
 *       transform: lower(email)
 *       unique: true
 *     - name: org_ref
 *       type: bigint
 *       transform: org_id
 *       references: {table: orgs, column: id}
 * &lt;more&gt;
 * </pre>
 */
public final class StagedUsersSpec {
    private StagedUsersSpec() {
    }

    /**
     * @param more appended as it is: more of {@code target} indented by two ({@code "  checks:\n"}
     *             ...), then top-level sections; each line ending in a newline
     */
    public static String yaml(String name, String more) {
        return UsersSpec.yaml(name) + """
                      notNull: true
                      default: "false"
                    - name: slug
                      type: text
                      transform: lower(email)
                      unique: true
                    - name: org_ref
                      type: bigint
                      transform: org_id
                      references: {table: orgs, column: id}
                """ + more;
    }
}
