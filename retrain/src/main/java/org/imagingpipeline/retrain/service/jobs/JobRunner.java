package org.imagingpipeline.retrain.service.jobs;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.channels.ClosedByInterruptException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.stream.Collectors;
import org.imagingpipeline.events.EventJson;
import org.imagingpipeline.events.ModelVersion;
import org.imagingpipeline.retrain.Hashing;
import org.imagingpipeline.retrain.service.RetrainMetrics;
import org.imagingpipeline.retrain.service.SafeNames;
import org.imagingpipeline.retrain.service.adapt.AdaptProcess;
import org.imagingpipeline.retrain.service.adapt.AdaptRequest;
import org.imagingpipeline.retrain.service.adapt.AdaptResult;
import org.imagingpipeline.retrain.service.data.CatalogSeries;
import org.imagingpipeline.retrain.service.data.ExpertLabels;
import org.imagingpipeline.retrain.service.data.SeriesCatalog;
import org.imagingpipeline.retrain.service.data.SeriesExporter;
import org.imagingpipeline.retrain.service.registry.ModelFiles;
import org.imagingpipeline.retrain.service.registry.Promotion;
import org.imagingpipeline.retrain.service.registry.RegistryPublisher;
import org.imagingpipeline.retrain.service.registry.RegistryRecords;
import org.imagingpipeline.retrain.service.registry.RegistryView;
import org.jboss.logging.Logger;

/**
 * The job queue and its workers ({@link JobSettings#workers()} threads, 1 by default: one job at a time). A job:
 * <ol>
 *   <li>EXPORTING: the model serving the domain (or the default model) is the parent; the domain's series are
 *       exported as PNGs ({@link SeriesExporter});</li>
 *   <li>ADAPTING: the adapt command runs as a subprocess ({@link AdaptProcess}); its progress is saved as it comes;</li>
 *   <li>PUBLISHING: the adapted model is copied to {@code models/<sha256>.onnx}, and the {@link Promotion} records go
 *       to ml.model.versions. SUCCEEDED = promoted, REJECTED = the gate said no, FAILED = anything else (with the
 *       error and the subprocess's last stderr lines).</li>
 * </ol>
 * Every state change is saved in the {@link JobStore} before it has effects elsewhere.
 */
public final class JobRunner implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(JobRunner.class);
    private static final ObjectMapper JSON = EventJson.mapper();
    private static final DateTimeFormatter ID_TIME = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(java.time.ZoneOffset.UTC);
    private static final Duration PROGRESS_SAVE_INTERVAL = Duration.ofSeconds(2);

    private final JobSettings settings;
    private final JobStore store;
    private final SeriesCatalog catalog;
    private final SeriesExporter exporter;
    private final RegistryView view;
    private final RegistryPublisher publisher;
    private final RetrainMetrics metrics;
    private final Clock clock;
    private final LinkedBlockingQueue<String> queue = new LinkedBlockingQueue<>();
    private final Map<String, AdaptProcess> running = new ConcurrentHashMap<>();
    private final Set<String> cancelled = ConcurrentHashMap.newKeySet();
    private final List<Thread> workers = new ArrayList<>();
    private volatile boolean open = true;

    public JobRunner(JobSettings settings, JobStore store, SeriesCatalog catalog, SeriesExporter exporter, RegistryView view,
                     RegistryPublisher publisher, RetrainMetrics metrics, Clock clock) {
        this.settings = settings;
        this.store = store;
        this.catalog = catalog;
        this.exporter = exporter;
        this.view = view;
        this.publisher = publisher;
        this.metrics = metrics;
        this.clock = clock;
    }

    /** Applies the restart rule ({@link JobStore#recover}), queues what is to run, starts the workers. */
    public synchronized JobRunner start() {
        for (Job j : store.recover(clock.instant(), settings.maxAttempts())) {
            if (j.status == Job.Status.QUEUED && j.attempts > 0) metrics.jobRequeued(j.method);
            queue.add(j.id);
        }
        for (int i = 0; i < Math.max(1, settings.workers()); i++) {
            Thread t = new Thread(this::work, "retrain-job-worker-" + i);
            t.setDaemon(true);
            t.start();
            workers.add(t);
        }
        return this;
    }

    public boolean isAlive() {
        return open && !workers.isEmpty() && workers.stream().allMatch(Thread::isAlive);
    }

    public int queued() {
        return queue.size();
    }

    /** Queues a job (saved as QUEUED before this returns). */
    public Job submit(String domainId, String method, Job.Options options, String trigger) {
        SafeNames.check(domainId);
        if (!JobSettings.METHODS.contains(method)) {
            throw new IllegalArgumentException("method must be one of " + JobSettings.METHODS + ", got " + method);
        }
        Instant now = clock.instant();
        String id = "job-" + ID_TIME.format(now) + "-" + UUID.randomUUID().toString().substring(0, 8);
        Job job = Job.queued(id, domainId, method, options == null ? new Job.Options(null, null, null) : options, trigger, now);
        store.save(job);
        queue.add(id);
        LOG.infof("job %s queued: domain %s, method %s, trigger %s", id, domainId, method, trigger);
        return job.copy();
    }

    /** Cancels a QUEUED job (FAILED at once) or kills a RUNNING one's subprocess (FAILED when it ends). */
    public synchronized Optional<Job> cancel(String id) {
        Optional<Job> found = store.get(id);
        if (found.isEmpty()) return found;
        Job j = found.get();
        if (j.status == Job.Status.QUEUED) {
            j.status = Job.Status.FAILED;
            j.error = "cancelled by ML ops before it started";
            j.finishedAt = clock.instant();
            store.save(j);
        } else if (j.status == Job.Status.RUNNING) {
            cancelled.add(id);
            AdaptProcess p = running.get(id);
            if (p != null) p.kill();
        }
        return store.get(id);
    }

    private void work() {
        while (open) {
            String id;
            try {
                id = queue.take();
            } catch (InterruptedException e) {
                return;
            }
            Optional<Job> job = claim(id);
            if (job.isEmpty()) continue;
            try {
                execute(job.get());
            } catch (RuntimeException e) {
                LOG.errorf(e, "job %s: unexpected failure", id);
            }
        }
    }

    /**
     * The job if it is still to run (not cancelled meanwhile), a QUEUED one saved as RUNNING under the same lock as
     * {@link #cancel}, so that a cancel cannot be overwritten.
     */
    private synchronized Optional<Job> claim(String id) {
        Optional<Job> job = store.get(id).filter(j -> j.status == Job.Status.QUEUED
                || (j.status == Job.Status.RUNNING && j.phase == Job.Phase.PUBLISHING && j.model != null));
        job.filter(j -> j.status == Job.Status.QUEUED).ifPresent(j -> {
            j.status = Job.Status.RUNNING;
            j.phase = Job.Phase.EXPORTING;
            j.startedAt = clock.instant();
            j.attempts++;
            store.save(j);
        });
        return job;
    }

    private void execute(Job job) {
        Path work = settings.workDirectory().resolve(job.id);
        try {
            if (job.phase == Job.Phase.PUBLISHING) { // a restart found it publishing: complete the publication
                publish(job, AdaptResult.parse(JSON.writeValueAsString(job.result)));
                return;
            }
            ModelVersion.Serving parent = view.servingFor(job.domainId).orElseThrow(() -> new JobFailure(
                    "no model serves domain " + job.domainId + " and ml.model.versions has no 'default' routing record"));
            Path parentFile = localFile(parent);
            export(job, work.resolve("data"));
            check(job);
            job.phase = Job.Phase.ADAPTING;
            store.save(job);
            Instant adaptStart = clock.instant();
            AdaptResult result = adapt(job, parent, parentFile, work);
            job.timing("adaptSeconds", adaptStart, clock.instant());
            registerNotChosen(job, parent, result);
            if (result.nothingChosen()) {
                rejectAll(job, result);
                return;
            }
            store(job, parent, result);
            publish(job, result);
        } catch (JobFailure e) {
            if (!stoppedUnder(job)) fail(job, e.getMessage());
        } catch (InterruptedException e) {
            if (!stoppedUnder(job)) fail(job, "interrupted");
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            if (!stoppedUnder(job)) {
                LOG.errorf(e, "job %s (domain %s) failed", job.id, job.domainId);
                fail(job, e.toString());
            }
        } finally {
            running.remove(job.id);
            if (!settings.keepWork()) deleteTree(work);
        }
    }

    private void export(Job job, Path data) throws IOException, JobFailure {
        Instant start = clock.instant();
        int limit = job.options.maxSeries() != null ? job.options.maxSeries() : settings.maxSeries();
        List<CatalogSeries> series = catalog.series(job.domainId, limit);
        if (series.isEmpty()) throw new JobFailure("no series of domain " + job.domainId + " are known (imaging.series.ready)");
        SeriesExporter.Result r = exporter.export(job.domainId, series, data);
        job.seriesUids = r.exportedSeriesUids().stream().sorted().toList();
        job.seriesHash = seriesHash(job.seriesUids);
        job.slices = r.slices();
        job.skipped = r.skipped().stream().map(s -> new Job.Skipped(s.seriesInstanceUid(), s.reason()))
                .collect(Collectors.toCollection(ArrayList::new));
        metrics.seriesSkipped(r.skipped().size());
        job.timing("exportSeconds", start, clock.instant());
        store.save(job);
        if (r.exportedSeriesUids().isEmpty()) {
            throw new JobFailure("none of the " + series.size() + " series of domain " + job.domainId + " could be exported (first: "
                    + r.skipped().get(0).reason() + ")");
        }
        LOG.infof("job %s: exported %d series (%d slices) of domain %s, skipped %d", job.id, job.seriesUids.size(), job.slices,
                job.domainId, job.skipped.size());
        if (r.exportedSeriesUids().size() < settings.minSeries()) {
            throw new JobFailure("only " + r.exportedSeriesUids().size() + " of the " + series.size() + " series of domain "
                    + job.domainId + " could be exported; adaptation needs at least " + settings.minSeries()
                    + " (retrain.min-series)" + (r.skipped().isEmpty() ? "" : "; first skipped: " + r.skipped().get(0).reason()));
        }
        if (settings.expertLabels() != null) {
            if (settings.sourceData() == null) {
                LOG.warnf("job %s: retrain.expert-labels is set but retrain.source-data is not; the gate needs both, labels unused", job.id);
                return;
            }
            ExpertLabels.Result labels = ExpertLabels.collect(settings.expertLabels(), job.domainId, r.exportedSeriesUids(), data,
                    data.resolveSibling("labels"));
            job.expertLabelledSeries = labels.labelledSeriesUids().stream().sorted().toList();
            labels.skipped().forEach(s -> job.skipped.add(new Job.Skipped(s.seriesInstanceUid(), s.reason())));
            store.save(job);
            LOG.infof("job %s: %d series of domain %s have expert-corrected masks (%d incomplete)", job.id,
                    job.expertLabelledSeries.size(), job.domainId, labels.skipped().size());
        }
    }

    private void check(Job job) throws JobFailure {
        if (cancelled.contains(job.id)) throw new JobFailure("cancelled by ML ops");
    }

    private AdaptResult adapt(Job job, ModelVersion.Serving parent, Path parentFile, Path work)
            throws IOException, InterruptedException, JobFailure {
        double minutes = job.options.maxMinutes() != null ? job.options.maxMinutes() : settings.maxMinutes();
        AdaptRequest request = new AdaptRequest(parentFile, work.resolve("data"), job.domainId, job.method,
                work.resolve("adapted.onnx"), settings.sourceData(), settings.sourceSites(),
                job.expertLabelledSeries.isEmpty() ? null : work.resolve("labels"), minutes, job.options.seed());
        AdaptProcess process = new AdaptProcess(settings.adaptCommand(), settings.adaptDirectory());
        if (!open) throw new JobFailure("interrupted: the service stopped before the adaptation started");
        running.put(job.id, process);
        if (cancelled.contains(job.id)) process.kill();
        Duration limit = Duration.ofMillis((long) (minutes * 60_000)).plus(settings.killGrace());
        LOG.infof("job %s: %s", job.id, String.join(" ", process.commandLine(request)));
        Instant[] lastSave = {Instant.EPOCH};
        AdaptProcess.Outcome outcome = process.run(request, limit, progress -> {
            job.progress = progress;
            if (Duration.between(lastSave[0], progress.at()).compareTo(PROGRESS_SAVE_INTERVAL) >= 0
                    || progress.step() == progress.total()) {
                lastSave[0] = progress.at();
                store.save(job);
            }
        });
        job.stderrTail = outcome.stderrTail();
        if (!open) throw new JobFailure("interrupted: the service stopped while the job ran");
        if (outcome.killed() || cancelled.contains(job.id)) throw new JobFailure("cancelled by ML ops");
        if (!outcome.succeeded()) throw new JobFailure(outcome.error());
        AdaptResult result = outcome.result();
        job.result = result.json();
        job.evidence = result.gate();
        if (result.parentSha256() != null && !result.parentSha256().equals(parent.sha256())) {
            throw new JobFailure("adapt reports parent " + result.parentSha256() + " but was given " + parent.sha256());
        }
        return result;
    }

    /** Verifies the adapted file against its reported sha256 and keeps it (and its card) as models/<sha256>.onnx. */
    private void store(Job job, ModelVersion.Serving parent, AdaptResult result) throws IOException, JobFailure {
        Path kept = verifyAndKeep(result.model(), result.sha256());
        String version = job.domainId + "-" + result.methodOr(job.method) + "-" + result.sha256().substring(0, 12);
        job.model = new Job.Model(version, kept.toUri().toString(), result.sha256(), parent.sha256(), parent.version());
        job.phase = Job.Phase.PUBLISHING;
        store.save(job);
    }

    /** The file the adapt command named (relative to its directory), checked against its reported sha256, kept as models/<sha256>.onnx. */
    private Path verifyAndKeep(String model, String sha256) throws IOException, JobFailure {
        Path produced = settings.adaptDirectory().resolve(model);
        if (!Files.isRegularFile(produced)) throw new JobFailure("adapt reported model " + produced + " but it does not exist");
        String actual = Hashing.sha256Hex(produced);
        if (!actual.equals(sha256)) throw new JobFailure("adapt reported sha256 " + sha256 + " but " + produced + " has " + actual);
        return ModelFiles.keep(produced, actual, settings.modelsDirectory());
    }

    /**
     * {@code auto}: every candidate it did not choose is kept (verified against its sha256, stored as models/<sha256>.onnx)
     * and recorded on ml.model.versions as CANDIDATE then REJECTED with its gate evidence, so that ML ops see what was
     * tried for the domain and why it was turned down, also when nothing passed.
     */
    private void registerNotChosen(Job job, ModelVersion.Serving parent, AdaptResult result)
            throws IOException, JobFailure, InterruptedException {
        List<AdaptResult.KeptCandidate> kept = result.keptCandidates();
        if (kept.isEmpty()) return;
        String name = modelName(parent.sha256());
        List<RegistryRecords.Keyed> records = new ArrayList<>();
        List<String> versions = new ArrayList<>();
        for (AdaptResult.KeptCandidate c : kept) {
            Path file = verifyAndKeep(c.model(), c.sha256());
            String version = job.domainId + "-" + c.method() + "-" + c.sha256().substring(0, 12);
            records.addAll(Promotion.notChosen(new Promotion.Candidate(job.domainId, version, name, file.toUri().toString(), c.sha256(),
                    c.method(), parent.sha256(), job.seriesHash, job.seriesUids.size(), c.gate(), job.id), result.chosenMethod(),
                    clock.instant()).records());
            versions.add(version);
            metrics.gate(c.method(), c.passed() ? "passed" : "failed");
        }
        publisher.publish(records);
        job.rejectedVersions = versions;
        store.save(job);
        LOG.infof("job %s: registered %d candidate(s) of domain %s that auto did not choose as REJECTED: %s", job.id, versions.size(),
                job.domainId, versions);
    }

    private String modelName(String parentSha256) {
        return view.bySha(parentSha256).map(ModelVersion::name).filter(n -> n != null && !n.isBlank()).orElse(settings.modelName());
    }

    private void publish(Job job, AdaptResult result) throws InterruptedException {
        Instant start = clock.instant();
        String name = modelName(job.model.parentSha256());
        Promotion.Decision d = Promotion.decide(new Promotion.Candidate(job.domainId, job.model.version(), name, job.model.uri(),
                job.model.sha256(), result.methodOr(job.method), job.model.parentSha256(), job.seriesHash, job.seriesUids.size(), result.gate(),
                job.id), clock.instant());
        publisher.publish(d.records());
        Instant end = clock.instant();
        job.decision = d.text();
        job.status = d.promoted() ? Job.Status.SUCCEEDED : Job.Status.REJECTED;
        job.phase = null;
        job.finishedAt = end;
        job.timing("publishSeconds", start, end);
        job.timing("totalSeconds", job.startedAt != null ? job.startedAt : start, end);
        store.save(job);
        metrics.gate(job.method, result.gate() == null ? "none" : result.gatePassed() ? "passed" : "failed");
        if (d.promoted()) metrics.promoted(job.domainId);
        metrics.jobFinished(job.method, job.status.name(), Duration.between(job.startedAt != null ? job.startedAt : start, end));
        LOG.infof("job %s: version %s of domain %s %s", job.id, job.model.version(), job.domainId, d.text());
    }

    /** {@code auto} found no candidate the gate passes: the parent keeps serving the domain (the candidates are on record). */
    private void rejectAll(Job job, AdaptResult result) {
        Instant end = clock.instant();
        job.decision = "REJECTED: no candidate passed the gate (" + candidateSummary(result) + "); the parent keeps serving"
                + (job.rejectedVersions.isEmpty() ? "" : "; on record as " + String.join(", ", job.rejectedVersions));
        job.status = Job.Status.REJECTED;
        job.phase = null;
        job.finishedAt = end;
        job.timing("totalSeconds", job.startedAt != null ? job.startedAt : end, end);
        store.save(job);
        metrics.gate(job.method, "failed");
        metrics.jobFinished(job.method, job.status.name(), Duration.between(job.startedAt != null ? job.startedAt : end, end));
        LOG.infof("job %s: domain %s %s", job.id, job.domainId, job.decision);
    }

    private static String candidateSummary(AdaptResult result) {
        Object c = result.json().get("candidates");
        if (!(c instanceof List<?> list)) return "no candidates reported";
        List<String> parts = new ArrayList<>();
        for (Object o : list) {
            if (o instanceof Map<?, ?> m) parts.add(m.get("method") + (Boolean.TRUE.equals(m.get("passed")) ? " passed" : " failed"));
        }
        return String.join(", ", parts);
    }

    /**
     * The service is stopping and the job was not cancelled: it is left RUNNING (with a note), so that the next start
     * applies the restart rule of {@link JobStore#recover} to it, as after a crash (a drift-triggered job is re-queued).
     */
    private boolean stoppedUnder(Job job) {
        if (open || cancelled.contains(job.id)) return false;
        job.recovery = "the service stopped at " + clock.instant() + " while " + job.phase + "; the next start decides (restart rule)";
        saveWhileStopping(job);
        LOG.warnf("job %s (domain %s): the service stopped while it was %s; left RUNNING for the restart rule", job.id, job.domainId, job.phase);
        return true;
    }

    /**
     * Saves a job while {@link #close()} may interrupt this thread: an interrupted thread cannot write files
     * (ClosedByInterruptException), and close() kills the adapt process before it interrupts the workers, so the
     * interrupt can land in the middle of this save. The flag is cleared for each try and set again afterwards.
     */
    private void saveWhileStopping(Job job) {
        boolean interrupted = false;
        try {
            for (int attempt = 1; ; attempt++) {
                interrupted |= Thread.interrupted();
                try {
                    store.save(job);
                    return;
                } catch (UncheckedIOException e) {
                    boolean byInterrupt = e.getCause() instanceof ClosedByInterruptException;
                    if (!byInterrupt || attempt == 3) throw e;
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) Thread.currentThread().interrupt();
        }
    }

    private void fail(Job job, String error) {
        Instant end = clock.instant();
        job.status = Job.Status.FAILED;
        job.error = error;
        job.finishedAt = end;
        if (job.startedAt != null) job.timing("totalSeconds", job.startedAt, end);
        store.save(job);
        metrics.jobFinished(job.method, job.status.name(), job.startedAt == null ? Duration.ZERO : Duration.between(job.startedAt, end));
        LOG.warnf("job %s (domain %s) FAILED: %s", job.id, job.domainId, error);
    }

    private static Path localFile(ModelVersion.Serving parent) throws JobFailure, IOException {
        URI uri = URI.create(parent.uri());
        if (!"file".equals(uri.getScheme())) throw new JobFailure("parent model " + parent.version() + " is not a local file: " + uri);
        Path p = Path.of(uri);
        if (!Files.isRegularFile(p)) throw new JobFailure("parent model " + parent.version() + " not found at " + p);
        String sha = Hashing.sha256Hex(p);
        if (!sha.equals(parent.sha256())) {
            throw new JobFailure("parent model file " + p + " has sha256 " + sha + ", the registry says " + parent.sha256());
        }
        return p;
    }

    /** SHA-256 over the sorted SeriesInstanceUIDs, joined with '\n' (UTF-8). */
    public static String seriesHash(List<String> uids) {
        return Hashing.sha256Hex(String.join("\n", uids.stream().sorted().toList()).getBytes(StandardCharsets.UTF_8));
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) return;
        try (var walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        } catch (IOException e) {
            LOG.warnf("cannot remove %s: %s", dir, e.getMessage());
        }
    }

    @Override
    public void close() throws InterruptedException {
        open = false;
        running.values().forEach(AdaptProcess::kill);
        for (Thread t : workers) t.interrupt();
        for (Thread t : workers) t.join(10_000);
    }
}
