package org.imagingpipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Stream;
import org.imagingpipeline.retrain.service.adapt.AdaptProcess;
import org.imagingpipeline.retrain.service.adapt.AdaptRequest;
import org.imagingpipeline.retrain.service.jobs.Job;
import org.imagingpipeline.testsupport.BrokerProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The retrain service's image is enough for an adaptation job: a copy of {@code retrain/target/quarkus-app} alone (what
 * the Dockerfile puts in the image), outside the checkout, runs the real adapt CLI the way the service starts it by
 * default ({@code retrain.adapt.command=self}: the class path of the app's own jars, its progress read as JSON), on a real
 * CS patient with the committed source model. No ./pipeline, no jar from the build tree.
 */
class RetrainImageIT {
    @TempDir
    Path tmp;

    @Test
    void anAdaptationJobRunsFromACopyOfTheQuarkusAppAlone() throws Exception {
        Path built = BrokerProcess.repoRoot().resolve("retrain/target/quarkus-app");
        assertTrue(Files.isRegularFile(built.resolve("quarkus-run.jar")), "retrain is packaged: " + built);
        Path app = copy(built, tmp.resolve("image/deployments"));
        Path lgg = PipelineRun.sharedData("lgg-flair");
        Path data = Files.createDirectories(tmp.resolve("job/data/CS"));
        try (Stream<Path> patients = Files.list(lgg.resolve("CS"))) {
            Path patient = patients.sorted().findFirst().orElseThrow();
            copy(patient, data.resolve(patient.getFileName().toString()));
        }
        Path model = Files.copy(BrokerProcess.repoRoot().resolve("models/source.onnx"), tmp.resolve("job/parent.onnx"));

        String classpath = AdaptProcess.ownClasspath(app.resolve("quarkus-run.jar").toString());
        assertFalse(classpath.contains(BrokerProcess.repoRoot().toString()), "nothing from the checkout: " + classpath);
        List<String> command = List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-Xmx2g",
                "-Dai.djl.offline=true", "-Dretrain.djl.cache=" + tmp.resolve("image/djl-cache"), "-cp", classpath, AdaptProcess.MAIN_CLASS);
        List<Job.Progress> progress = new CopyOnWriteArrayList<>();
        AdaptRequest request = new AdaptRequest(model, tmp.resolve("job/data"), "CS", "adabn", tmp.resolve("job/out/adabn.onnx"), null,
                null, null, 5.0, 1L);
        AdaptProcess.Outcome o = new AdaptProcess(command, Files.createDirectories(tmp.resolve("job/work"))).run(request,
                Duration.ofMinutes(10), progress::add);
        assertTrue(o.succeeded(), o.error() + "\n" + String.join("\n", o.stderrTail()));
        assertEquals("adabn", o.result().json().get("method"));
        assertTrue(Files.size(tmp.resolve("job/out/adabn.onnx")) > 1000, "the adapted model was written");
        assertFalse(progress.isEmpty(), "progress came as JSON lines");
    }

    private static Path copy(Path from, Path to) throws IOException {
        try (Stream<Path> all = Files.walk(from)) {
            for (Path p : all.toList()) {
                Path target = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) Files.createDirectories(target);
                else Files.copy(p, target, StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
        return to;
    }
}
