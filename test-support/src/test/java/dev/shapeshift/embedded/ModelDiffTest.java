package dev.shapeshift.embedded;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ModelDiffTest {

  @Test
  void countsMissingStaleAndExtraRowsKeyByKey() {
    Map<String, List<Object>> expected = Map.of("1", List.of(2, "A"), "2", List.of(4, "B"), "3", List.of(6, "C"));
    Map<String, List<Object>> actual = Map.of("1", List.of(2, "A"), "2", List.of(4, "b"), "9", List.of(0, "Z"));

    ModelDiff d = ModelDiff.compare(expected, actual);

    assertThat(d.expectedRows()).isEqualTo(3);
    assertThat(d.actualRows()).isEqualTo(3);
    assertThat(d.missing()).isEqualTo(1);
    assertThat(d.stale()).isEqualTo(1);
    assertThat(d.extra()).isEqualTo(1);
    assertThat(d.clean()).isFalse();
    assertThat(d.examples()).containsExactlyInAnyOrder("missing 3", "stale 2 got [4, b] want [4, B]", "extra 9");
  }

  @Test
  void equalSidesAreClean() {
    Map<String, List<Object>> rows = Map.of("1", List.of(2, "A"));
    assertThat(ModelDiff.compare(rows, Map.copyOf(rows)).clean()).isTrue();
  }

  @Test
  void aRowNotYetWrittenCountsAsMissing() {
    Map<String, String> expected = Map.of("1", "x", "2", "y");
    Map<String, String> actual = Map.of("1", "x", "2", "<null>");

    ModelDiff d = ModelDiff.compare(expected, actual, "<null>"::equals);

    assertThat(d.missing()).isEqualTo(1);
    assertThat(d.stale()).isZero();
  }

  @Test
  void describesAtMostFiveDifferencesAndZombiesAfterThem() {
    Map<Integer, String> expected = new java.util.HashMap<>();
    for (int i = 0; i < 10; i++) {
      expected.put(i, "v");
    }
    ModelDiff d = ModelDiff.compare(expected, Map.of(42, "v"));
    assertThat(d.missing()).isEqualTo(10);
    assertThat(d.extra()).isEqualTo(1);
    assertThat(d.examples()).hasSize(ModelDiff.EXAMPLES);

    List<String> examples = new ArrayList<>(List.of("first"));
    assertThat(ModelDiff.zombies(List.of(42, 43), Map.of(42, "v"), examples)).isEqualTo(1);
    assertThat(examples).containsExactly("first", "zombie (deleted key came back) 42");
  }
}
