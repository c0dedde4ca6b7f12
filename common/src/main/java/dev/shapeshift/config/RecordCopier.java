package dev.shapeshift.config;

import java.lang.invoke.SerializedLambda;
import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The reflection behind {@link Copyable#with}: which component a method reference names, and a copy
 * through the canonical constructor. Both are looked up once per call site and record type, since
 * the throttle's {@code Signals} are copied on every batch.
 */
final class RecordCopier {
    /** Accessor names by method-reference class: one class per call site of {@code with(X::y)}. */
    private static final Map<Class<?>, String> NAMES = new ConcurrentHashMap<>();
    private static final ClassValue<Shape> SHAPES = new ClassValue<>() {
        @Override
        protected Shape computeValue(Class<?> type) {
            return Shape.of(type);
        }
    };

    private RecordCopier() {
    }

    /** A record type's components, in order, and its canonical constructor. */
    private record Shape(RecordComponent[] components, Constructor<?> canonical) {
        static Shape of(Class<?> type) {
            RecordComponent[] components = type.getRecordComponents();
            Class<?>[] types = Arrays.stream(components).map(RecordComponent::getType).toArray(Class<?>[]::new);
            try {
                return new Shape(components, type.getDeclaredConstructor(types));
            } catch (NoSuchMethodException e) {
                throw new IllegalStateException("a record without its canonical constructor: " + type.getName(), e);
            }
        }
    }

    static String accessorName(Copyable.Component<?, ?> component) {
        return NAMES.computeIfAbsent(component.getClass(), lambda -> {
            try {
                Method writeReplace = lambda.getDeclaredMethod("writeReplace");
                writeReplace.setAccessible(true);
                return ((SerializedLambda) writeReplace.invoke(component)).getImplMethodName();
            } catch (ReflectiveOperationException | RuntimeException e) {
                throw new IllegalArgumentException("name a record component by its accessor (Config::tick), got "
                        + lambda.getName(), e);
            }
        });
    }

    static <R extends Record> R copy(R record, String name, Object value) {
        Class<?> type = record.getClass();
        Shape shape = SHAPES.get(type);
        RecordComponent[] components = shape.components();
        Object[] args = new Object[components.length];
        boolean found = false;
        try {
            for (int i = 0; i < components.length; i++) {
                boolean named = components[i].getName().equals(name);
                found |= named;
                args[i] = named ? value : components[i].getAccessor().invoke(record);
            }
            if (!found) {
                throw new IllegalArgumentException(name + " is not a component of " + type.getName()
                        + ": name one by its accessor, e.g. " + type.getSimpleName() + "::" + components[0].getName());
            }
            @SuppressWarnings("unchecked")
            R copy = (R) shape.canonical().newInstance(args);
            return copy;
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
