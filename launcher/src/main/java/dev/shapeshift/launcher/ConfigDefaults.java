package dev.shapeshift.launcher;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Where an option not given on the command line takes its value from, in this order: the
 * environment variable {@code SHAPESHIFT_<OPTION>} (the option's longest name without its dashes,
 * upper case, {@code -} as {@code _}: {@code --jdbc-url} is {@code SHAPESHIFT_JDBC_URL},
 * {@code --db-user} is {@code SHAPESHIFT_DB_USER}); then the configuration file, a Java properties
 * file whose keys are the option names without dashes, optionally prefixed with the command
 * ({@code jdbc-url=…}, {@code worker.bootstrap=…}, {@code backfill.status.output=json}; the
 * prefixed key wins); then the option's built-in default. The file is {@code SHAPESHIFT_CONFIG}
 * if set (it must exist), else {@code ~/.shapeshift.properties} if it exists (picocli's
 * convention). Hidden options and the help options take no defaults. docs/cli.md, "Configuration".
 */
final class ConfigDefaults implements IDefaultValueProvider {
    static final String PREFIX = "SHAPESHIFT_";
    static final String CONFIG_VARIABLE = PREFIX + "CONFIG";

    private final Map<String, String> env;
    private final Properties file;

    ConfigDefaults(Map<String, String> env, Properties file) {
        this.env = env;
        this.file = file;
    }

    /** The defaults of this process: its environment and its configuration file, if any. */
    static ConfigDefaults of(Map<String, String> env, Path home) {
        String named = env.get(CONFIG_VARIABLE);
        Path path = named != null && !named.isBlank() ? Path.of(named) : home.resolve(".shapeshift.properties");
        Properties p = new Properties();
        if (named != null && !named.isBlank() || Files.isRegularFile(path)) {
            try (Reader r = Files.newBufferedReader(path)) {
                p.load(r);
            } catch (IOException e) {
                throw new ShapeshiftException(ErrorCode.CONFIG_INVALID, "cannot read the configuration file " + path
                        + " (" + CONFIG_VARIABLE + "): " + e + " — fix the path or unset " + CONFIG_VARIABLE);
            }
        }
        return new ConfigDefaults(env, p);
    }

    /** {@code --jdbc-url} → {@code SHAPESHIFT_JDBC_URL}. */
    static String variable(OptionSpec option) {
        return PREFIX + key(option).toUpperCase(Locale.ROOT).replace('-', '_');
    }

    /** {@code --jdbc-url} → {@code jdbc-url}. */
    static String key(OptionSpec option) {
        return option.longestName().replaceFirst("^-+", "");
    }

    static boolean configurable(ArgSpec arg) {
        return arg instanceof OptionSpec o && !o.hidden() && !o.usageHelp() && !o.versionHelp();
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        if (!configurable(arg)) {
            return null;
        }
        OptionSpec option = (OptionSpec) arg;
        String value = env.get(variable(option));
        if (value != null) {
            return value;
        }
        String command = option.command() == null ? "" : option.command().qualifiedName(".");
        int root = command.indexOf('.');
        if (root >= 0) {
            value = file.getProperty(command.substring(root + 1) + "." + key(option));
            if (value != null) {
                return value;
            }
        }
        return file.getProperty(key(option));
    }
}
