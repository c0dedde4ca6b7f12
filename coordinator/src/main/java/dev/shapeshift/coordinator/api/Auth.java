package dev.shapeshift.coordinator.api;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Bearer tokens: an admin token that may do everything and an optional read-only token that may
 * only GET. Tokens are kept as SHA-256 digests and compared with {@link MessageDigest#isEqual}
 * (constant time, and equal length whatever the presented token's length). Tokens are never
 * logged or echoed.
 */
final class Auth {
    enum Grant { NONE, READ, ADMIN }

    private final byte[] admin;
    private final byte[] read;

    Auth(String adminToken, String readToken) {
        this.admin = digest(adminToken);
        this.read = readToken == null ? null : digest(readToken);
    }

    /** What the {@code Authorization} header grants. */
    Grant grant(String authorization) {
        if (authorization == null || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return Grant.NONE;
        }
        byte[] presented = digest(authorization.substring(7).trim());
        boolean isAdmin = MessageDigest.isEqual(admin, presented);
        boolean isRead = read != null && MessageDigest.isEqual(read, presented);
        return isAdmin ? Grant.ADMIN : isRead ? Grant.READ : Grant.NONE;
    }

    private static byte[] digest(String token) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }
}
