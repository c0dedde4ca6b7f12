package dev.shapeshift.spec;

/** A column as the live database describes it: name and {@code format_type} text. */
public record Column(String name, String type) {
}
