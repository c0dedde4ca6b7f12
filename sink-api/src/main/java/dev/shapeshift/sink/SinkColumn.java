package dev.shapeshift.sink;

/**
 * A column of the new shape.
 *
 * @param name the column's name ({@code target.columns[].name})
 * @param type its PostgreSQL type as written in the spec, or "" when none was given; the values
 *        a sink receives are PostgreSQL's text form of that type
 */
public record SinkColumn(String name, String type) {
}
