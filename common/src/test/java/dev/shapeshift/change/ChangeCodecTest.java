package dev.shapeshift.change;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.refresh.Key;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The change event's wire form, including the old-shape mark of a table-mode write switch. */
class ChangeCodecTest {
    @Test
    void anOldShapeChangeKeepsItsMarkAndOthersDecodeUnmarked() {
        ChangeEvent old = new ChangeEvent("m", new Key(List.of("42")), 'u', 100L, 5L, 7L, true);
        assertThat(ChangeCodec.decode(ChangeCodec.encodeValue(old))).isEqualTo(old);
        ChangeEvent plain = new ChangeEvent("m", new Key(List.of("42")), 'u', 100L, 5L, 7L);
        byte[] wire = ChangeCodec.encodeValue(plain);
        assertThat(new String(wire, StandardCharsets.UTF_8)).doesNotContain("\"old\"");
        assertThat(ChangeCodec.decode(wire).oldShape()).isFalse();
    }

    @Test
    void aMarkThatIsNotABooleanIsAPoisonRecord() {
        byte[] wire = "{\"m\":\"m\",\"k\":[\"1\"],\"op\":\"u\",\"lsn\":1,\"ts\":1,\"tx\":1,\"old\":\"yes\"}"
                .getBytes(StandardCharsets.UTF_8);
        assertThatThrownBy(() -> ChangeCodec.decode(wire)).isInstanceOf(ShapeshiftException.class)
                .hasMessageContaining("field old is not a boolean");
    }
}
