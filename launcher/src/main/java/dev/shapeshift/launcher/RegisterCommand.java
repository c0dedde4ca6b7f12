package dev.shapeshift.launcher;

import dev.shapeshift.coordinator.register.Registrar;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;

/**
 * What the commands that register spec files ({@code start}, {@code apply}) declare: the catalog
 * command's options ({@link DbCommand}) and {@code --actor}, who registers (no {@code --reason}).
 */
abstract class RegisterCommand extends DbCommand implements Callable<Integer> {
    @Mixin
    AuditOptions.ActorOnly who = new AuditOptions.ActorOnly();

    /** The registrar these commands register with, as {@code --actor} ({@link StartCommand#registrar}). */
    Registrar registrar() {
        return StartCommand.registrar(db, who.actor);
    }
}
