package org.imagingpipeline.testsupport.auth;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Real bearer tokens for the services' tests: one {@link LocalIssuer} per test JVM, its key pair in a temporary
 * secrets folder (generated at first use, never committed). {@link #settings()} points an application at it (the
 * {@code BrokerTestResource} passes them to every service under test); the bad tokens are what the services must
 * answer 401 to.
 */
public final class TestTokens {
    private static LocalIssuer issuer;
    private static LocalIssuer foreign;
    private static Path publicKey;

    private TestTokens() {
    }

    private static synchronized LocalIssuer issuer() {
        if (issuer == null) {
            try {
                LocalIssuer.Ensured e = LocalIssuer.ensure(Files.createTempDirectory("test-secrets-"));
                publicKey = e.publicKey();
                issuer = e.issuer();
            } catch (IOException e) {
                throw new UncheckedIOException("cannot create the test token issuer", e);
            }
        }
        return issuer;
    }

    /** The verification settings for an application under test: this JVM's test issuer, as the stack configures it. */
    public static Map<String, String> settings() {
        issuer();
        return Map.of("mp.jwt.verify.publickey.location", publicKey.toString(),
                "mp.jwt.verify.issuer", LocalIssuer.ISSUER,
                "mp.jwt.verify.audiences", LocalIssuer.AUDIENCE);
    }

    /** A valid token for the roles (10 minutes). */
    public static String token(String... roles) {
        return issuer().token("test-" + String.join("-", roles), List.of(roles), Duration.ofMinutes(10));
    }

    /** {@code "Bearer " + token(roles)}, the Authorization header's value. */
    public static String bearer(String... roles) {
        return "Bearer " + token(roles);
    }

    /** Expired an hour ago (beyond any clock skew allowance). */
    public static String expired(String... roles) {
        return issuer().token("test-expired", List.of(roles), Instant.now().minus(Duration.ofHours(2)), Duration.ofHours(1));
    }

    /** Well-formed and unexpired, but signed by another key. */
    public static synchronized String signedByAnotherKey(String... roles) {
        if (foreign == null) foreign = LocalIssuer.generate();
        return foreign.token("test-foreign", List.of(roles), Duration.ofMinutes(10));
    }

    /** Signed by the right key, but under another {@code iss}. */
    public static String wrongIssuer(String... roles) {
        return issuer().withIssuer("urn:someone-else").token("test-wrong-issuer", List.of(roles), Duration.ofMinutes(10));
    }

    /** A valid token for the roles with one character of its signature changed. */
    public static String tamperedSignature(String... roles) {
        String t = token(roles);
        char last = t.charAt(t.length() - 2);
        return t.substring(0, t.length() - 2) + (last == 'A' ? 'B' : 'A') + t.charAt(t.length() - 1);
    }

    /** Not a JWT at all. */
    /** The five kinds of bad token every protected endpoint must answer with 401, made for {@code role}. */
    public static List<String> badTokens(String role) {
        return List.of(expired(role), malformed(), signedByAnotherKey(role), wrongIssuer(role), tamperedSignature(role));
    }

    public static String malformed() {
        return "not-a-jwt";
    }
}
