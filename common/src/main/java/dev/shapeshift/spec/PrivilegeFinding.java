package dev.shapeshift.spec;

/**
 * One privilege the connecting role lacks for a step of a migration.
 *
 * @param severity {@link Severity#ERROR}: the step is certain to fail, so the spec is refused;
 *                 {@link Severity#WARNING}: the step may run as another role (the cdc-bridge) or comes
 *                 much later (the contract's evidence), so it is reported but not refused
 * @param step     the step that needs it: expand, backfill, sync, cdc-bridge, contract
 * @param path     the spec field it concerns (as in {@link SpecProblem#path()})
 * @param message  what is missing and why the step needs it
 * @param grant    the exact statement an administrator runs to fix it
 */
public record PrivilegeFinding(Severity severity, String step, String path, String message, String grant) {

    public enum Severity { ERROR, WARNING }

    /** As a spec problem: the fix is the GRANT. */
    public SpecProblem problem() {
        return new SpecProblem(path, message, "as an administrator run: " + grant);
    }

    /** {@code warning: users.yaml: cdc-bridge: <what> — as an administrator run: <grant>}. */
    public String describe(String origin) {
        return (severity == Severity.ERROR ? "" : "warning: ") + origin + ": " + path + ": " + message
                + " — as an administrator run: " + grant;
    }
}
