package dev.shapeshift.spec;

import com.fasterxml.jackson.annotation.JsonValue;
import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * An enum spelled in YAML, JSON, the catalog and the CLI as its constant's name in lower case with
 * hyphens ({@code IN_PLACE}: {@code in-place}). Jackson writes it by {@link #label()}; each enum
 * reads it back in its own {@code @JsonCreator} through {@link #parse} or {@link #parseListing}.
 */
public interface Labelled {

    /** The constant's name ({@link Enum#name()}). */
    String name();

    /** How the constant is spelled outside Java: {@code DUAL_WRITES_FIRST} is {@code dual-writes-first}. */
    @JsonValue
    default String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The constant of {@code type} spelled {@code label}; refused with "unknown WHAT 'label'" otherwise. */
    static <E extends Enum<E> & Labelled> E parse(Class<E> type, String what, String label) {
        for (E e : type.getEnumConstants()) {
            if (e.label().equals(label)) {
                return e;
            }
        }
        throw new IllegalArgumentException("unknown " + what + " '" + label + "'");
    }

    /** Like {@link #parse}, with the labels it takes listed in the refusal. */
    static <E extends Enum<E> & Labelled> E parseListing(Class<E> type, String what, String label) {
        try {
            return parse(type, what, label);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage() + "; expected one of "
                    + Arrays.stream(type.getEnumConstants()).map(Labelled::label).collect(Collectors.joining(", ")));
        }
    }
}
