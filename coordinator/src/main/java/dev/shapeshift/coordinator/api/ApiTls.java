package dev.shapeshift.coordinator.api;

import dev.shapeshift.error.ErrorCode;
import dev.shapeshift.error.ShapeshiftException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * HTTPS for the coordinator's API, dashboard and {@code /metrics}: a PEM certificate (chain) and
 * its PEM private key (PKCS#8 or PKCS#1, unencrypted), read at start. With it the port speaks TLS
 * only: a plain-HTTP request gets no answer (the handshake fails and the connection is closed).
 */
public record ApiTls(Path certificate, Path key) {
    public ApiTls {
        for (Object[] f : new Object[][] {{"--tls-cert-file", certificate}, {"--tls-key-file", key}}) {
            Path p = (Path) f[1];
            if (p == null) {
                throw new ShapeshiftException(ErrorCode.CONFIG_INVALID, "HTTPS needs both --tls-cert-file and "
                        + "--tls-key-file (PEM files); " + f[0] + " is missing");
            }
            if (!Files.isReadable(p)) {
                throw new ShapeshiftException(ErrorCode.CONFIG_INVALID, f[0] + " " + p + " is not a readable file");
            }
        }
    }

    /** Both paths, or neither (plain HTTP); one without the other is a configuration error. */
    public static ApiTls of(Path certificate, Path key) {
        return certificate == null && key == null ? null : new ApiTls(certificate, key);
    }
}
