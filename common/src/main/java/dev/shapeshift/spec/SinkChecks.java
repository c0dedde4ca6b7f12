package dev.shapeshift.spec;

import dev.shapeshift.error.ShapeshiftException;
import dev.shapeshift.sink.SettingProblem;
import dev.shapeshift.sink.SinkProvider;
import dev.shapeshift.sinks.SinkPlugins;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The checks of a {@code sink}-mode target: the new shape lives in another system, so nothing
 * about a table (name, schema, DDL, indexes, constraints) may be given, and the plugin named must
 * be installed and accept its settings (docs/sinks.md).
 */
final class SinkChecks {
    private SinkChecks() {
    }

    static void statics(MigrationSpec spec, Consumer<SpecProblem> add) {
        Target target = spec.target();
        String noTable = "a sink target has no table in this database; remove it";
        if (target.table() != null) {
            add.accept(new SpecProblem("target.table", "given in sink mode", noTable));
        }
        if (target.schema() != null) {
            add.accept(new SpecProblem("target.schema", "given in sink mode", noTable));
        }
        if (!target.indexes().isEmpty()) {
            add.accept(new SpecProblem("target.indexes", "given in sink mode: Shapeshift builds no index in another system",
                    "remove target.indexes; create what the other system needs in the sink plugin"));
        }
        if (!target.checks().isEmpty()) {
            add.accept(new SpecProblem("target.checks", "given in sink mode: Shapeshift enforces no constraint in another system",
                    "remove target.checks"));
        }
        if (!spec.expand().ddl().isEmpty()) {
            add.accept(new SpecProblem("expand.ddl", "given in sink mode: the expand of a sink changes nothing in the database",
                    "remove expand.ddl"));
        }
        for (int i = 0; i < target.columns().size(); i++) {
            TargetColumn c = target.columns().get(i);
            if (c == null) {
                continue;
            }
            String p = "target.columns[" + i + "]";
            String fix = "remove it: in sink mode a column has only name, transform and (optionally) type";
            if (c.notNull()) {
                add.accept(new SpecProblem(p + ".notNull", "given in sink mode", fix));
            }
            if (c.unique()) {
                add.accept(new SpecProblem(p + ".unique", "given in sink mode", fix));
            }
            if (c.references() != null) {
                add.accept(new SpecProblem(p + ".references", "given in sink mode", fix));
            }
            if (c.defaultValue() != null) {
                add.accept(new SpecProblem(p + ".default", "given in sink mode", fix));
            }
        }
        SinkTarget sink = target.sink();
        if (sink == null) {
            add.accept(new SpecProblem("target.sink", "missing: sink mode needs the plugin that writes the new shape",
                    "add 'sink: { name: <plugin>, settings: {...} }' under target (docs/sinks.md)"));
            return;
        }
        plugin(sink, add);
    }

    /** The plugin exists in this process and accepts the settings. */
    private static void plugin(SinkTarget sink, Consumer<SpecProblem> add) {
        if (sink.name() == null || sink.name().isBlank()) {
            add.accept(new SpecProblem("target.sink.name", "missing", "name the sink plugin, e.g. 'name: translation'"));
            return;
        }
        SinkPlugins plugins;
        try {
            plugins = SinkPlugins.installed();
        } catch (ShapeshiftException e) {
            add.accept(new SpecProblem("target.sink.name", "sink plugins cannot be loaded: " + e.getMessage(),
                    "fix the plugins directory (--plugins / " + SinkPlugins.ENV + ")"));
            return;
        }
        Optional<SinkProvider> provider = plugins.find(sink.name());
        if (provider.isEmpty()) {
            add.accept(new SpecProblem("target.sink.name", "no sink plugin named '" + sink.name() + "'"
                    + ClosestMatch.hint(sink.name(), plugins.names().equals("none") ? List.of()
                            : List.of(plugins.names().split(", "))) + " in " + plugins.from()
                    + " (found: " + plugins.names() + ")",
                    "install the plugin's jar in the plugins directory (--plugins DIR or " + SinkPlugins.ENV
                            + "), or name one of the plugins found"));
            return;
        }
        List<SettingProblem> problems;
        try {
            problems = provider.get().validate(sink.settings());
        } catch (RuntimeException e) {
            add.accept(new SpecProblem("target.sink.settings", "the plugin '" + sink.name()
                    + "' failed while checking its settings: " + e, "report it to the plugin's authors"));
            return;
        }
        for (SettingProblem p : problems) {
            String path = p.setting().isEmpty() ? "target.sink.settings" : "target.sink.settings." + p.setting();
            add.accept(new SpecProblem(path, p.problem(), p.fix()));
        }
    }
}
