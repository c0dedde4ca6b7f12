package dev.shapeshift.coordinator.gate;

import dev.shapeshift.phase.PhasePlan;
import dev.shapeshift.spec.Writes;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.module.SimpleModule;
import dev.shapeshift.catalog.MigrationRecord;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.spec.Contract;
import dev.shapeshift.spec.DurationText;
import dev.shapeshift.spec.MigrationSpec;
import dev.shapeshift.spec.Switch;
import java.io.IOException;
import java.time.Duration;

/**
 * The parts of a migration's stored spec ({@code migration.spec}, durations in short form) the
 * gates and the flag need. Missing parts take the spec's defaults.
 */
public record StoredSpec(String flag, Switch readSwitch, Contract contract, Writes writes, String writeFlag) {
    public StoredSpec(String flag, Switch readSwitch, Contract contract) {
        this(flag, readSwitch, contract, Writes.none(), null);
    }

    /** The migration's phase order (with or without the write switch). */
    public PhasePlan plan() {
        return PhasePlan.of(writes);
    }

    private static final ObjectMapper MAPPER = JsonMapper.builder()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .addModule(new SimpleModule("shapeshift-stored-spec").addDeserializer(Duration.class, new JsonDeserializer<>() {
                @Override
                public Duration deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
                    return DurationText.parse(p.getValueAsString());
                }
            }))
            .build();

    public static StoredSpec of(MigrationRecord m) {
        MigrationSpec spec;
        try {
            spec = MAPPER.readValue(m.specJson() == null ? "{}" : m.specJson(), MigrationSpec.class);
        } catch (IOException | IllegalArgumentException e) {
            throw new ShapeshiftException(ErrorCode.SPEC_MALFORMED, "the stored spec of migration " + m.name()
                    + " is not readable: " + e.getMessage(), e);
        }
        String flag = spec.readSwitch().flag() != null ? spec.readSwitch().flag() : m.name() + ".read-new";
        String writeFlag = spec.writes().flag() != null ? spec.writes().flag() : m.name() + ".write-new";
        return new StoredSpec(flag, spec.readSwitch(), spec.contract(), spec.writes(), writeFlag);
    }
}
