package org.imagingpipeline.testsupport;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.imagingpipeline.events.Topics;

/**
 * A {@link KraftBroker} in its own JVM, for tests and tools: start, wait until it answers, stop cleanly
 * (SIGTERM) or kill it, and start it again on the same data. The broker's classpath is this module's
 * {@code target/classes} and {@code target/lib} (built by {@code mvn install}); the repository root comes
 * from the system property {@code pipeline.repo.root} or the working directory. Tests that may share one broker
 * per JVM use {@link #shared()}; Quarkus tests use {@link BrokerTestResource}.
 */
public final class BrokerProcess implements AutoCloseable {
    private final Path dataDir;
    private final int port;
    private final int controllerPort;
    private Process process;
    private static BrokerProcess shared;

    private BrokerProcess(Path dataDir, int port, int controllerPort) {
        this.dataDir = dataDir;
        this.port = port;
        this.controllerPort = controllerPort;
    }

    /** Starts a broker on free loopback ports with data in {@code dataDir}, creates all topics, waits for it. */
    public static BrokerProcess startWithTopics(Path dataDir) throws Exception {
        BrokerProcess b = new BrokerProcess(dataDir, freePort(), freePort());
        b.start();
        try (Admin admin = TopicProvisioner.admin(b.bootstrap())) {
            new TopicProvisioner(admin, (short) 1).ensure(Topics.ALL);
        }
        return b;
    }

    /** One broker (all topics) for the whole test JVM, started on first use and stopped when the JVM exits. */
    public static synchronized BrokerProcess shared() throws Exception {
        if (shared == null) {
            BrokerProcess b = startWithTopics(Files.createTempDirectory("shared-broker"));
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    b.stop();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            shared = b;
        }
        return shared;
    }

    public String bootstrap() {
        return "127.0.0.1:" + port;
    }

    public Path dataDir() {
        return dataDir;
    }

    public boolean isRunning() {
        return process != null && process.isAlive();
    }

    /** Starts (or restarts) the broker JVM and waits until the broker answers, at most 180 s (a loaded 2-core machine took over 90 s). */
    public synchronized void start() throws IOException, InterruptedException {
        if (isRunning()) return;
        Files.createDirectories(dataDir);
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        cmd.add("-Xmx512m");
        cmd.add("-cp");
        cmd.add(classpath());
        cmd.add(KraftBroker.class.getName());
        cmd.addAll(List.of("--data-dir", dataDir.toString(), "--port", Integer.toString(port),
                "--controller-port", Integer.toString(controllerPort)));
        File log = dataDir.resolve("broker.log").toFile();
        process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log)).start();
        try {
            awaitReady(Duration.ofSeconds(180));
        } catch (IOException | InterruptedException | RuntimeException e) {
            kill(); // a broker that never answered is not left running behind a failed test
            throw e;
        }
    }

    private void awaitReady(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("broker exited with " + process.exitValue() + "; see " + dataDir.resolve("broker.log"));
            }
            try (Admin admin = TopicProvisioner.admin(bootstrap())) {
                admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
                admin.listTopics().names().get(5, TimeUnit.SECONDS);
                return;
            } catch (Exception e) {
                last = e;
                Thread.sleep(250);
            }
        }
        throw new IOException("broker not ready after " + timeout + "; see " + dataDir.resolve("broker.log"), last);
    }

    /** Clean stop: SIGTERM, then wait for the controlled shutdown (killed after 60 s). */
    public synchronized void stop() throws InterruptedException {
        if (process == null) return;
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        process = null;
    }

    /** Crash: SIGKILL, no shutdown. */
    public synchronized void kill() throws InterruptedException {
        if (process == null) return;
        process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        process = null;
    }

    @Override
    public void close() throws InterruptedException {
        stop();
    }

    /** The broker JVM's classpath: test-support/target/classes and test-support/target/lib/*. */
    public static String classpath() throws IOException {
        Path deploy = repoRoot().resolve("test-support").resolve("target");
        Path lib = deploy.resolve("lib");
        if (!Files.isDirectory(lib) || !Files.isDirectory(deploy.resolve("classes"))) {
            throw new IOException("broker classpath missing: " + lib + " (build first: ./pipeline build or mvn install)");
        }
        return deploy.resolve("classes") + File.pathSeparator + lib + File.separator + "*";
    }

    public static Path repoRoot() {
        String p = System.getProperty("pipeline.repo.root");
        Path start = p != null && !p.isBlank() ? Path.of(p) : Path.of("").toAbsolutePath();
        for (Path d = start.toAbsolutePath(); d != null; d = d.getParent()) {
            if (Files.exists(d.resolve("pipeline")) && Files.isDirectory(d.resolve("test-support"))) return d;
        }
        throw new IllegalStateException("repository root (with ./pipeline) not found from " + start);
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        }
    }
}
