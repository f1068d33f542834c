package org.imagingpipeline.testsupport;

import java.io.File;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import java.util.LinkedHashMap;
import java.util.Map;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.testsupport.kafka.AccessProvisioner;
import org.imagingpipeline.testsupport.kafka.KafkaSecrets;

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
    private final KafkaSecrets secrets;
    private final int internalPort;
    private final List<String> clusterArgs;
    private Process process;
    private static BrokerProcess shared;

    private BrokerProcess(Path dataDir, int port, int controllerPort, KafkaSecrets secrets, int internalPort) {
        this(dataDir, port, controllerPort, secrets, internalPort, List.of());
    }

    /** One node of a {@link KraftCluster}: {@code clusterArgs} are KraftBroker's --node-id, --voters, ... options. */
    BrokerProcess(Path dataDir, int port, int controllerPort, KafkaSecrets secrets, int internalPort, List<String> clusterArgs) {
        this.dataDir = dataDir;
        this.port = port;
        this.controllerPort = controllerPort;
        this.secrets = secrets;
        this.internalPort = internalPort;
        this.clusterArgs = List.copyOf(clusterArgs);
    }

    /**
     * Starts a broker on free loopback ports with data in {@code dataDir}, creates all topics, waits for it. A free
     * port is picked before the broker binds it, so another process can take it in between: when a broker with a new
     * (empty) {@code dataDir} exits because its address is in use, it is started again on other ports (3 tries).
     */
    public static BrokerProcess startWithTopics(Path dataDir) throws Exception {
        return startWithTopics(dataDir, null);
    }

    private static BrokerProcess startWithTopics(Path dataDir, KafkaSecrets secrets) throws Exception {
        boolean fresh = isEmptyOrAbsent(dataDir);
        for (int attempt = 1; ; attempt++) {
            int port = freePort();
            int controllerPort = freePort();
            while (controllerPort == port) controllerPort = freePort();
            int internalPort = secrets == null ? 0 : freePort();
            while (secrets != null && (internalPort == port || internalPort == controllerPort)) internalPort = freePort();
            BrokerProcess b = new BrokerProcess(dataDir, port, controllerPort, secrets, internalPort);
            try {
                b.start();
            } catch (IOException e) {
                b.kill();
                if (attempt < 3 && fresh && addressInUse(dataDir)) {
                    System.err.println("BrokerProcess: port " + port + " or " + controllerPort + " was taken before the broker bound it; "
                            + "starting again on other ports");
                    deleteRecursively(dataDir);
                    continue;
                }
                throw e;
            }
            try (Admin admin = b.admin()) {
                new TopicProvisioner(admin, (short) 1).ensure(Topics.ALL);
                if (secrets != null) new AccessProvisioner(admin, secrets).ensure();
            }
            return b;
        }
    }

    private static boolean isEmptyOrAbsent(Path dir) throws IOException {
        if (!Files.exists(dir)) return true;
        try (Stream<Path> s = Files.list(dir)) {
            return s.findAny().isEmpty();
        }
    }

    private static boolean addressInUse(Path dataDir) throws IOException {
        Path log = dataDir.resolve("broker.log");
        return Files.isRegularFile(log) && Files.readString(log).contains("Address already in use");
    }

    private static void deleteRecursively(Path dir) throws IOException {
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.delete(p);
        }
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

    /** The client listener (SASL_SSL when secured). */
    public String bootstrap() {
        return "127.0.0.1:" + port;
    }

    /** The Kafka credentials of a secured broker; null when it runs plaintext. */
    public KafkaSecrets secrets() {
        return secrets;
    }

    /**
     * Client properties for {@code principal} ({@link org.imagingpipeline.testsupport.kafka.KafkaAccess}): the bootstrap
     * address and, on a secured broker, that principal's SASL_SSL settings.
     */
    public Map<String, String> clientProperties(String principal) {
        return clientProperties(bootstrap(), secrets, principal);
    }

    /** {@code bootstrap} and, when {@code secrets} is not null, {@code principal}'s SASL_SSL settings. */
    static Map<String, String> clientProperties(String bootstrap, KafkaSecrets secrets, String principal) {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("bootstrap.servers", bootstrap);
        if (secrets != null) m.putAll(secrets.clientProperties(principal));
        return m;
    }

    /** An admin client with every right: plaintext, or the provisioning identity on the internal listener. */
    public Admin admin() {
        return secrets == null ? TopicProvisioner.admin(bootstrap())
                : TopicProvisioner.admin("127.0.0.1:" + internalPort, secrets.adminProperties());
    }

    public Path dataDir() {
        return dataDir;
    }

    public boolean isRunning() {
        return process != null && process.isAlive();
    }

    /**
     * Starts (or restarts) the broker JVM and waits until the broker answers, at most {@link #READY_TIMEOUT} (a broker
     * starts in 5-20 s; the margin is for a machine whose cores are busy with other work).
     */
    public synchronized void start() throws IOException, InterruptedException {
        if (isRunning()) return;
        launch();
        awaitStarted();
    }

    /** Waits until the launched broker answers (a cluster's nodes answer only once a quorum of them runs). */
    synchronized void awaitStarted() throws IOException, InterruptedException {
        try {
            awaitReady(READY_TIMEOUT);
        } catch (IOException | InterruptedException | RuntimeException e) {
            kill(); // a broker that never answered is not left running behind a failed test
            throw e;
        }
    }

    /** Starts the broker JVM without waiting for it. */
    synchronized void launch() throws IOException {
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
        if (secrets != null) {
            cmd.addAll(List.of("--secrets", secrets.folder().getParent().toString(), "--internal-port", Integer.toString(internalPort)));
        }
        cmd.addAll(clusterArgs);
        File log = dataDir.resolve("broker.log").toFile();
        process = new ProcessBuilder(cmd).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log)).start();
    }

    public static final Duration READY_TIMEOUT = Duration.ofMinutes(4);

    private void awaitReady(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("broker exited with " + process.exitValue() + "; " + logTail());
            }
            try (Admin admin = admin()) {
                admin.describeCluster().nodes().get(5, TimeUnit.SECONDS);
                admin.listTopics().names().get(5, TimeUnit.SECONDS);
                return;
            } catch (Exception e) {
                last = e;
                Thread.sleep(250);
            }
        }
        throw new IOException("broker not ready after " + timeout + "; " + logTail(), last);
    }

    /** The log's path and its last lines (a test's temporary directory is gone when its report is read). */
    private String logTail() {
        Path log = dataDir.resolve("broker.log");
        try {
            List<String> lines = Files.readAllLines(log);
            return "log " + log + ", last lines:\n" + String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
        } catch (IOException | RuntimeException e) {
            return "see " + log;
        }
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
        return moduleClasspath("test-support");
    }

    /**
     * The classpath of a JVM started from a module of this repository: {@code MODULE/target/classes} and
     * {@code MODULE/target/lib/*} (the module's copied runtime dependencies); an IOException naming what to build when
     * either is missing.
     */
    public static String moduleClasspath(String module) throws IOException {
        Path target = repoRoot().resolve(module).resolve("target");
        Path lib = target.resolve("lib");
        if (!Files.isDirectory(lib) || !Files.isDirectory(target.resolve("classes"))) {
            throw new IOException(module + " classpath missing: " + target + "/classes and " + lib
                    + " (build first: ./pipeline build or mvn install)");
        }
        return target.resolve("classes") + File.pathSeparator + lib + File.separator + "*";
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
