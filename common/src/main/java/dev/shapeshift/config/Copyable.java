package dev.shapeshift.config;

import java.io.Serializable;
import java.lang.invoke.SerializedLambda;
import java.util.function.Function;

/**
 * A record that makes changed copies of itself, one component at a time:
 * {@code config.with(Config::tick).to(Duration.ofSeconds(2))}. The copy goes through the record's
 * canonical constructor, so it is validated like any other instance (a bad value is refused there,
 * with the record's own message). One way for every config record instead of a hand-written
 * {@code withX} method per component.
 *
 * <p>The component is named by its accessor ({@code Config::tick}); the accessor's name is read
 * from the method reference ({@link SerializedLambda}), so {@code V} is the component's exact type
 * and a value of another type does not compile.
 *
 * @param <R> the record itself
 */
public interface Copyable<R extends Record & Copyable<R>> {

    /** One of {@code R}'s components, named by its accessor, e.g. {@code Config::tick}. */
    @FunctionalInterface
    interface Component<R, V> extends Function<R, V>, Serializable {
    }

    /** The second half of {@link #with}: the value the copy's component gets. */
    @FunctionalInterface
    interface Change<R, V> {
        R to(V value);
    }

    /** A copy of this record with {@code component} changed: {@code with(Config::tick).to(d)}. */
    @SuppressWarnings("unchecked")
    default <V> Change<R, V> with(Component<R, V> component) {
        return value -> RecordCopier.copy((R) this, RecordCopier.accessorName(component), value);
    }
}
