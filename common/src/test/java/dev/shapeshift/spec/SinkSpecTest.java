package dev.shapeshift.spec;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Sink-mode specs: the plugin must be installed and accept its settings; table-only fields are refused. */
class SinkSpecTest {
    private static final String HEAD = """
            name: menu-to-translations
            source: { table: menu_item }
            mode: sink
            """;

    private static List<String> problems(String yaml) {
        MigrationSpec spec = new SpecReader().read("menu.yaml", yaml);
        return SpecValidator.checkStatic(spec).stream().map(p -> p.describe("menu.yaml")).toList();
    }

    @Test
    void aValidSinkSpecPassesAndReadsItsSettingsAsText() {
        String yaml = HEAD + """
                target:
                  sink: { name: memory, settings: { store: menu, applyDelay: 5 } }
                  columns:
                    - { name: title, transform: upper(name) }
                    - { name: price_cents, type: bigint, transform: round(price * 100) }
                """;
        assertThat(problems(yaml)).isEmpty();
        MigrationSpec spec = new SpecReader().read("menu.yaml", yaml);
        assertThat(spec.mode()).isEqualTo(Mode.SINK);
        assertThat(spec.target().sink().settings()).containsEntry("applyDelay", "5").containsEntry("store", "menu");
        assertThat(ExpandPlan.withoutDatabase(spec).statements()).isEmpty();
    }

    @Test
    void anUnknownPluginIsNamedWithThePluginsFound() {
        List<String> p = problems(HEAD + """
                target:
                  sink: { name: memroy }
                  columns: [ { name: title, transform: upper(name) } ]
                """);
        assertThat(p).singleElement().asString()
                .startsWith("menu.yaml: target.sink.name: no sink plugin named 'memroy' (did you mean memory?)")
                .contains("(found: memory)")
                .contains("install the plugin's jar in the plugins directory (--plugins DIR or SHAPESHIFT_PLUGINS)");
    }

    @Test
    void thePluginChecksItsSettings() {
        List<String> p = problems(HEAD + """
                target:
                  sink: { name: memory, settings: { checkVersion: "no", applyDelay: soon } }
                  columns: [ { name: title, transform: upper(name) } ]
                """);
        assertThat(p).containsExactlyInAnyOrder(
                "menu.yaml: target.sink.settings.checkVersion: unknown setting — the memory sink's settings are: "
                        + "applyDelay, backoff, checkVersions, maxAttempts, maxBatchRows, store",
                "menu.yaml: target.sink.settings.store: missing — name the store, e.g. 'store: orders'",
                "menu.yaml: target.sink.settings.applyDelay: 'soon' is not a whole number — write a whole number");
    }

    @Test
    void sinkModeNeedsASinkAndRefusesTableFields() {
        List<String> p = problems(HEAD + """
                target:
                  table: menu_v2
                  indexes: [ { columns: [title] } ]
                  columns: [ { name: title, transform: upper(name), notNull: true } ]
                """);
        assertThat(p).anyMatch(s -> s.startsWith("menu.yaml: target.sink: missing: sink mode needs the plugin"))
                .anyMatch(s -> s.startsWith("menu.yaml: target.table: given in sink mode"))
                .anyMatch(s -> s.startsWith("menu.yaml: target.indexes: given in sink mode"))
                .anyMatch(s -> s.startsWith("menu.yaml: target.columns[0].notNull: given in sink mode"));
    }

    @Test
    void aSinkOutsideSinkModeIsRefused() {
        List<String> p = problems("""
                name: menu-to-translations
                source: { table: menu_item }
                mode: table
                target:
                  table: menu_v2
                  sink: { name: memory, settings: { store: x } }
                  columns: [ { name: title, type: text, transform: upper(name) } ]
                """);
        assertThat(p).containsExactly("menu.yaml: target.sink: given, but mode is table: only sink mode writes to a sink "
                + "— set 'mode: sink', or remove target.sink");
    }
}
