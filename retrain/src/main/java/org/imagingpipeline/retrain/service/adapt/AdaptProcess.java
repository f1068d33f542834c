package org.imagingpipeline.retrain.service.adapt;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.imagingpipeline.retrain.service.jobs.Job;

/**
 * Runs the adapt command as a subprocess (its own JVM: DJL's native memory is returned to the system when it ends,
 * and a job can be killed) with {@code --progress json}: its progress lines on stderr are read as they come
 * ({@link ProgressParser}), its other stderr lines are kept as the job's log tail; the result is the last non-blank
 * stdout line. Past the time limit, or on {@link #kill()}, the process and all its descendants are killed.
 *
 * <p>The command is normally {@link #selfCommand}: a child JVM started from the service's own installation (the jars of
 * its Quarkus app, libtorch included), so that a job needs nothing but the service's image: no checkout, no
 * {@code ./pipeline} script. The child gets {@code OMP_WAIT_POLICY=PASSIVE}, {@code DNNL_MAX_CPU_ISA=AVX2} and {@code MKL_CBWR=AVX2} unless the
 * service's environment sets them (the same defaults as {@code ./pipeline adapt}).
 */
public final class AdaptProcess {
    /** The value of {@code retrain.adapt.command} that means {@link #selfCommand}. */
    public static final String SELF = "self";
    /** The adapt CLI's main class. */
    public static final String MAIN_CLASS = "org.imagingpipeline.retrain.AdaptCommand";

    /** Exit status 2 of the contract: the input was refused. */
    public static final int EXIT_BAD_INPUT = 2;
    private static final int TAIL_LINES = 40;
    /** Appended to every command line: progress as JSON lines on stderr. */
    public static final List<String> PROGRESS_JSON = List.of("--progress", "json");

    /** How a run ended. {@code result} is set only for exit 0 with a parseable result line. */
    public record Outcome(int exitCode, boolean timedOut, boolean killed, AdaptResult result, String error, List<String> stderrTail) {
        public boolean succeeded() {
            return result != null;
        }
    }

    private final List<String> command;
    private final Path workingDirectory;
    private volatile Process process;
    private volatile boolean killed;

    /**
     * @param command          the command and its leading arguments (e.g. ["./pipeline", "adapt"]); the request's
     *                         arguments are appended
     * @param workingDirectory where it runs
     */
    public AdaptProcess(List<String> command, Path workingDirectory) {
        if (command.isEmpty()) throw new IllegalArgumentException("retrain.adapt.command is empty");
        this.command = List.copyOf(command);
        this.workingDirectory = workingDirectory;
    }

    /**
     * The adapt CLI in a child JVM of this installation: this JVM's {@code java}, {@code jvmOptions}, DJL offline with its
     * cache in {@code djlCache}, and {@link #ownClasspath} of {@code java.class.path}.
     */
    public static List<String> selfCommand(String jvmOptions, Path djlCache) {
        List<String> cmd = new ArrayList<>();
        cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        for (String o : jvmOptions.trim().split("\\s+")) if (!o.isBlank()) cmd.add(o);
        cmd.add("-Dai.djl.offline=true");
        cmd.add("-Dretrain.djl.cache=" + djlCache.toAbsolutePath());
        cmd.addAll(List.of("-cp", ownClasspath(System.getProperty("java.class.path")), MAIN_CLASS));
        return cmd;
    }

    /**
     * The class path that holds this service's code and libraries: for a Quarkus fast-jar (started as
     * {@code java -jar .../quarkus-app/quarkus-run.jar}, whose class path is that one jar) its {@code app/} and
     * {@code lib/main/} jars; otherwise (tests, a flat class path) the class path as it is.
     */
    public static String ownClasspath(String javaClassPath) {
        String[] entries = javaClassPath.split(java.io.File.pathSeparator);
        if (entries.length == 1 && Path.of(entries[0]).getFileName().toString().equals("quarkus-run.jar")) {
            Path app = Path.of(entries[0]).toAbsolutePath().getParent();
            return app.resolve("app") + java.io.File.separator + "*" + java.io.File.pathSeparator
                    + app.resolve("lib").resolve("main") + java.io.File.separator + "*";
        }
        return javaClassPath;
    }

    public List<String> commandLine(AdaptRequest request) {
        List<String> cmd = new ArrayList<>(command);
        cmd.addAll(request.arguments());
        cmd.addAll(PROGRESS_JSON);
        return cmd;
    }

    public Outcome run(AdaptRequest request, Duration timeLimit, Consumer<Job.Progress> onProgress)
            throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(commandLine(request)).directory(workingDirectory.toFile());
        pb.environment().putIfAbsent("OMP_WAIT_POLICY", "PASSIVE");
        pb.environment().putIfAbsent("DNNL_MAX_CPU_ISA", "AVX2");
        pb.environment().putIfAbsent("MKL_CBWR", "AVX2");
        Process p = pb.start();
        process = p;
        if (killed) destroyTree(p);
        p.getOutputStream().close();
        // Own threads, not the common pool (one thread on a 2-core machine): both pipes must drain concurrently.
        CompletableFuture<String> lastStdoutLine = new CompletableFuture<>();
        Deque<String> tail = new ArrayDeque<>();
        CompletableFuture<Void> stderr = new CompletableFuture<>();
        reader("adapt-stdout", () -> {
            try {
                lastStdoutLine.complete(lastLine(p.getInputStream()));
            } finally {
                lastStdoutLine.complete(null);
            }
        });
        reader("adapt-stderr", () -> {
            try {
                readStderr(p.getErrorStream(), tail, onProgress);
            } finally {
                stderr.complete(null);
            }
        });
        boolean exited = p.waitFor(timeLimit.toMillis(), TimeUnit.MILLISECONDS);
        if (!exited) destroyTree(p);
        p.waitFor();
        String last = join(lastStdoutLine);
        join(stderr);
        List<String> stderrTail;
        synchronized (tail) {
            stderrTail = List.copyOf(tail);
        }
        int code = p.exitValue();
        if (!exited) return new Outcome(code, true, false, null, "time limit of " + timeLimit + " exceeded: killed", stderrTail);
        if (killed) return new Outcome(code, false, true, null, "killed", stderrTail);
        if (code != 0) {
            String what = code == EXIT_BAD_INPUT ? "bad input (exit 2)" : "failed (exit " + code + ")";
            String detail = stderrTail.isEmpty() ? "" : ": " + stderrTail.get(stderrTail.size() - 1);
            return new Outcome(code, false, false, null, "adapt " + what + detail, stderrTail);
        }
        try {
            return new Outcome(0, false, false, AdaptResult.parse(last), null, stderrTail);
        } catch (IOException e) {
            return new Outcome(0, false, false, null, e.getMessage(), stderrTail);
        }
    }

    /** Kills the running subprocess (and its children); a run not yet started is killed as it starts. */
    public void kill() {
        killed = true;
        Process p = process;
        if (p != null) destroyTree(p);
    }

    private static void reader(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
    }

    private static void destroyTree(Process p) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
    }

    private static String lastLine(InputStream in) {
        String last = null;
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            for (String line; (line = r.readLine()) != null; ) {
                if (!line.isBlank()) last = line;
            }
        } catch (IOException e) {
            // the process was killed; what was read stands
        }
        return last;
    }

    private static void readStderr(InputStream in, Deque<String> tail, Consumer<Job.Progress> onProgress) {
        StringBuilder line = new StringBuilder();
        try (InputStreamReader r = new InputStreamReader(in, StandardCharsets.UTF_8)) {
            for (int c; (c = r.read()) >= 0; ) {
                if (c == '\n' || c == '\r') {
                    endLine(line, tail, onProgress);
                } else if (line.length() < 4000) {
                    line.append((char) c);
                }
            }
            endLine(line, tail, onProgress);
        } catch (IOException e) {
            // the process was killed
        }
    }

    private static void endLine(StringBuilder line, Deque<String> tail, Consumer<Job.Progress> onProgress) {
        String s = line.toString().strip();
        line.setLength(0);
        if (s.isEmpty()) return;
        Optional<Job.Progress> progress = ProgressParser.parse(s, Instant.now());
        if (progress.isPresent()) {
            onProgress.accept(progress.get());
            return;
        }
        synchronized (tail) {
            tail.addLast(s);
            while (tail.size() > TAIL_LINES) tail.removeFirst();
        }
    }

    private static <T> T join(CompletableFuture<T> f) throws InterruptedException {
        try {
            return f.get();
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException(e.getCause());
        }
    }
}
