package dev.shapeshift.launcher;

import dev.shapeshift.coordinator.api.ApiTls;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Option;

/**
 * Who may call the coordinator's API and how: the admin and read-only tokens (from files or the
 * environment, never from the command line, never printed) and HTTPS (a PEM certificate and key).
 */
final class ApiAccessOptions {
    @Option(names = "--admin-token-file", paramLabel = "FILE", description = "File holding the admin token (else env SHAPESHIFT_ADMIN_TOKEN).")
    Path adminTokenFile;

    @Option(names = "--read-token-file", paramLabel = "FILE", description = "File holding the read-only token (else env SHAPESHIFT_READ_TOKEN; optional).")
    Path readTokenFile;

    @Option(names = "--tls-cert-file", paramLabel = "FILE", description = "PEM certificate (chain) for HTTPS; with "
            + "--tls-key-file the port speaks HTTPS only (env SHAPESHIFT_TLS_CERT_FILE).")
    Path tlsCertFile;

    @Option(names = "--tls-key-file", paramLabel = "FILE", description = "PEM private key of --tls-cert-file, "
            + "unencrypted (env SHAPESHIFT_TLS_KEY_FILE).")
    Path tlsKeyFile;

    Map<String, String> env = System.getenv();

    /** The admin token, or null when neither the file nor {@code SHAPESHIFT_ADMIN_TOKEN} gives one. */
    String adminToken() {
        return token(adminTokenFile, "SHAPESHIFT_ADMIN_TOKEN");
    }

    /** The read-only token, or null when neither the file nor {@code SHAPESHIFT_READ_TOKEN} gives one. */
    String readToken() {
        return token(readTokenFile, "SHAPESHIFT_READ_TOKEN");
    }

    ApiTls tls() {
        return ApiTls.of(tlsCertFile, tlsKeyFile);
    }

    private String token(Path file, String variable) {
        return Secrets.fileOrEnv(file, env, variable).map(String::strip).filter(v -> !v.isBlank()).orElse(null);
    }
}
