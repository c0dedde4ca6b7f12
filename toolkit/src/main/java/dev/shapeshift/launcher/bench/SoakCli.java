package dev.shapeshift.launcher.bench;

import dev.shapeshift.launcher.Main;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;

/**
 * The soak's hand on the command line ({@link SoakBench}): {@code shapeshift …} run in this process
 * as a user's shell would, each call's exit code and what it said kept for the report (a repeated
 * refusal once).
 */
final class SoakCli {
    private final PrintStream out;
    private final DoubleSupplier minute;
    /** One line per call: minute, command (without the connection options), exit code, output. */
    final List<String> lines = new ArrayList<>();

    SoakCli(PrintStream out, DoubleSupplier minute) {
        this.out = out;
        this.minute = minute;
    }

    /** Runs the CLI in this process as a user's shell would; returns its exit code. */
    int run(List<String> args, boolean mustSucceed) {
        StringWriter sout = new StringWriter();
        StringWriter serr = new StringWriter();
        var cmd = Main.commandLine();
        cmd.setOut(new PrintWriter(sout, true));
        cmd.setErr(new PrintWriter(serr, true));
        int exit = cmd.execute(args.toArray(String[]::new));
        String shown = String.join(" ", args.subList(0, Math.min(args.size(), args.indexOf("--jdbc-url") >= 0
                ? args.indexOf("--jdbc-url") : args.size())));
        String said = (sout + " " + serr).strip().replaceAll("\\s+", " ");
        String line = String.format(Locale.ROOT, "%.1f min: shapeshift %s -> exit %d: %s", minute.getAsDouble(), shown, exit,
                said.length() > 300 ? said.substring(0, 300) + "…" : said);
        out.println("soak " + line);
        if (exit == 0 || lines.isEmpty() || !lines.get(lines.size() - 1).endsWith(said)) {
            lines.add(line);
        }
        if (mustSucceed && exit != 0) {
            throw new IllegalStateException("shapeshift " + shown + " exited " + exit + ": " + said);
        }
        return exit;
    }

    /** A phase command retried (its gate may still be closed: the quiet period) for up to 5 minutes. */
    void retry(List<String> args) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
        while (run(args, false) != 0) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("shapeshift " + args.get(0) + " " + args.get(1) + " did not succeed within 5 minutes");
            }
            Thread.sleep(3_000);
        }
    }

    /** {@code command} followed by the connection options {@code conn}. */
    static List<String> with(List<String> conn, String... command) {
        List<String> a = new ArrayList<>(List.of(command));
        a.addAll(conn);
        return a;
    }
}
