package org.imagingpipeline.ingest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Runs the real dcmtk tools (echoscu, storescu, dcmdump) and captures their output. */
final class DicomTools {
    private DicomTools() {
    }

    record Result(int exitCode, String output) {
    }

    static Result run(List<String> command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().put("TCP_NODELAY", "1");
        Process p = pb.start();
        p.getOutputStream().close(); // nothing to answer: a tool that prompts (e.g. for a key password) reads EOF
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(300, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("timed out: " + command);
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }

    static Result echo(int port, String callingAe) throws IOException, InterruptedException {
        return run(List.of("echoscu", "-aet", callingAe, "-aec", "INGEST", "127.0.0.1", Integer.toString(port)));
    }

    /** echoscu with extra options (e.g. TLS). */
    static Result echo(int port, String callingAe, List<String> options) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("echoscu", "-aet", callingAe, "-aec", "INGEST"));
        cmd.addAll(options);
        cmd.add("127.0.0.1");
        cmd.add(Integer.toString(port));
        return run(cmd);
    }

    /** dcmtk's TLS options: this key and certificate, trusting the CA file (BCP 195 non-downgrading profile, dcmtk's default). */
    static List<String> tls(Path key, Path certificate, Path ca) {
        return List.of("+tls", key.toString(), certificate.toString(), "+cf", ca.toString());
    }

    /** storescu with the given options, then the files or folders. */
    static Result store(int port, String callingAe, List<String> options, List<Path> paths) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("storescu", "-v", "-aet", callingAe, "-aec", "INGEST"));
        cmd.addAll(options);
        cmd.add("127.0.0.1");
        cmd.add(Integer.toString(port));
        for (Path p : paths) cmd.add(p.toString());
        return run(cmd);
    }

    private static final Pattern LINE = Pattern.compile("^\\s*\\(([0-9a-f]{4}),([0-9a-f]{4})\\) [A-Z]{2} (?:\\[(.*?)\\]|(\\S+)).*$");

    /** Top-level header values as dcmdump prints them, keyed "gggg,eeee". */
    static Map<String, String> dcmdump(Path file) throws IOException, InterruptedException {
        Result r = run(List.of("dcmdump", "-q", "-Un", "+L", "-M", file.toString()));
        Map<String, String> m = new HashMap<>();
        for (String line : r.output().split("\n")) {
            if (line.startsWith("  ")) continue; // nested items
            Matcher x = LINE.matcher(line);
            if (x.matches()) m.putIfAbsent(x.group(1) + "," + x.group(2), x.group(3) != null ? x.group(3) : x.group(4));
        }
        return m;
    }
}
