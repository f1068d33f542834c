package org.imagingpipeline.retrain.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
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
    void aCorruptJobFileIsMovedAsideAndTheOthersLoad() throws Exception {
        JobStore store = new JobStore(tmp);
        store.save(Job.queued("job-good", "dom-a", "adabn", null, "api", T0));
        Files.writeString(tmp.resolve("job-garbage.json"), "{\"id\": \"job-garbage\", \"status\": ");
        Files.writeString(tmp.resolve("job-empty.json"), "");
        Files.writeString(tmp.resolve("job-null.json"), "null");
        Files.writeString(tmp.resolve("job-noid.json"), "{\"status\": \"QUEUED\", \"domainId\": \"d\", \"method\": \"adabn\"}");
        Files.writeString(tmp.resolve("job-badstatus.json"), Files.readString(tmp.resolve("job-good.json"))
                .replace("job-good", "job-badstatus").replace("QUEUED", "HALF_DONE"));
        // a valid job under another job's name: never two jobs with one id
        Files.writeString(tmp.resolve("job-other.json"), Files.readString(tmp.resolve("job-good.json")));
        Clock clock = Clock.fixed(T0.plusSeconds(3723), ZoneOffset.UTC);

        JobStore restarted = new JobStore(tmp, clock);

        assertEquals(List.of("job-good"), restarted.all().stream().map(j -> j.id).toList());
        List<String> aside = restarted.movedAside().stream().map(p -> p.getFileName().toString()).sorted().toList();
        assertEquals(List.of("job-badstatus.json.corrupt-20260101T010203Z", "job-empty.json.corrupt-20260101T010203Z",
                "job-garbage.json.corrupt-20260101T010203Z", "job-noid.json.corrupt-20260101T010203Z",
                "job-null.json.corrupt-20260101T010203Z", "job-other.json.corrupt-20260101T010203Z"), aside);
        assertTrue(Files.notExists(tmp.resolve("job-garbage.json")));
        assertEquals("{\"id\": \"job-garbage\", \"status\": ", Files.readString(tmp.resolve("job-garbage.json.corrupt-20260101T010203Z")),
                "kept as it was, for a person to look at");
        assertEquals(List.of("job-good"), restarted.recover(T0.plusSeconds(3723)).stream().map(j -> j.id).toList());
        assertEquals(List.of(), new JobStore(tmp, clock).movedAside(), "moved aside once; the next start reads the good ones only");
    }

    @Test
    void anInterruptedDriftTriggeredJobIsRequeuedForABoundedNumberOfAttempts() throws Exception {
        JobStore store = new JobStore(tmp);
        Job drift = running(Job.queued("job-d1", "dom-a", "auto", null, "drift:dom-a#7", T0), Job.Phase.ADAPTING, 1);
        Job legacy = running(Job.queued("job-d0", "dom-b", "auto", null, "drift:dom-b#2", T0.plusSeconds(1)), Job.Phase.EXPORTING, 0);
        Job exhausted = running(Job.queued("job-d3", "dom-c", "auto", null, "drift:dom-c#1", T0.plusSeconds(2)), Job.Phase.ADAPTING, 3);
        Job manual = running(Job.queued("job-m", "dom-d", "adabn", null, "api", T0.plusSeconds(3)), Job.Phase.ADAPTING, 1);
        for (Job j : List.of(drift, legacy, exhausted, manual)) store.save(j);

        List<Job> toRun = new JobStore(tmp).recover(T0.plusSeconds(60), 3);

        assertEquals(List.of("job-d1", "job-d0"), toRun.stream().map(j -> j.id).toList());
        JobStore after = new JobStore(tmp);
        Job d1 = after.get("job-d1").orElseThrow();
        assertEquals(Job.Status.QUEUED, d1.status, "durably re-queued");
        assertNull(d1.phase);
        assertNull(d1.progress);
        assertEquals(1, d1.attempts);
        assertTrue(d1.recovery.contains("re-queued (attempt 1 of 3"), d1.recovery);
        assertEquals(1, after.get("job-d0").orElseThrow().attempts, "a job saved before attempts were counted was started once");
        Job d3 = after.get("job-d3").orElseThrow();
        assertEquals(Job.Status.FAILED, d3.status, "no crash loop: at most max-attempts starts");
        assertEquals("interrupted by restart (was RUNNING, phase ADAPTING) on each of its 3 attempts (retrain.jobs.max-attempts 3)", d3.error);
        Job m = after.get("job-m").orElseThrow();
        assertEquals(Job.Status.FAILED, m.status, "started by a person: FAILED, the person may POST it again");
        assertEquals("interrupted by restart (was RUNNING, phase ADAPTING)", m.error);
        assertEquals(T0.plusSeconds(60), m.finishedAt);
    }

    private static Job running(Job j, Job.Phase phase, int attempts) {
        j.status = Job.Status.RUNNING;
        j.phase = phase;
        j.attempts = attempts;
        j.startedAt = j.createdAt.plusSeconds(1);
        j.progress = new Job.Progress(1, 10, 0.1, "step 1/10", j.createdAt);
        return j;
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
