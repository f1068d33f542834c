package org.imagingpipeline.retrain.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.imagingpipeline.retrain.service.adapt.AdaptProcess;
import org.imagingpipeline.retrain.service.adapt.AdaptRequest;
import org.imagingpipeline.retrain.service.adapt.ProgressParser;
import org.imagingpipeline.retrain.service.jobs.Job;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AdaptProcessTest {
    @TempDir
    Path tmp;

    @Test
    void progressIsReadFromJsonProgressLines() {
        Job.Progress p = ProgressParser.parse("{\"progress\":{\"phase\":\"optimise\",\"method\":\"entropy\",\"step\":12,"
                + "\"steps\":48,\"loss\":0.41,\"metric\":\"entropy\",\"metric_value\":0.62,\"s_per_step\":1.1,"
                + "\"elapsed_s\":13.2,\"eta_s\":39.6,\"rss_mb\":812,\"added_later\":true}}", Instant.EPOCH).orElseThrow();
        assertEquals(12, p.step());
        assertEquals(48, p.total());
        assertEquals(0.25, p.fraction(), 1e-9);
        assertEquals("entropy optimise step 12/48 loss 0.41 entropy 0.62 ETA 0m40s", p.line());
        assertEquals(Instant.EPOCH, p.at());
        for (String notProgress : List.of("epoch 1/3 [####----] step 12/48 loss 0.41 dice 0.62 1.10 s/step ETA 40s",
                "adapt: gate on adabn PASSED: [step 1/2]", "{\"model\":\"x.onnx\"}", "{\"progress\":3}", "{\"progress\":{",
                "{\"progress\":{\"step\":5,\"steps\":0}}", "{\"progress\":{\"step\":9,\"steps\":4}}",
                "{\"progress\":{\"step\":\"many\",\"steps\":4}}")) {
            assertTrue(ProgressParser.parse(notProgress, Instant.EPOCH).isEmpty(), notProgress);
        }
    }

    @Test
    void contractRunGivesResultGateAndProgress() throws Exception {
        Path model = Files.writeString(tmp.resolve("parent.onnx"), "parent");
        Path site = Files.createDirectories(tmp.resolve("data/dom-x/1.2.3"));
        Files.write(site.resolve("slice_000.png"), new byte[] {1});
        List<Job.Progress> progress = new CopyOnWriteArrayList<>();
        AdaptProcess.Outcome o = fake().run(request(model, "adabn"), Duration.ofSeconds(60), progress::add);
        assertTrue(o.succeeded(), String.valueOf(o));
        assertTrue(o.result().gatePassed());
        assertEquals("adabn", o.result().json().get("method"));
        assertEquals(4, progress.size(), "the command was asked for --progress json and each JSON line was read");
        assertEquals(4, progress.get(3).step());
        assertEquals("adabn optimise step 4/4 loss 0.5 entropy 0.31 ETA 0m00s", progress.get(3).line());
        assertTrue(o.stderrTail().get(o.stderrTail().size() - 1).startsWith("adapt: wrote"));
        assertTrue(o.stderrTail().stream().noneMatch(l -> l.contains("\"progress\"")), "progress lines are not log lines: "
                + o.stderrTail());
        List<String> cmd = fake().commandLine(request(model, "adabn"));
        assertEquals(List.of("--progress", "json"), cmd.subList(cmd.size() - 2, cmd.size()));

        AdaptProcess.Outcome rejected = fake().run(request(model, "entropy"), Duration.ofSeconds(60), p -> { });
        assertTrue(rejected.succeeded(), "exit 0 with a failed gate is a result, not a failure");
        assertFalse(rejected.result().gatePassed());
        assertEquals(List.of("target entropy did not improve (0.31 -> 0.33)"), rejected.result().gateReasons());
    }

    @Test
    void badInputFailureAndTimeoutAreExplicit() throws Exception {
        Path model = Files.writeString(tmp.resolve("parent.onnx"), "parent");
        AdaptProcess.Outcome bad = fake().run(request(model, "adabn"), Duration.ofSeconds(60), p -> { }); // no data folder
        assertEquals(2, bad.exitCode());
        assertNull(bad.result());
        assertTrue(bad.error().startsWith("adapt bad input (exit 2): adapt: no site folder"), bad.error());

        Path noJson = script("echo 'step 1/2' >&2; echo not-json");
        AdaptProcess.Outcome garbled = new AdaptProcess(List.of("bash", noJson.toString()), tmp).run(request(model, "adabn"),
                Duration.ofSeconds(60), p -> { });
        assertTrue(garbled.error().contains("not a JSON object"), garbled.error());

        Path slow = script("echo 'step 1/100' >&2; sleep 30 & wait");
        long t0 = System.nanoTime();
        AdaptProcess.Outcome timedOut = new AdaptProcess(List.of("bash", slow.toString()), tmp).run(request(model, "adabn"),
                Duration.ofMillis(500), p -> { });
        assertTrue(timedOut.timedOut());
        assertTrue(timedOut.error().contains("time limit"), timedOut.error());
        assertTrue((System.nanoTime() - t0) / 1e9 < 15, "the subprocess and its child were killed, not waited for");
    }

    /**
     * The service's default command: the real adapt CLI in a child JVM of the service's own class path, run from a
     * folder that is not the checkout (no ./pipeline, no relative path into the repository), on two real CS patients
     * with the committed source model.
     */
    @Test
    void selfCommandRunsTheRealAdaptCliFromTheServicesOwnClasspath() throws Exception {
        Path lgg = org.imagingpipeline.testsupport.SharedTestData.require("lgg-flair", "CS");
        Path data = Files.createDirectories(tmp.resolve("data/CS"));
        try (java.util.stream.Stream<Path> patients = Files.list(lgg.resolve("CS"))) {
            for (Path p : patients.sorted().limit(2).toList()) Files.createSymbolicLink(data.resolve(p.getFileName()), p);
        }
        Path model = Files.copy(org.imagingpipeline.testsupport.BrokerProcess.repoRoot().resolve("models/source.onnx"), tmp.resolve("parent.onnx"));
        Path djlCache = Path.of(System.getProperty("retrain.djl.cache", "target/djl-cache"));
        List<String> command = AdaptProcess.selfCommand("-Xmx2g", djlCache);
        assertEquals(AdaptProcess.MAIN_CLASS, command.get(command.size() - 1));
        Path work = Files.createDirectories(tmp.resolve("elsewhere"));
        List<Job.Progress> progress = new CopyOnWriteArrayList<>();
        AdaptRequest request = new AdaptRequest(model, tmp.resolve("data"), "CS", "adabn", tmp.resolve("out/adabn.onnx"), null, null,
                null, 5.0, 1L);
        AdaptProcess.Outcome o = new AdaptProcess(command, work).run(request, Duration.ofMinutes(10), progress::add);
        assertTrue(o.succeeded(), o.error() + "\n" + String.join("\n", o.stderrTail()));
        assertEquals("adabn", o.result().json().get("method"));
        assertTrue(Files.size(tmp.resolve("out/adabn.onnx")) > 1000, "the adapted model was written");
    }

    @Test
    void ownClasspathOfAQuarkusFastJarIsItsAppAndLibraryJars() {
        String sep = java.io.File.pathSeparator;
        assertEquals("/opt/svc/quarkus-app/app/*" + sep + "/opt/svc/quarkus-app/lib/main/*",
                AdaptProcess.ownClasspath("/opt/svc/quarkus-app/quarkus-run.jar"));
        assertEquals("a.jar" + sep + "b/classes", AdaptProcess.ownClasspath("a.jar" + sep + "b/classes"));
    }

    private Path script(String body) throws Exception {
        Path p = tmp.resolve("s" + System.nanoTime() + ".sh");
        Files.writeString(p, "#!/usr/bin/env bash\n" + body + "\n");
        return p;
    }

    private AdaptProcess fake() throws Exception {
        return new AdaptProcess(List.of("bash", FakeAdapt.script().toString()), tmp);
    }

    private AdaptRequest request(Path model, String method) {
        return new AdaptRequest(model, tmp.resolve("data"), "dom-x", method, tmp.resolve(method + ".onnx"), null, null, null, 1.0, 7L);
    }
}
