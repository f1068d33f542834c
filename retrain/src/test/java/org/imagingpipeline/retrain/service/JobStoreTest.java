package org.imagingpipeline.retrain.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.imagingpipeline.retrain.service.jobs.Job;
import org.imagingpipeline.retrain.service.jobs.JobStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JobStoreTest {
    @TempDir
    Path tmp;

    private static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");

    @Test
    void restartResumesQueuedFailsInterruptedRunningAndCompletesPublication() throws Exception {
        JobStore store = new JobStore(tmp);
        Job queuedLater = Job.queued("job-3", "dom-a", "adabn", new Job.Options(1.0, 7L, null), "api", T0.plusSeconds(3));
        Job queuedFirst = Job.queued("job-1", "dom-a", "entropy", null, "drift:dom-a#4", T0.plusSeconds(1));
        Job adapting = Job.queued("job-2", "dom-b", "adabn", null, "api", T0.plusSeconds(2));
        adapting.status = Job.Status.RUNNING;
        adapting.phase = Job.Phase.ADAPTING;
        adapting.progress = new Job.Progress(3, 10, 0.3, "step 3/10", T0);
        Job publishing = Job.queued("job-4", "dom-c", "adabn", null, "api", T0.plusSeconds(4));
        publishing.status = Job.Status.RUNNING;
        publishing.phase = Job.Phase.PUBLISHING;
        publishing.model = new Job.Model("dom-c-adabn-abc", "file:///m/abc.onnx", "a".repeat(64), "b".repeat(64), "source-1");
        publishing.result = Map.of("model", "x.onnx", "sha256", "a".repeat(64));
        Job done = Job.queued("job-5", "dom-c", "adabn", null, "api", T0);
        done.status = Job.Status.SUCCEEDED;
        for (Job j : List.of(queuedLater, queuedFirst, adapting, publishing, done)) store.save(j);
        // A crash during a write leaves a hidden temporary file: ignored and removed.
        Files.writeString(tmp.resolve(".job-6.json.tmp-123"), "{\"id\":");

        JobStore restarted = new JobStore(tmp);
        List<Job> toRun = restarted.recover(T0.plusSeconds(60));

        assertEquals(List.of("job-1", "job-3", "job-4"), toRun.stream().map(j -> j.id).toList(), "oldest first");
        Job failed = restarted.get("job-2").orElseThrow();
        assertEquals(Job.Status.FAILED, failed.status);
        assertEquals("interrupted by restart (was RUNNING, phase ADAPTING)", failed.error);
        assertEquals(T0.plusSeconds(60), failed.finishedAt);
        assertEquals(3, failed.progress.step(), "what it had done stays visible");
        assertEquals(Job.Status.QUEUED, restarted.get("job-1").orElseThrow().status);
        assertEquals(7L, restarted.get("job-3").orElseThrow().options.seed());
        assertTrue(restarted.get("job-4").orElseThrow().recovery.contains("publication completed after restart"));
        assertEquals(Job.Status.SUCCEEDED, restarted.get("job-5").orElseThrow().status);
        assertTrue(Files.notExists(tmp.resolve(".job-6.json.tmp-123")));
        assertEquals("job-1", restarted.findByTrigger("drift:dom-a#4").orElseThrow().id);

        // The outcome of the restart is itself durable.
        assertEquals(Job.Status.FAILED, new JobStore(tmp).get("job-2").orElseThrow().status);
        assertEquals(5, new JobStore(tmp).all().size());
    }

    @Test
    void readersGetCopiesNotTheStoredState() throws Exception {
        JobStore store = new JobStore(tmp);
        Job j = Job.queued("job-1", "dom-a", "adabn", null, "api", T0);
        store.save(j);
        j.status = Job.Status.RUNNING; // not saved
        assertEquals(Job.Status.QUEUED, store.get("job-1").orElseThrow().status);
        store.get("job-1").orElseThrow().skipped.add(new Job.Skipped("1.2", "x"));
        assertTrue(store.get("job-1").orElseThrow().skipped.isEmpty());
    }
}
