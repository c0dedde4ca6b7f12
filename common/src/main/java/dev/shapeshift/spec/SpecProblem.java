package dev.shapeshift.spec;

/**
 * One thing wrong with a spec.
 *
 * @param path     the YAML field path, e.g. {@code target.columns[0].transform}; null for a YAML
 *                 syntax error, which has no field
 * @param message  what is wrong
 * @param fix      how to fix it
 * @param location {@code line:column} in the file (1-based) where the reader found it, or null
 *                 (problems found after parsing, by the validator, name the field only)
 */
public record SpecProblem(String path, String message, String fix, String location) {

    public SpecProblem(String path, String message, String fix) {
        this(path, message, fix, null);
    }

    /** {@code users.yaml:12:3: target.columns[0].transform: <what> — <fix>} (the location only when known). */
    public String describe(String origin) {
        return origin + (location == null ? "" : ":" + location) + ": " + (path == null ? "" : path + ": ") + message
                + (fix == null || fix.isEmpty() ? "" : " — " + fix);
    }
}
