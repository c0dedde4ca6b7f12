package dev.shapeshift.launcher;

import dev.shapeshift.coordinator.contract.AccessWatch;
import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.io.PrintWriter;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code shapeshift replica add|list|remove}: the read replicas whose {@code pg_stat_statements}
 * the contract evidence reads (stored in the catalog, so the coordinator, {@code evidence} and the
 * API all see them). Replicas are connected to with the database's credentials: no password in the URL.
 */
@Command(name = "replica", mixinStandardHelpOptions = true,
        description = "Configure the read replicas the contract evidence watches.",
        subcommands = {ReplicaCommand.Add.class, ReplicaCommand.ListReplicas.class, ReplicaCommand.Remove.class})
public final class ReplicaCommand extends GroupCommand {

    @Command(name = "add", mixinStandardHelpOptions = true,
            description = "Watch a read replica (or point a name at another URL).")
    static final class Add extends Change {
        @Parameters(index = "0", paramLabel = "NAME", description = "A name for the replica, e.g. reporting-1.")
        String name;

        @Parameters(index = "1", paramLabel = "JDBC_URL", description = "jdbc:postgresql://HOST:PORT/DATABASE of the replica (same database, no password).")
        String url;

        @Override
        public Integer call() {
            new AccessWatch(db.database()).addReplica(name, url, why.actor);
            say("replica " + name + " added: the contract evidence reads pg_stat_statements at "
                    + dev.shapeshift.db.Database.redact(url) + " from its next look");
            return 0;
        }
    }

    /** A change to the watched replicas: the database and who (a reason may be given). */
    abstract static class Change extends AuditedCommand<AuditOptions.Optional> {
        Change() {
            super(new AuditOptions.Optional());
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "List the watched read replicas.")
    static final class ListReplicas extends DbCommand implements Callable<Integer> {

        @Override
        public Integer call() {
            Map<String, String> replicas = new AccessWatch(db.database()).replicas();
            PrintWriter out = command.commandLine().getOut();
            if (output.json()) {
                out.println(OutputFormat.json(replicas));
            } else {
                replicas.forEach((n, u) -> out.println(n + "  " + dev.shapeshift.db.Database.redact(u)));
                out.println(replicas.size() + " replica(s)");
            }
            out.flush();
            return 0;
        }
    }

    @Command(name = "remove", mixinStandardHelpOptions = true, description = "Stop watching a read replica.")
    static final class Remove extends Change {
        @Parameters(index = "0", paramLabel = "NAME", description = "The replica's name.")
        String name;

        @Override
        public Integer call() {
            if (!new AccessWatch(db.database()).removeReplica(name, why.actor)) {
                throw new ShapeshiftException(ErrorCode.NOT_FOUND, "no replica named " + name + " (shapeshift replica list)");
            }
            say("replica " + name + " removed");
            return 0;
        }
    }
}
