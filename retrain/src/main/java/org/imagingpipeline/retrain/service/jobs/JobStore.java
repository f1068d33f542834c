package org.imagingpipeline.retrain.service.jobs;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
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
 * change. A job is never deleted. {@link #recover} is the restart rule: QUEUED jobs are resumed in creation order;
 * a RUNNING job whose adapted model was already stored (phase PUBLISHING) has its publication completed (the
 * registry records are idempotent by event id); any other RUNNING job is marked FAILED "interrupted by restart"
 * (its subprocess died with the old process; ML ops can POST the job again).
 */
public final class JobStore {
    private static final Logger LOG = Logger.getLogger(JobStore.class);
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9_.-]{1,100}");
    private static final ObjectMapper JSON = EventJson.mapper();

    private final Path dir;
    private final Map<String, Job> jobs = new LinkedHashMap<>();

    public JobStore(Path dir) throws IOException {
        this.dir = dir;
        Files.createDirectories(dir);
        AtomicFiles.removeLeftovers(dir);
        try (var files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                if (AtomicFiles.isTemporary(p) || !p.getFileName().toString().endsWith(".json")) continue;
                Job j = JSON.readValue(p.toFile(), Job.class);
                jobs.put(j.id, j);
            }
        }
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

    /**
     * Applies the restart rule (see the class comment) and returns the jobs to run, oldest first.
     */
    public synchronized List<Job> recover(Instant now) {
        List<Job> toRun = new ArrayList<>();
        for (Job j : jobs.values().stream().sorted(Comparator.comparing((Job j) -> j.createdAt)).toList()) {
            if (j.status == Job.Status.RUNNING) {
                if (j.phase == Job.Phase.PUBLISHING && j.model != null) {
                    j.recovery = "restart at " + now + " during publication: publication completed after restart";
                    save(j);
                    toRun.add(j);
                    LOG.infof("job %s (domain %s): completing its publication after restart", j.id, j.domainId);
                } else {
                    j.recovery = "restart at " + now + " while " + j.phase;
                    j.status = Job.Status.FAILED;
                    j.error = "interrupted by restart (was RUNNING, phase " + j.phase + ")";
                    j.finishedAt = now;
                    save(j);
                    LOG.warnf("job %s (domain %s): marked FAILED, interrupted by restart", j.id, j.domainId);
                }
            } else if (j.status == Job.Status.QUEUED) {
                toRun.add(j);
            }
        }
        return toRun;
    }
}
