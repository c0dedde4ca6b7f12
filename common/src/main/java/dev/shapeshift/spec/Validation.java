package dev.shapeshift.spec;

import java.util.List;

/**
 * The outcome of checking a spec.
 *
 * @param spec     the spec as read
 * @param problems everything wrong with it; empty means valid
 * @param live     whether the live checks against the database ran (false: static checks only)
 * @param resolved the spec with its key and source columns, when live and valid; otherwise null
 * @param expand   the expand DDL, when it could be rendered; otherwise null
 */
public record Validation(MigrationSpec spec, List<SpecProblem> problems, boolean live, ResolvedSpec resolved,
                         ExpandPlan expand) {
    public Validation {
        problems = List.copyOf(problems);
    }

    public boolean valid() {
        return problems.isEmpty();
    }
}
