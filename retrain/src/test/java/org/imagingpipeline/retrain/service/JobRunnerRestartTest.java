package org.imagingpipeline.retrain.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.imagingpipeline.blob.LocalBlobStore;
import org.imagingpipeline.events.ModelVersion;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.events.signing.ModelSigning;
import org.imagingpipeline.kafka.KafkaClients;
import org.imagingpipeline.retrain.Hashing;
import org.imagingpipeline.retrain.service.data.SeriesCatalog;
import org.imagingpipeline.retrain.service.data.SeriesExporter;
import org.imagingpipeline.retrain.service.jobs.Job;
import org.imagingpipeline.retrain.service.jobs.JobRunner;
import org.imagingpipeline.retrain.service.jobs.JobSettings;
import org.imagingpipeline.retrain.service.jobs.JobStore;
import org.imagingpipeline.retrain.service.registry.RegistryPublisher;
import org.imagingpipeline.retrain.service.registry.RegistryReader;
import org.imagingpipeline.retrain.service.registry.RegistryView;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A restart of the job machinery on a job directory that a crash left behind, against a real broker: the interrupted
 * RUNNING job is FAILED explicitly, the one that had stored its model completes its publication, the QUEUED one runs.
 */
class JobRunnerRestartTest {
    @TempDir
    Path tmp;

    @Test
    void restartOutcomesAreExplicitAndNothingIsLost() throws Exception {
        String bootstrap = TestBroker.bootstrap();
        String domain = "dom-restart00001";
        Path parent = Files.writeString(tmp.resolve("parent.onnx"), "parent model bytes " + System.nanoTime());
        String parentSha = Hashing.sha256Hex(parent);
        ModelVersion.Serving source = new ModelVersion.Serving("source-r", parent.toUri().toString(), parentSha);
        // This test's own "default" would disturb other tests on the shared broker: route the test domain itself.
        ModelSigning.Signer signer = ModelSigning.generate();
        TestBroker.send(bootstrap, Topics.MODEL_VERSIONS, domain, signer.sign(domain, new ModelVersion(1, "r", domain, "source-r", "unet",
                source.uri(), parentSha, ModelVersion.Status.PROMOTED, "source", null, null, null, null, source, Instant.now())),
                ModelVersion.class);
        // Someone else's key: the registry view ignores it, so the job's parent stays source-r.
        ModelVersion.Serving forged = new ModelVersion.Serving("forged", tmp.resolve("forged.onnx").toUri().toString(), "ee".repeat(32));
        TestBroker.send(bootstrap, Topics.MODEL_VERSIONS, domain, ModelSigning.generate().sign(domain, new ModelVersion(1, "f", domain,
                "forged", "unet", forged.uri(), forged.sha256(), ModelVersion.Status.PROMOTED, "source", null, null, null, null, forged,
                Instant.now())), ModelVersion.class);

        LocalBlobStore blobs = new LocalBlobStore(tmp.resolve("blobs"), false);
        SeriesCatalog catalog = new SeriesCatalog(tmp.resolve("series"), 10);
        catalog.add(TestDicom.storedSeries(blobs, domain, "2.25.1", 3, 1));

        // What the crash left: a QUEUED job, one RUNNING while adapting, one RUNNING with its model stored.
        JobStore crashed = new JobStore(tmp.resolve("jobs"));
        Instant t0 = Instant.now().minusSeconds(600);
        Job queued = Job.queued("job-q", domain, "adabn", new Job.Options(1.0, 3L, null), "api", t0.plusSeconds(3));
        Job adapting = Job.queued("job-a", domain, "adabn", null, "api", t0.plusSeconds(1));
        adapting.status = Job.Status.RUNNING;
        adapting.phase = Job.Phase.ADAPTING;
        Job publishing = Job.queued("job-p", domain, "adversarial", null, "api", t0.plusSeconds(2));
        publishing.status = Job.Status.RUNNING;
        publishing.phase = Job.Phase.PUBLISHING;
        publishing.startedAt = t0.plusSeconds(2);
        Path stored = Files.writeString(Files.createDirectories(tmp.resolve("models")).resolve("earlier.onnx"), "x");
        String storedSha = Hashing.sha256Hex(stored);
        publishing.model = new Job.Model(domain + "-adversarial-" + storedSha.substring(0, 12), stored.toUri().toString(), storedSha,
                parentSha, "source-r");
        publishing.result = Map.of("model", stored.toString(), "sha256", storedSha, "gate", Map.of("passed", true, "reasons", List.of()));
        publishing.seriesUids = List.of("2.25.1");
        for (Job j : List.of(queued, adapting, publishing)) crashed.save(j);

        RegistryView view = new RegistryView();
        JobStore store = new JobStore(tmp.resolve("jobs"));
        JobSettings settings = new JobSettings(List.of("bash", FakeAdapt.script().toString()), tmp, tmp.resolve("work"),
                tmp.resolve("models"), null, null, null, 1.0, Duration.ofSeconds(30), 50, "unet", 1, false, 1);
        try (RegistryReader reader = new RegistryReader(KafkaClients.of(bootstrap), Topics.MODEL_VERSIONS, view,
                new ModelSigning.Verifier(List.of(signer.publicKey()))).start();
             RegistryPublisher publisher = new RegistryPublisher(KafkaClients.of(bootstrap), Topics.MODEL_VERSIONS, view, signer)) {
            assertTrue(view.await(v -> v.caughtUp() && v.servingFor(domain).isPresent(), Duration.ofSeconds(60)));
            assertEquals("source-r", view.servingFor(domain).orElseThrow().version(), "a record signed by another key is ignored");
            JobRunner runner = new JobRunner(settings, store, catalog, new SeriesExporter(blobs), view, publisher,
                    new RetrainMetrics(new SimpleMeterRegistry(), () -> 0), Clock.systemUTC()).start();
            try {
                long end = System.nanoTime() + Duration.ofSeconds(90).toNanos();
                while (System.nanoTime() < end && !(store.get("job-q").orElseThrow().finished()
                        && store.get("job-p").orElseThrow().finished())) {
                    Thread.sleep(200);
                }
            } finally {
                runner.close();
            }
        }
        Job a = store.get("job-a").orElseThrow();
        assertEquals(Job.Status.FAILED, a.status);
        assertEquals("interrupted by restart (was RUNNING, phase ADAPTING)", a.error);
        Job p = store.get("job-p").orElseThrow();
        assertEquals(Job.Status.SUCCEEDED, p.status, p.error);
        Job q = store.get("job-q").orElseThrow();
        assertEquals(Job.Status.SUCCEEDED, q.status, q.error + " " + q.stderrTail);
        assertEquals(4, q.progress.step());
        assertEquals(List.of("2.25.1"), q.seriesUids);
        assertEquals(3, q.slices);
        assertTrue(Files.exists(tmp.resolve("models").resolve(q.model.sha256() + ".onnx")));
        assertTrue(Files.notExists(tmp.resolve("work/job-q")), "scratch space removed");

        List<String> statuses = TestBroker.registry(bootstrap).stream()
                .filter(e -> e.getKey().startsWith(domain + "@")).map(e -> e.getKey() + " " + e.getValue().status()).toList();
        assertEquals(List.of(domain + "@" + p.model.version() + " CANDIDATE", domain + "@" + p.model.version() + " PROMOTED",
                domain + "@" + q.model.version() + " CANDIDATE", domain + "@" + q.model.version() + " PROMOTED"), statuses);
        ModelSigning.Verifier verifier = new ModelSigning.Verifier(List.of(signer.publicKey()));
        TestBroker.registry(bootstrap).stream().filter(e -> e.getKey().startsWith(domain + "@")).forEach(e ->
                assertEquals(ModelSigning.Verdict.VALID, verifier.verify(e.getKey(), e.getValue()), "signed by retrain: " + e.getKey()));
    }
}
