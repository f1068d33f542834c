package org.imagingpipeline.retrain.service.jobs;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One adaptation job, as persisted in {@code retrain.home/jobs/<id>.json} and shown by GET /jobs/{id}. Mutable:
 * the {@link JobRunner} changes it and saves it after every change; REST answers a {@link #copy()}.
 */
public final class Job {
    public enum Status { QUEUED, RUNNING, SUCCEEDED, REJECTED, FAILED }

    /** Where a RUNNING job is. */
    public enum Phase { EXPORTING, ADAPTING, PUBLISHING }

    /** Subprocess progress: its last JSON progress line on stderr ({@code --progress json}); {@code line} in words. */
    public record Progress(long step, long total, double fraction, String line, Instant at) {
    }

    /** Options of the job (POST body; defaults from configuration). */
    public record Options(Double maxMinutes, Long seed, Integer maxSeries) {
    }

    /** A series that was not exported, and why. */
    public record Skipped(String seriesInstanceUid, String reason) {
    }

    /** The adapted model once it is in the models directory. */
    public record Model(String version, String uri, String sha256, String parentSha256, String parentVersion) {
    }

    public String id;
    public String domainId;
    public String method;
    public Options options;
    /** "api" or "drift:" + the DomainEvent's eventId. */
    public String trigger;
    public Status status;
    public Phase phase;
    public Progress progress;
    public Instant createdAt;
    public Instant startedAt;
    public Instant finishedAt;
    /** seconds per phase: export, adapt, publish, total */
    public Map<String, Double> timings = new LinkedHashMap<>();
    public List<String> seriesUids = new ArrayList<>();
    public String seriesHash;
    public int slices;
    public List<Skipped> skipped = new ArrayList<>();
    /** series of this job with expert-corrected masks (retrain.expert-labels), passed to the gate */
    public List<String> expertLabelledSeries = new ArrayList<>();
    /** the adapt command's result line (the contract JSON) */
    public Map<String, Object> result;
    /** the gate JSON of the result (null when the command reported none) */
    public Map<String, Object> evidence;
    public Model model;
    /** auto: the versions of the candidates it did not choose, registered as REJECTED with their gate evidence */
    public List<String> rejectedVersions = new ArrayList<>();
    /** the promotion decision in words */
    public String decision;
    public String error;
    /** the last lines the subprocess wrote to stderr */
    public List<String> stderrTail = new ArrayList<>();
    /** set when a restart found this job RUNNING (or the service stopped under it): what became of it */
    public String recovery;
    /** how many times a worker started this job (QUEUED -> RUNNING); a restart re-queues a drift-triggered job while this is below retrain.jobs.max-attempts */
    public int attempts;

    public static Job queued(String id, String domainId, String method, Options options, String trigger, Instant now) {
        Job j = new Job();
        j.id = id;
        j.domainId = domainId;
        j.method = method;
        j.options = options;
        j.trigger = trigger;
        j.status = Status.QUEUED;
        j.createdAt = now;
        return j;
    }

    /** The trigger prefix of a job that a DRIFT_CONFIRMED domain event started ({@link DriftTrigger}). */
    public static final String DRIFT_TRIGGER = "drift:";

    /** Started by a drift confirmation (no person waits for it: a restart re-queues it), not by a POST. */
    public boolean driftTriggered() {
        return trigger != null && trigger.startsWith(DRIFT_TRIGGER);
    }

    public boolean finished() {
        return status == Status.SUCCEEDED || status == Status.REJECTED || status == Status.FAILED;
    }

    void timing(String name, Instant from, Instant to) {
        timings.put(name, Duration.between(from, to).toMillis() / 1000.0);
    }

    public Job copy() {
        Job j = new Job();
        j.id = id;
        j.domainId = domainId;
        j.method = method;
        j.options = options;
        j.trigger = trigger;
        j.status = status;
        j.phase = phase;
        j.progress = progress;
        j.createdAt = createdAt;
        j.startedAt = startedAt;
        j.finishedAt = finishedAt;
        j.timings = new LinkedHashMap<>(timings);
        j.seriesUids = new ArrayList<>(seriesUids);
        j.seriesHash = seriesHash;
        j.slices = slices;
        j.skipped = new ArrayList<>(skipped);
        j.expertLabelledSeries = new ArrayList<>(expertLabelledSeries);
        j.result = result;
        j.evidence = evidence;
        j.model = model;
        j.rejectedVersions = new ArrayList<>(rejectedVersions);
        j.decision = decision;
        j.error = error;
        j.stderrTail = new ArrayList<>(stderrTail);
        j.recovery = recovery;
        j.attempts = attempts;
        return j;
    }
}
