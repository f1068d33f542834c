package org.imagingpipeline.fhirbridge;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.imagingpipeline.testsupport.BrokerProcess;

/**
 * The real HAPI FHIR JPA server (module ehr-jpa-server, class {@code org.imagingpipeline.ehrjpa.JpaEhrServer}) in its
 * own JVM, started from that module's {@code target/classes} and {@code target/lib} (the reactor builds it before
 * fhir-bridge; none of its jars is on this module's classpath). In-memory H2, 127.0.0.1 on a free port, a fresh random
 * bearer token in a 0600 file of a temporary directory; the server's output goes to {@code server.log} there.
 */
final class JpaEhrProcess implements AutoCloseable {
    static final String MAIN = "org.imagingpipeline.ehrjpa.JpaEhrServer";
    static final String READY = "JPA-EHR-READY";
    /** HAPI's JPA context takes 30-90 s to start on 2 busy cores; the margin is for a machine shared with other work. */
    static final Duration READY_TIMEOUT = Duration.ofSeconds(180);

    private final Process process;
    private final Path dir;
    private final String token;
    private final String baseUrl;
    private final String readyLine;
    private final Duration startTime;

    private JpaEhrProcess(Process process, Path dir, String token, String baseUrl, String readyLine, Duration startTime) {
        this.process = process;
        this.dir = dir;
        this.token = token;
        this.baseUrl = baseUrl;
        this.readyLine = readyLine;
        this.startTime = startTime;
    }

    /** Starts the server and waits for its ready line; fails with the log's tail when it exits or is not ready in time. */
    static JpaEhrProcess start() throws IOException, InterruptedException {
        String classpath = BrokerProcess.moduleClasspath("ehr-jpa-server");
        Path dir = Files.createTempDirectory("jpa-ehr");
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        String token = Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        Path tokenFile = dir.resolve("token");
        Files.createFile(tokenFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        Files.writeString(tokenFile, token);
        int port = TestSupport.freePort();
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx768m", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC",
                "-cp", classpath, MAIN, "--host", "127.0.0.1", "--port", Integer.toString(port), "--token-file", tokenFile.toString()));
        Path log = dir.resolve("server.log");
        long t0 = System.nanoTime();
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        // Not left behind by a test JVM that ends without close() (killed surefire fork, failed @BeforeAll).
        Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly, "jpa-ehr-kill"));
        long deadline = t0 + READY_TIMEOUT.toNanos();
        while (true) {
            String ready = readyLine(log);
            if (ready != null) {
                return new JpaEhrProcess(p, dir, token, "http://127.0.0.1:" + port + "/fhir", ready,
                        Duration.ofNanos(System.nanoTime() - t0));
            }
            if (!p.isAlive()) {
                throw new IOException("JPA EHR server exited with " + p.exitValue() + " before it was ready; " + tail(log));
            }
            if (System.nanoTime() > deadline) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new IOException("JPA EHR server not ready after " + READY_TIMEOUT + "; " + tail(log));
            }
            Thread.sleep(250);
        }
    }

    String baseUrl() {
        return baseUrl;
    }

    String token() {
        return token;
    }

    /** The server's ready line: base URL, HAPI version, database, its own start time. */
    String readyLine() {
        return readyLine;
    }

    /** From process start to the ready line, as this JVM saw it. */
    Duration startTime() {
        return startTime;
    }

    /** The server's output so far (last lines), for failure messages. */
    String logTail() {
        return tail(dir.resolve("server.log"));
    }

    /** Kills the server JVM (nothing to keep: the database is in memory) and removes its directory. */
    @Override
    public void close() throws InterruptedException {
        process.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
        try (var s = Files.walk(dir)) {
            for (Path f : s.sorted(java.util.Comparator.reverseOrder()).toList()) Files.deleteIfExists(f);
        } catch (IOException e) {
            System.err.println("JpaEhrProcess: " + dir + " not removed: " + e);
        }
    }

    private static String readyLine(Path log) throws IOException {
        if (!Files.exists(log)) return null;
        for (String line : Files.readAllLines(log)) {
            if (line.startsWith(READY)) return line;
        }
        return null;
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return "log " + log + ", last lines:\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (IOException | RuntimeException e) {
            return "no log at " + log + ": " + e;
        }
    }
}
