package dev.shapeshift.launcher;

import java.util.List;
import java.util.ServiceLoader;

/**
 * A picocli command that another jar adds to {@code shapeshift}: the all-in-one jar (module
 * toolkit) adds {@code demo} and {@code bench} this way, so the runtime jar neither holds nor names
 * them. An implementation is a {@code @Command} class with a public no-argument constructor, listed
 * in {@code META-INF/services/dev.shapeshift.launcher.ExtraCommand}.
 */
public interface ExtraCommand {

    /** The extra commands on the class path, in the order the service files list them. */
    static List<ExtraCommand> onClassPath() {
        return ServiceLoader.load(ExtraCommand.class).stream().map(ServiceLoader.Provider::get).toList();
    }
}
