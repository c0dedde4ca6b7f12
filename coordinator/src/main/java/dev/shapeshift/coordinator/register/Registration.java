package dev.shapeshift.coordinator.register;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.phase.Phase;
import dev.shapeshift.spec.SpecProblem;
import java.util.List;

/**
 * What registering one spec did.
 *
 * @param origin      where the spec came from (file name, {@code request body})
 * @param migration   the spec's name; null when the spec could not be read
 * @param outcome     what happened
 * @param phase       the migration's phase now; null when nothing is registered under the name
 * @param message     one line for people, naming the file, the field and the fix when refused
 * @param problems    what is wrong with an {@link Outcome#INVALID} spec (empty when the YAML itself is
 *                    unreadable: then {@code message} says where)
 * @param differences the differing fields of a {@link Outcome#CONFLICT} or {@link Outcome#KNOBS_CHANGED}
 *                    spec, as {@code path (old → new)}
 * @param warnings    privileges a later step or another role will need (docs/deployment.md)
 */
public record Registration(String origin, String migration, Outcome outcome, Phase phase, String message,
                           List<SpecProblem> problems, List<String> differences, List<String> warnings) {

    public Registration {
        problems = List.copyOf(problems);
        differences = List.copyOf(differences);
        warnings = List.copyOf(warnings);
    }

    /** What registering did; {@code ApiRoutes} answers each with its HTTP status (docs/api.md). */
    public enum Outcome {
        /** New: in phase {@code planned}; the coordinator's driver takes it from there. */
        CREATED(null),
        /** The same spec is already registered: nothing changed. */
        UNCHANGED(null),
        /** Only live knobs differed: the catalog settings were changed, audited. */
        KNOBS_CHANGED(null),
        /** The spec is malformed or invalid (against itself, the live database or the role's privileges). */
        INVALID(ErrorCode.SPEC_INVALID),
        /** A migration of that name exists with a different spec: refused, nothing changed. */
        CONFLICT(ErrorCode.CONFLICT);

        private final ErrorCode error;

        Outcome(ErrorCode error) {
            this.error = error;
        }

        /** The error code of a refusal; null when the spec was accepted. */
        public ErrorCode error() {
            return error;
        }

        public boolean accepted() {
            return error == null;
        }
    }

    public boolean accepted() {
        return outcome.accepted();
    }
}
