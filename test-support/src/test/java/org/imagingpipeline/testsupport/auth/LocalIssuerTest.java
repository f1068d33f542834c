package org.imagingpipeline.testsupport.auth;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.jose4j.jwt.JwtClaims;
import org.jose4j.jwt.consumer.InvalidJwtException;
import org.jose4j.jwt.consumer.JwtConsumer;
import org.jose4j.jwt.consumer.JwtConsumerBuilder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

class LocalIssuerTest {
    @TempDir
    Path dir;

    @Test
    void theKeyIsCreatedOnceOwnerOnlyAndNeverReplaced() throws Exception {
        Path secrets = dir.resolve("secrets");
        LocalIssuer.Ensured first = LocalIssuer.ensure(secrets);
        assertTrue(first.created());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(first.privateKey())));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(secrets)));
        String key = Files.readString(first.privateKey());
        assertTrue(key.startsWith("-----BEGIN PRIVATE KEY-----\n"), key.substring(0, 30));

        LocalIssuer.Ensured again = LocalIssuer.ensure(secrets);
        assertFalse(again.created());
        assertEquals(key, Files.readString(again.privateKey()), "never replaced");
        assertEquals(first.issuer().keyId(), again.issuer().keyId());

        // A lost or wrong public key is rewritten from the private key; a loose private key is tightened.
        Files.writeString(first.publicKey(), LocalIssuer.generate().publicKeyPem());
        Files.setPosixFilePermissions(first.privateKey(), PosixFilePermissions.fromString("rw-r--r--"));
        LocalIssuer.ensure(secrets);
        assertEquals(first.issuer().publicKeyPem(), Files.readString(first.publicKey()));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(first.privateKey())));
        assertEquals(List.of(LocalIssuer.PRIVATE_KEY_FILE, LocalIssuer.PUBLIC_KEY_FILE),
                Files.list(secrets).map(p -> p.getFileName().toString()).sorted().toList(), "no temporary files left");
    }

    @Test
    void concurrentCreatorsAgreeOnOneKey() throws Exception {
        Path secrets = dir.resolve("race");
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<LocalIssuer.Ensured>> all = new ArrayList<>();
            for (int i = 0; i < 4; i++) all.add(pool.submit(() -> LocalIssuer.ensure(secrets)));
            int created = 0;
            String kid = null;
            for (Future<LocalIssuer.Ensured> f : all) {
                LocalIssuer.Ensured e = f.get();
                if (e.created()) created++;
                if (kid == null) kid = e.issuer().keyId();
                assertEquals(kid, e.issuer().keyId());
            }
            assertEquals(1, created);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void tokensVerifyAgainstThePublicKeyFileOnly() throws Exception {
        LocalIssuer.Ensured e = LocalIssuer.ensure(dir);
        String token = e.issuer().token("alice", List.of("mlops", "viewer"), java.time.Duration.ofMinutes(5));
        JwtClaims claims = consumer(publicKey(e.publicKey())).processToClaims(token);
        assertEquals(LocalIssuer.ISSUER, claims.getIssuer());
        assertEquals(List.of(LocalIssuer.AUDIENCE), claims.getAudience());
        assertEquals("alice", claims.getSubject());
        assertEquals("alice", claims.getClaimValueAsString("upn"));
        assertEquals(List.of("mlops", "viewer"), claims.getStringListClaimValue("groups"));
        assertEquals(300, claims.getExpirationTime().getValue() - claims.getIssuedAt().getValue());

        // The test's own consumer can fail: another key, another issuer.
        assertThrows(InvalidJwtException.class, () -> consumer(publicKey(e.publicKey()))
                .processToClaims(LocalIssuer.generate().token("x", List.of("admin"), java.time.Duration.ofMinutes(5))));
        assertThrows(InvalidJwtException.class, () -> consumer(publicKey(e.publicKey()))
                .processToClaims(e.issuer().withIssuer("urn:other").token("x", List.of("admin"), java.time.Duration.ofMinutes(5))));
    }

    @Test
    void theCommandPrintsOnlyTheTokenOnStdoutAndRefusesUnknownRoles() throws Exception {
        Path secrets = dir.resolve("cli");
        Run r = run("token", "viewer", "--secrets", secrets.toString(), "--minutes", "7");
        assertEquals(0, r.rc, r.err);
        String[] lines = r.out.strip().split("\n");
        assertEquals(1, lines.length, r.out);
        JwtClaims claims = consumer(publicKey(secrets.resolve(LocalIssuer.PUBLIC_KEY_FILE))).processToClaims(lines[0]);
        assertEquals(List.of("viewer"), claims.getStringListClaimValue("groups"));
        assertEquals(420, claims.getExpirationTime().getValue() - claims.getIssuedAt().getValue());
        assertFalse(r.err.contains(lines[0]), "the token is not logged");
        String key = Files.readString(secrets.resolve(LocalIssuer.PRIVATE_KEY_FILE));

        Run init = run("init", "--secrets", secrets.toString());
        assertEquals(0, init.rc);
        assertEquals("", init.out);
        assertEquals(key, Files.readString(secrets.resolve(LocalIssuer.PRIVATE_KEY_FILE)));

        Run bad = run("token", "root", "--secrets", secrets.toString());
        assertEquals(2, bad.rc);
        assertEquals("", bad.out);
        assertTrue(bad.err.contains("unknown role 'root'"), bad.err);
        assertEquals(2, run("token", "admin", "--secrets", secrets.toString(), "--minutes", "0").rc);
        assertEquals(2, run("token", "admin", "--secrets", secrets.toString(), "--minutes", "1441").rc);
        assertEquals(2, run("token", "--secrets", secrets.toString()).rc, "a role is required");

        Run two = run("token", "mlops", "viewer", "--secrets", secrets.toString(), "--subject", "bob");
        JwtClaims c2 = consumer(publicKey(secrets.resolve(LocalIssuer.PUBLIC_KEY_FILE))).processToClaims(two.out.strip());
        assertEquals(List.of("mlops", "viewer"), c2.getStringListClaimValue("groups"));
        assertEquals("bob", c2.getSubject());
        assertNotEquals(lines[0], two.out.strip());
    }

    private record Run(int rc, String out, String err) {
    }

    private static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        PrintStream oldOut = System.out;
        PrintStream oldErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        int rc;
        try {
            CommandLine cl = new CommandLine(new TokenCommand());
            cl.setErr(new java.io.PrintWriter(System.err, true));
            rc = cl.execute(args);
        } finally {
            System.setOut(oldOut);
            System.setErr(oldErr);
        }
        return new Run(rc, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static PublicKey publicKey(Path pem) throws Exception {
        String body = Files.readString(pem).replaceAll("-----(BEGIN|END) PUBLIC KEY-----", "").replaceAll("\\s", "");
        return KeyFactory.getInstance("RSA").generatePublic(new X509EncodedKeySpec(Base64.getDecoder().decode(body)));
    }

    private static JwtConsumer consumer(PublicKey key) {
        return new JwtConsumerBuilder().setVerificationKey(key).setExpectedIssuer(LocalIssuer.ISSUER)
                .setExpectedAudience(LocalIssuer.AUDIENCE).setRequireExpirationTime().setRequireSubject().build();
    }
}
