package dev.shapeshift.embedded;

import java.util.Optional;

/** Reads an override from a system property, else from an environment variable. */
final class TestOverrides {

  private TestOverrides() {}

  static Optional<String> get(String property, String envVar) {
    String v = System.getProperty(property);
    if (v == null || v.isBlank()) {
      v = System.getenv(envVar);
    }
    return v == null || v.isBlank() ? Optional.empty() : Optional.of(v.strip());
  }
}
