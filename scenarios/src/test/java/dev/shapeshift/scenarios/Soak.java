package dev.shapeshift.scenarios;

/** Size knobs: CI runs at scale 1; {@code -Dshapeshift.soak=true} means scale 10 unless {@code -Dshapeshift.scale} says otherwise. */
final class Soak {
    private Soak() {
    }

    static int scale() {
        String s = System.getProperty("shapeshift.scale", "").strip();
        int scale = s.isEmpty() ? 1 : Integer.parseInt(s);
        if (Boolean.getBoolean("shapeshift.soak") && scale == 1) {
            return 10;
        }
        return Math.max(1, scale);
    }

    /** {@code -Dshapeshift.seed=N} replays every scenario with that seed instead of its own. */
    static Long seedOverride() {
        String s = System.getProperty("shapeshift.seed", "").strip();
        return s.isEmpty() ? null : Long.parseLong(s);
    }
}
