package org.imagingpipeline.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code up}'s one-process secrets step: creates everything once, and a second run changes no byte. */
class StackSecretsTest {
    @TempDir
    Path dir;

    @Test
    void createsEveryKeyOnceAndASecondRunKeepsThemAll() throws Exception {
        Path secrets = dir.resolve("secrets");
        String[] args = {"--secrets", secrets.toString(), "--issue", "ingest=scanner.example", "--issue", "scanner", "--kafka"};
        assertEquals(0, run(args));
        Map<String, byte[]> first = contents(secrets);
        for (String f : new String[] {"token-issuer-key.pem", "token-issuer-public.pem", "model-signing-key.pem",
                "model-signing-public.pem", "ca.pem", "ca-key.pem", "ingest.pem", "ingest-key.pem", "scanner.pem", "scanner-key.pem"}) {
            assertTrue(first.containsKey(f), f + " missing: " + first.keySet());
        }
        assertTrue(first.keySet().stream().anyMatch(f -> f.startsWith("kafka/")), "Kafka credentials: " + first.keySet());

        assertEquals(0, run(args));
        Map<String, byte[]> second = contents(secrets);
        assertEquals(first.keySet(), second.keySet());
        first.forEach((f, bytes) -> assertTrue(Arrays.equals(bytes, second.get(f)), f + " was rewritten"));
    }

    @Test
    void withoutKafkaThereAreNoKafkaCredentialsAndABadCertificateNameFails() throws Exception {
        Path secrets = dir.resolve("secrets");
        assertEquals(0, run("--secrets", secrets.toString(), "--issue", "scanner"));
        assertFalse(Files.exists(secrets.resolve("kafka")));
        assertNotEquals(0, run("--secrets", secrets.toString(), "--issue", "Not/A/Name"));
    }

    private static int run(String... args) {
        return new CommandLine(new StackSecrets()).execute(args);
    }

    private static Map<String, byte[]> contents(Path root) throws IOException {
        Map<String, byte[]> out = new TreeMap<>();
        try (Stream<Path> files = Files.walk(root)) {
            for (Path p : files.filter(Files::isRegularFile).toList()) {
                out.put(root.relativize(p).toString(), Files.readAllBytes(p));
            }
        }
        return out;
    }
}
