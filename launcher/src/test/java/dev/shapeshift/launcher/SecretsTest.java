package dev.shapeshift.launcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every password and token comes through {@link Secrets}: a file wins over the environment, and neither is printed. */
class SecretsTest {
    @TempDir
    Path dir;

    @Test
    void aFileWinsOverTheEnvironmentAndLosesItsNewline() throws Exception {
        Path file = Files.writeString(dir.resolve("pw"), "  from-file\n");
        Map<String, String> env = Map.of("SECRET", " from-env ");
        assertThat(Secrets.fileOrEnv(file, env, "SECRET")).contains("from-file");
        assertThat(Secrets.fileOrEnv(null, env, "SECRET")).as("a variable is taken as it is").contains(" from-env ");
        assertThat(Secrets.fileOrEnv(null, Map.of(), "SECRET")).isEmpty();
    }

    @Test
    void anUnreadableFileIsAConfigurationErrorNamingTheFile() {
        Path missing = dir.resolve("no-such-file");
        assertThatThrownBy(() -> Secrets.fileOrEnv(missing, Map.of("SECRET", "x"), "SECRET"))
                .isInstanceOfSatisfying(ShapeshiftException.class,
                        e -> assertThat(e.code()).isEqualTo(ErrorCode.CONFIG_INVALID))
                .hasMessageContaining(missing.toString());
    }

    @Test
    void theDatabaseOptionsAndTheCoordinatorReadThroughIt() throws Exception {
        Path file = Files.writeString(dir.resolve("pw"), "s3cret-value\n");
        DbOptions db = new DbOptions();
        db.jdbcUrl = "jdbc:postgresql://127.0.0.1:1/none";
        db.passwordFile = file;
        db.env = Map.of("SHAPESHIFT_DB_PASSWORD", "not-this-one");
        assertThat(db.database().password()).isEqualTo("s3cret-value");
        db.passwordFile = null;
        assertThat(db.database().password()).isEqualTo("not-this-one");
        db.env = Map.of();
        assertThat(db.database().password()).as("no password at all").isEmpty();

        MainTest.Run status = MainTest.run("status", "--jdbc-url", "jdbc:postgresql://127.0.0.1:1/none",
                "--password-file", dir.resolve("absent").toString());
        assertThat(status.exit()).as(status.out() + status.err()).isEqualTo(15);
        assertThat(status.err()).contains("cannot read " + dir.resolve("absent"));

        MainTest.Run coordinator = MainTest.run("coordinator", "--jdbc-url", "jdbc:postgresql://127.0.0.1:1/none",
                "--admin-token-file", dir.resolve("absent-token").toString());
        assertThat(coordinator.exit()).as(coordinator.out() + coordinator.err()).isEqualTo(15);
        assertThat(coordinator.err()).contains("cannot read " + dir.resolve("absent-token"));
    }
}
