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
import org.imagingpipeline.retrain.service.registry.RegistryView;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The job runner stopped (a clean shutdown, as a rolling restart does) while jobs run, and started again on the same
 * job directory: a drift-triggered job is not FAILED by the stop but re-queued by the next start, each start counted in
 * {@code attempts}, until {@code retrain.jobs.max-attempts}; a job started by a POST ends FAILED "interrupted by
 * restart". The "adapt command" is a process that only waits (`sleep`), so that each stop finds the job ADAPTING; no
 * adaptation is tested here, and nothing is published (no broker).
 */
class JobRunnerStopTest {
    @TempDir
    Path tmp;

    @Test
    void stoppedDriftJobsAreRequeuedUpToMaxAttemptsManualOnesFail() throws Exception {
        String domain = "dom-stop000001";
        Path parent = Files.writeString(tmp.resolve("parent.onnx"), "parent " + System.nanoTime());
        String sha = Hashing.sha256Hex(parent);
        ModelVersion.Serving serving = new ModelVersion.Serving("source-s", parent.toUri().toString(), sha);
        RegistryView view = new RegistryView();
        view.apply(domain, new ModelVersion(1, "s", domain, "source-s", "unet", serving.uri(), sha, ModelVersion.Status.PROMOTED, "source",
                null, null, null, null, serving, Instant.now()), 0);
        LocalBlobStore blobs = new LocalBlobStore(tmp.resolve("blobs"), false);
        SeriesCatalog catalog = new SeriesCatalog(tmp.resolve("series"), 10);
        catalog.add(TestDicom.storedSeries(blobs, domain, "2.25.71", 2, 1));
        JobSettings settings = new JobSettings(List.of("bash", "-c", "sleep 120"), tmp, tmp.resolve("work"), tmp.resolve("models"), null,
                null, null, 10.0, Duration.ofSeconds(5), 50, "unet", 2, false, 1, 3);
        SimpleMeterRegistry meters = new SimpleMeterRegistry();
        Path jobs = tmp.resolve("jobs");

        // First run: both start; the service stops while they adapt.
        String drift;
        String manual;
        try (RegistryPublisher publisher = new RegistryPublisher(KafkaClients.of("127.0.0.1:9"), Topics.MODEL_VERSIONS, view,
                ModelSigning.generate())) {
            JobStore store = new JobStore(jobs);
            JobRunner runner = runner(settings, store, catalog, blobs, view, publisher, meters);
            drift = runner.submit(domain, "auto", null, "drift:" + domain + "#1").id;
            manual = runner.submit(domain, "adabn", null, "api").id;
            awaitAdapting(store, drift, manual);
            runner.close();
            Job stopped = store.get(drift).orElseThrow();
            assertEquals(Job.Status.RUNNING, stopped.status, "a stop is not a failure: " + stopped.error);
            assertTrue(stopped.recovery.contains("the service stopped"), stopped.recovery);
            assertEquals(1, stopped.attempts);

            // Second and third runs: the drift-triggered job runs again each time (the manual one is FAILED at once).
            for (int start = 2; start <= 3; start++) {
                store = new JobStore(jobs);
                runner = runner(settings, store, catalog, blobs, view, publisher, meters);
                if (start == 2) {
                    Job m = store.get(manual).orElseThrow();
                    assertEquals(Job.Status.FAILED, m.status);
                    assertEquals("interrupted by restart (was RUNNING, phase ADAPTING)", m.error);
                }
                awaitAdapting(store, drift);
                assertEquals(start, store.get(drift).orElseThrow().attempts);
                runner.close();
            }
            assertEquals(2.0, meters.get("retrain.jobs.requeued").tag("method", "auto").counter().count());

            // Fourth start: three attempts were made, the job is FAILED, nothing runs.
            store = new JobStore(jobs);
            runner = runner(settings, store, catalog, blobs, view, publisher, meters);
            try {
                Job d = store.get(drift).orElseThrow();
                assertEquals(Job.Status.FAILED, d.status);
                assertTrue(d.error.contains("on each of its 3 attempts"), d.error);
                assertEquals(0, runner.queued());
            } finally {
                runner.close();
            }
        }
    }

    private static JobRunner runner(JobSettings settings, JobStore store, SeriesCatalog catalog, LocalBlobStore blobs, RegistryView view,
                                    RegistryPublisher publisher, SimpleMeterRegistry meters) {
        return new JobRunner(settings, store, catalog, new SeriesExporter(blobs), view, publisher, new RetrainMetrics(meters, () -> 0),
                Clock.systemUTC()).start();
    }

    private static void awaitAdapting(JobStore store, String... ids) throws InterruptedException {
        long end = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            boolean all = true;
            for (String id : ids) {
                Job j = store.get(id).orElseThrow();
                all &= j.status == Job.Status.RUNNING && j.phase == Job.Phase.ADAPTING;
            }
            if (all) return;
            if (System.nanoTime() > end) {
                throw new AssertionError("jobs not ADAPTING: " + List.of(ids).stream().map(i -> store.get(i).orElseThrow())
                        .map(j -> j.id + " " + j.status + " " + j.phase + " " + j.error).toList());
            }
            Thread.sleep(50);
        }
    }
}
