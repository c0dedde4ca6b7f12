package dev.shapeshift.spec;

/**
 * One thing wrong with a spec.
 *
 * @param path    the YAML field path, e.g. {@code target.columns[0].transform}
 * @param message what is wrong
 * @param fix     how to fix it
 */
public record SpecProblem(String path, String message, String fix) {

    /** {@code users.yaml: target.columns[0].transform: <what> — <fix>}. */
    public String describe(String origin) {
        return origin + ": " + path + ": " + message + (fix == null || fix.isEmpty() ? "" : " — " + fix);
    }
}
