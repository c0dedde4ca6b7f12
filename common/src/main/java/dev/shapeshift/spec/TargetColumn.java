package dev.shapeshift.spec;

/**
 * One column of the new shape.
 *
 * @param name      the column's name in the target
 * @param type      its SQL type; required when the expand DDL is generated, otherwise checked
 *                  against the column the DDL creates
 * @param transform one SQL expression over source columns, evaluated by PostgreSQL
 */
public record TargetColumn(String name, String type, String transform) {
}
