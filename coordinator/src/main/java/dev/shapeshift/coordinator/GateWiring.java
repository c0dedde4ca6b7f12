package dev.shapeshift.coordinator;

import dev.shapeshift.catalog.Catalog;
import dev.shapeshift.coordinator.contract.AccessGate;
import dev.shapeshift.coordinator.contract.AccessWatch;
import dev.shapeshift.coordinator.gate.Gates;
import dev.shapeshift.coordinator.gate.Transitions;
import dev.shapeshift.db.Database;

/**
 * The gates as production runs them, with the contract gate fed by the database's own access
 * evidence ({@link AccessWatch} over pg_stat_statements). Every command, the API and the demo take
 * their gates from here, so none of them runs with a weaker contract gate by accident.
 */
public final class GateWiring {
    private GateWiring() {
    }

    public static Gates gates(Database db) {
        return new Gates(new AccessGate(new AccessWatch(db)));
    }

    public static Transitions transitions(Database db, String role) {
        return new Transitions(new Catalog(db, role), gates(db));
    }
}
