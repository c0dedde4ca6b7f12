package dev.shapeshift.sink;

import java.util.Objects;

/**
 * One thing wrong with a sink's settings, reported by validation as
 * {@code <file>: target.sink.settings.<setting>: <problem> — <fix>}.
 *
 * @param setting the setting's name (or "" for the settings as a whole)
 * @param problem what is wrong, e.g. "missing"
 * @param fix how to fix it, e.g. "give the service's base URL, e.g. http://translate:8080"
 */
public record SettingProblem(String setting, String problem, String fix) {
    public SettingProblem {
        Objects.requireNonNull(setting, "setting");
        Objects.requireNonNull(problem, "problem");
        Objects.requireNonNull(fix, "fix");
    }
}
