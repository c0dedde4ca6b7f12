package dev.shapeshift.embedded;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;

/**
 * The comparison at the end of every independent check: the expected rows — transform(source)
 * computed by the test in Java or written by a person ({@code expected.sql}), never rendered by
 * Shapeshift — against the rows the target holds, key by key. Each test reads both sides its own
 * way (that is what keeps it independent of the code under test); this is only the counting, so
 * every check counts missing, stale and extra rows the same way.
 *
 * @param expectedRows rows the model expects
 * @param actualRows rows the target holds
 * @param missing expected keys the target lacks (or holds as not yet written, see {@link #compare(Map, Map, Predicate)})
 * @param stale keys whose target row differs from the expected one
 * @param extra target keys the model does not expect
 * @param examples the first {@value #EXAMPLES} differences, for the failure message
 */
public record ModelDiff(int expectedRows, int actualRows, int missing, int stale, int extra, List<String> examples) {
  /** How many differences a diff describes in words. */
  public static final int EXAMPLES = 5;

  public static <K, V> ModelDiff compare(Map<K, V> expected, Map<K, V> actual) {
    return compare(expected, actual, v -> false);
  }

  /**
   * @param notWritten a target row that counts as missing although its key is there (an in-place
   *     migration's row whose new columns are still empty)
   */
  public static <K, V> ModelDiff compare(Map<K, V> expected, Map<K, V> actual, Predicate<V> notWritten) {
    List<String> examples = new ArrayList<>();
    int missing = 0;
    int stale = 0;
    for (var e : expected.entrySet()) {
      V got = actual.get(e.getKey());
      if (got == null || notWritten.test(got)) {
        missing++;
        example(examples, "missing " + e.getKey());
      } else if (!Objects.equals(got, e.getValue())) {
        stale++;
        example(examples, "stale " + e.getKey() + " got " + got + " want " + e.getValue());
      }
    }
    int extra = 0;
    for (K k : actual.keySet()) {
      if (!expected.containsKey(k)) {
        extra++;
        example(examples, "extra " + k);
      }
    }
    return new ModelDiff(expected.size(), actual.size(), missing, stale, extra, List.copyOf(examples));
  }

  /**
   * Keys the application deleted (a confirmed commit) that the target holds again: a zombie is a
   * delete the pipeline lost. Described after the diff's own examples, within the same limit.
   */
  public static <K> int zombies(Collection<K> deleted, Map<K, ?> actual, List<String> examples) {
    int zombies = 0;
    for (K k : deleted) {
      if (actual.containsKey(k)) {
        zombies++;
        example(examples, "zombie (deleted key came back) " + k);
      }
    }
    return zombies;
  }

  public boolean clean() {
    return missing == 0 && stale == 0 && extra == 0;
  }

  /** Adds {@code s} unless {@value #EXAMPLES} examples are there already. */
  public static void example(List<String> examples, String s) {
    if (examples.size() < EXAMPLES) {
      examples.add(s);
    }
  }
}
