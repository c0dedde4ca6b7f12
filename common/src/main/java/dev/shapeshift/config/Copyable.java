package dev.shapeshift.config;

import java.io.Serializable;
import java.lang.invoke.SerializedLambda;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
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
        String name = accessorName(component);
        return value -> copy((R) this, name, value);
    }

    private static String accessorName(Component<?, ?> component) {
        try {
            Method writeReplace = component.getClass().getDeclaredMethod("writeReplace");
            writeReplace.setAccessible(true);
            return ((SerializedLambda) writeReplace.invoke(component)).getImplMethodName();
        } catch (ReflectiveOperationException | RuntimeException e) {
            throw new IllegalArgumentException("name a record component by its accessor (Config::tick), got "
                    + component.getClass().getName(), e);
        }
    }

    private static <R extends Record> R copy(R record, String name, Object value) {
        Class<?> type = record.getClass();
        RecordComponent[] components = type.getRecordComponents();
        Class<?>[] types = new Class<?>[components.length];
        Object[] args = new Object[components.length];
        boolean found = false;
        try {
            for (int i = 0; i < components.length; i++) {
                types[i] = components[i].getType();
                found |= components[i].getName().equals(name);
                args[i] = components[i].getName().equals(name) ? value : components[i].getAccessor().invoke(record);
            }
            if (!found) {
                throw new IllegalArgumentException(name + " is not a component of " + type.getName()
                        + ": name one by its accessor, e.g. " + type.getSimpleName() + "::" + components[0].getName());
            }
            @SuppressWarnings("unchecked")
            Constructor<R> canonical = (Constructor<R>) type.getDeclaredConstructor(types);
            return canonical.newInstance(args);
        } catch (InvocationTargetException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r; // the record's own validation, as its constructor threw it
            }
            throw new IllegalStateException("copying " + type.getName(), e.getCause());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("copying " + type.getName(), e);
        }
    }
}
