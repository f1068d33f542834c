package org.imagingpipeline.retrain.service.jobs;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.imagingpipeline.events.EventJson;
import org.imagingpipeline.retrain.service.AtomicFiles;
import org.jboss.logging.Logger;

/**
 * The durable job list: one JSON file per job in a directory, each written atomically ({@link AtomicFiles}) on every
 * change. A job is never deleted. A job file that cannot be read (not JSON, no id or an id that is not its file name, no
 * status, domain, method or creation time) is moved aside as {@code <name>.corrupt-<yyyyMMddTHHmmssZ>} with a warning
 * ({@link #movedAside()}; the service counts them in {@code retrain_job_files_corrupt_total}): one bad file never stops
 * the service from starting, and it stays there for a person to look at.
 *
 * <p>{@link #recover} is the restart rule: QUEUED jobs are resumed in creation order; a RUNNING job whose adapted model
 * was already stored (phase PUBLISHING) has its publication completed (the registry records are idempotent by event id);
 * any other RUNNING job (its subprocess died with the old process) is
 * <ul>
 *   <li>drift-triggered ({@link Job#driftTriggered()}: no person waits for it, and the drift confirmation that started it
 *       will not come again): QUEUED again, to run from the start, while it was started fewer than {@code maxAttempts}
 *       times ({@link Job#attempts}); then FAILED, so that a job that brings the service down cannot do so forever;</li>
 *   <li>started by a POST: FAILED "interrupted by restart" (the person who started it sees that and may POST again).</li>
 * </ul>
 */
public final class JobStore {
    private static final Logger LOG = Logger.getLogger(JobStore.class);
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9_.-]{1,100}");
    private static final ObjectMapper JSON = EventJson.mapper();
    private static final DateTimeFormatter ASIDE_TIME = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

    private final Path dir;
    private final Map<String, Job> jobs = new LinkedHashMap<>();
    private final List<Path> movedAside = new ArrayList<>();

    public JobStore(Path dir) throws IOException {
        this(dir, Clock.systemUTC());
    }

    public JobStore(Path dir, Clock clock) throws IOException {
        this.dir = dir;
        Files.createDirectories(dir);
        AtomicFiles.removeLeftovers(dir);
        List<Path> files;
        try (var list = Files.list(dir)) {
            files = list.filter(p -> !AtomicFiles.isTemporary(p) && p.getFileName().toString().endsWith(".json")).sorted().toList();
        }
        for (Path p : files) {
            try {
                Job j = read(p);
                jobs.put(j.id, j);
            } catch (IOException | RuntimeException e) {
                moveAside(p, e, clock.instant());
            }
        }
    }

    /** A job file, checked: what {@link #recover} and the workers rely on is there, and the id is the file's name. */
    private static Job read(Path p) throws IOException {
        Job j = JSON.readValue(p.toFile(), Job.class);
        if (j == null) throw new IOException("empty (JSON null)");
        String name = p.getFileName().toString();
        String stem = name.substring(0, name.length() - ".json".length());
        if (j.id == null || !ID.matcher(j.id).matches() || !j.id.equals(stem)) throw new IOException("id " + j.id + " is not the file's name");
        if (j.status == null || j.domainId == null || j.method == null || j.createdAt == null) {
            throw new IOException("status, domainId, method or createdAt missing");
        }
        return j;
    }

    private void moveAside(Path p, Exception why, Instant now) throws IOException {
        Path target = p.resolveSibling(p.getFileName() + ".corrupt-" + ASIDE_TIME.format(now));
        for (int i = 1; Files.exists(target); i++) target = p.resolveSibling(p.getFileName() + ".corrupt-" + ASIDE_TIME.format(now) + "-" + i);
        Files.move(p, target, StandardCopyOption.ATOMIC_MOVE);
        movedAside.add(target);
        String reason = why.getMessage() == null ? why.toString() : why.getMessage().lines().findFirst().orElse("");
        LOG.warnf("corrupt job file %s moved aside as %s (%s: %s); the other jobs are kept", p, target.getFileName(),
                why.getClass().getSimpleName(), reason.length() > 300 ? reason.substring(0, 300) + "..." : reason);
    }

    /** The job files this store moved aside as corrupt when it opened the directory. */
    public List<Path> movedAside() {
        return List.copyOf(movedAside);
    }

    public Path dir() {
        return dir;
    }

    /** Persists the job (atomically) and keeps it as the current state. */
    public synchronized void save(Job job) {
        if (!ID.matcher(job.id).matches()) throw new IllegalArgumentException("bad job id " + job.id);
        try {
            AtomicFiles.write(dir.resolve(job.id + ".json"), JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(job));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot persist job " + job.id + " in " + dir, e);
        }
        jobs.put(job.id, job.copy());
    }

    public synchronized Optional<Job> get(String id) {
        Job j = jobs.get(id);
        return Optional.ofNullable(j == null ? null : j.copy());
    }

    /** All jobs, newest first. */
    public synchronized List<Job> all() {
        return jobs.values().stream().sorted(Comparator.comparing((Job j) -> j.createdAt).reversed()).map(Job::copy).toList();
    }

    public synchronized Optional<Job> findByTrigger(String trigger) {
        return jobs.values().stream().filter(j -> trigger.equals(j.trigger)).findFirst().map(Job::copy);
    }

    /** {@link #recover(Instant, int)} with {@link JobSettings#DEFAULT_MAX_ATTEMPTS}. */
    public synchronized List<Job> recover(Instant now) {
        return recover(now, JobSettings.DEFAULT_MAX_ATTEMPTS);
    }

    /**
     * Applies the restart rule (see the class comment) and returns the jobs to run, oldest first (re-queued ones are
     * QUEUED with {@link Job#attempts} > 0).
     */
    public synchronized List<Job> recover(Instant now, int maxAttempts) {
        List<Job> toRun = new ArrayList<>();
        for (Job j : jobs.values().stream().sorted(Comparator.comparing((Job j) -> j.createdAt)).toList()) {
            if (j.status == Job.Status.RUNNING) {
                if (j.phase == Job.Phase.PUBLISHING && j.model != null) {
                    j.recovery = "restart at " + now + " during publication: publication completed after restart";
                    save(j);
                    toRun.add(j);
                    LOG.infof("job %s (domain %s): completing its publication after restart", j.id, j.domainId);
                    continue;
                }
                int started = Math.max(1, j.attempts); // a job saved before attempts were counted was started once
                String was = "interrupted by restart (was RUNNING, phase " + j.phase + ")";
                if (j.driftTriggered() && started < maxAttempts) {
                    j.recovery = "restart at " + now + " while " + j.phase + ": " + was + "; re-queued (attempt " + started + " of "
                            + maxAttempts + ", retrain.jobs.max-attempts)";
                    j.attempts = started;
                    j.status = Job.Status.QUEUED;
                    j.phase = null;
                    j.progress = null;
                    j.error = null;
                    save(j);
                    toRun.add(j);
                    LOG.warnf("job %s (domain %s, %s): %s", j.id, j.domainId, j.trigger, j.recovery);
                } else {
                    j.recovery = "restart at " + now + " while " + j.phase;
                    j.status = Job.Status.FAILED;
                    j.error = j.driftTriggered() ? was + " on each of its " + started + " attempts (retrain.jobs.max-attempts " + maxAttempts + ")"
                            : was;
                    j.finishedAt = now;
                    save(j);
                    LOG.warnf("job %s (domain %s): marked FAILED, %s", j.id, j.domainId, j.error);
                }
            } else if (j.status == Job.Status.QUEUED) {
                toRun.add(j);
            }
        }
        return toRun;
    }
}
