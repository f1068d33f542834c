package org.imagingpipeline.e2e;

import org.imagingpipeline.testsupport.SharedTestData;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.imagingpipeline.events.EventJson;
import org.imagingpipeline.testsupport.BrokerProcess;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * Runs {@code ./pipeline VERB ...} the way a user does, with every port free and its own PIPELINE_HOME, and remembers
 * the environment so that later verbs (send, up, down) talk to the same stack.
 */
final class PipelineRun {
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    final Path root = BrokerProcess.repoRoot();
    final Path home;
    final Map<String, String> env = new LinkedHashMap<>();

    PipelineRun(Path home) throws IOException {
        this.home = home;
        env.put("PIPELINE_HOME", home.toString());
        java.util.Set<Integer> taken = new java.util.HashSet<>();
        for (String port : List.of("KAFKA_PORT", "KAFKA_CONTROLLER_PORT", "KAFKA_INTERNAL_PORT", "INGEST_DICOM_PORT", "INGEST_DICOM_TLS_PORT", "INGEST_HTTP_PORT", "STREAMS_HTTP_PORT",
                "INFERENCE_HTTP_PORT", "RETRAIN_HTTP_PORT", "FHIR_BRIDGE_HTTP_PORT", "CONSOLE_HTTP_PORT", "EHR_PORT")) {
            int p = BrokerProcess.freePort();
            while (!taken.add(p)) p = BrokerProcess.freePort(); // the OS may hand out a port it just gave back
            env.put(port, Integer.toString(p));
        }
    }

    int port(String name) {
        return Integer.parseInt(env.get(name));
    }

    /** The result of one run: exit status, stdout, stderr. */
    record Result(int exit, String stdout, String stderr) {
        String lastLine() {
            return stdout.strip().lines().reduce((a, b) -> b).orElse("");
        }
    }

    Result run(long timeoutMinutes, String... args) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(root.resolve("pipeline").toString());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).directory(root.toFile());
        pb.environment().putAll(env);
        Path err = Files.createTempFile(home.getParent(), "pipeline-" + args[0], ".stderr");
        pb.redirectError(err.toFile());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(timeoutMinutes, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            Assertions.fail("./pipeline " + String.join(" ", args) + " did not finish in " + timeoutMinutes + " min; stderr:\n" + tail(Files.readString(err)));
        }
        return new Result(p.exitValue(), out, Files.readString(err));
    }

    /** kill -9 a stack part by its recorded pid (the process group, as the stack starts each part with setsid). */
    void kill9(String part) throws Exception {
        Path pid = home.resolve("pids").resolve(part + ".pid");
        Assertions.assertTrue(Files.isRegularFile(pid), "no pid file for " + part);
        long p = Long.parseLong(Files.readString(pid).strip());
        ProcessHandle.of(p).ifPresent(h -> {
            h.descendants().forEach(ProcessHandle::destroyForcibly);
            h.destroyForcibly();
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (ProcessHandle.of(p).map(ProcessHandle::isAlive).orElse(false) && System.nanoTime() < deadline) Thread.sleep(100);
    }

    static String tail(String s) {
        return s.length() <= 6000 ? s : s.substring(s.length() - 6000);
    }

    static Path sharedData(String name) {
        return SharedTestData.require(name);
    }

    /**
     * The committed source model (models/source.onnx and its card), the one {@code ./pipeline up} and the demo serve. The
     * scenarios used to train a small model for a fixed number of minutes, so its quality (and with it whether an
     * adapted candidate passed the gate) depended on how fast the CI machine happened to be; the committed weights make
     * the scenarios repeatable.
     */
    static Path sourceModel() {
        Path model = BrokerProcess.repoRoot().resolve("models/source.onnx");
        Assertions.assertTrue(Files.isRegularFile(model), "committed source model missing: " + model);
        Assertions.assertTrue(Files.isRegularFile(model.resolveSibling("source.card.json")), "its card is missing");
        return model;
    }

    /** Series UID -> ids of the DiagnosticReports in the stack's EHR whose segmentation-report identifier names it. */
    Map<String, List<String>> reportsBySeries() throws Exception {
        String url = "http://127.0.0.1:" + port("EHR_PORT") + "/fhir/DiagnosticReport?_count=1000";
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        JsonNode bundle = EventJson.mapper().readTree(r.body());
        Map<String, List<String>> out = new TreeMap<>();
        for (JsonNode e : bundle.path("entry")) {
            JsonNode dr = e.path("resource");
            for (JsonNode id : dr.path("identifier")) {
                if ("urn:imaging-pipeline:id:segmentation-report".equals(id.path("system").asText())) {
                    String value = id.path("value").asText();
                    String series = value.substring(0, value.lastIndexOf(':'));
                    out.computeIfAbsent(series, k -> new ArrayList<>()).add(dr.path("id").asText());
                }
            }
        }
        return out;
    }
}
