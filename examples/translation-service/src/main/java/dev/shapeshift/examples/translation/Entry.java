package dev.shapeshift.examples.translation;

/**
 * What the service holds for one key in one locale: the text (null for a tombstone), the version
 * it was written at, and who wrote it ({@code put} by a client, {@code fan-out} by the job).
 */
public record Entry(String key, String locale, String text, long version, boolean deleted, String origin) {
}
