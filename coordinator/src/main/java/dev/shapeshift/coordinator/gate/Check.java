package dev.shapeshift.coordinator.gate;

/**
 * One piece of evidence a gate asks for.
 *
 * @param name     short and stable, e.g. {@code backfill-done}
 * @param evidence what was found, for people: {@code "backfill done: 40/40 chunks"}
 */
public record Check(String name, boolean passed, String evidence) {
    public static Check pass(String name, String evidence) {
        return new Check(name, true, evidence);
    }

    public static Check fail(String name, String evidence) {
        return new Check(name, false, evidence);
    }

    public static Check of(String name, boolean passed, String evidence) {
        return new Check(name, passed, evidence);
    }
}
