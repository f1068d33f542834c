package org.imagingpipeline.retrain.service;

import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.config.ConfigProvider;
import org.imagingpipeline.blob.LocalBlobStore;
import org.imagingpipeline.events.ModelVersion;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.events.signing.ModelSigning;
import org.imagingpipeline.kafka.AuditLog;
import org.imagingpipeline.kafka.KafkaClients;
import org.imagingpipeline.retrain.service.adapt.AdaptProcess;
import org.imagingpipeline.retrain.service.data.SeriesCatalog;
import org.imagingpipeline.retrain.service.data.SeriesExporter;
import org.imagingpipeline.retrain.service.jobs.DriftTrigger;
import org.imagingpipeline.retrain.service.jobs.JobRunner;
import org.imagingpipeline.retrain.service.jobs.JobSettings;
import org.imagingpipeline.retrain.service.jobs.JobStore;
import org.imagingpipeline.retrain.service.registry.RegistryPublisher;
import org.imagingpipeline.retrain.service.registry.RegistryReader;
import org.imagingpipeline.retrain.service.registry.RegistryView;
import org.imagingpipeline.retrain.service.registry.SourceModelRegistrar;
import org.imagingpipeline.retrain.service.replay.PendingReplays;
import org.imagingpipeline.retrain.service.replay.PromotionReplay;
import org.jboss.logging.Logger;

/**
 * Builds the service from {@link RetrainConfig} at start-up: job store, series catalog, registry view and publisher,
 * the job runner (which resumes what a restart left), the drift trigger and the input consumer; stops them at
 * shutdown (a running subprocess is killed and its job marked FAILED).
 */
@ApplicationScoped
public class RetrainService {
    private static final Logger LOG = Logger.getLogger(RetrainService.class);
    /** The principal of what the service does on its own (a promotion by the gate). */
    public static final String SYSTEM = "system:retrain";

    /** The 401/403 records (security-audit) go to the same log. */
    @Inject
    org.imagingpipeline.securityaudit.ServiceAudit serviceAudit;

    @Inject
    RetrainConfig config;

    @Inject
    MeterRegistry registry;

    private volatile JobStore store;
    private volatile RegistryView view;
    private volatile RegistryReader reader;
    private volatile RegistryPublisher publisher;
    private volatile JobRunner runner;
    private volatile DriftTrigger trigger;
    private volatile InputConsumer inputs;
    /** One replay at a time, in promotion order; a failed one is tried again later. */
    private final java.util.concurrent.ScheduledExecutorService replays = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "promotion-replay");
        t.setDaemon(true);
        return t;
    });
    private volatile PendingReplays pendingReplays;
    private volatile RetrainMetrics metrics;
    private volatile SeriesCatalog catalog;
    private volatile AuditLog audit;
    private volatile KafkaClients clients;

    void onStart(@Observes StartupEvent ev) throws IOException {
        Files.createDirectories(config.home());
        store = new JobStore(config.home().resolve("jobs"));
        view = new RegistryView();
        KafkaClients clients = KafkaClients.fromConfig(ConfigProvider.getConfig(), config.kafka().client())
                .with(Map.of("bootstrap.servers", config.kafka().bootstrapServers()));
        ModelSigning.Signer signer = signer();
        publisher = new RegistryPublisher(clients, Topics.MODEL_VERSIONS, view, signer);
        this.clients = clients;
        audit = new AuditLog(clients, "retrain");
        serviceAudit.use(audit);
        AuditLog a = audit;
        // The gate's promotions (and the source model's registration): the service did them, no caller.
        PromotionReplay replay = config.enabled() && !config.replay().window().isZero() && config.replay().maxSeries() > 0
                ? new PromotionReplay(clients, config.replay().window(), config.replay().maxSeries(), config.replay().timeout()) : null;
        pendingReplays = replay == null ? null : new PendingReplays(config.home().resolve("replays"));
        publisher.onPublished((key, v) -> {
            if (ModelVersion.isRoutingKey(key) && v.status() == ModelVersion.Status.PROMOTED) {
                a.record(SYSTEM, "promote", "domain " + v.domainId(), "succeeded", "version " + v.version());
                // The patients of this domain scanned before the promotion get the new model's report too.
                if (replay != null && !ModelVersion.DEFAULT_DOMAIN.equals(v.domainId())) {
                    PendingReplays.Pending p = new PendingReplays.Pending(v.domainId(), v.version(), v.at() == null ? Instant.now() : v.at());
                    try {
                        pendingReplays.add(p);
                    } catch (IOException e) {
                        LOG.errorf(e, "domain %s: the replay owed to version %s could not be recorded; it runs now but would not survive a restart",
                                v.domainId(), v.version());
                    }
                    replayLater(replay, a, p, 1, Duration.ZERO);
                }
            }
        });
        metrics = new RetrainMetrics(registry, () -> runner == null ? 0 : runner.queued());
        metrics.corruptJobFiles(store.movedAside().size());
        if (!config.enabled()) {
            LOG.info("retrain.enabled=false: REST only, no jobs and no consumers");
            return;
        }
        List<java.security.PublicKey> trusted = new java.util.ArrayList<>(List.of(signer.publicKey()));
        for (java.nio.file.Path p : config.modelSigning().trustedPublicKeys().orElse(List.of())) trusted.add(ModelSigning.readPublicKey(p));
        reader = new RegistryReader(clients, Topics.MODEL_VERSIONS, view, new ModelSigning.Verifier(trusted)).start();
        config.sourceModel().ifPresent(this::registerSourceModel);
        if (replay != null) {
            // Replays a promotion asked for before a restart (or that the broker refused) and that never completed.
            for (PendingReplays.Pending p : pendingReplays.all()) {
                LOG.infof("domain %s: the replay owed to version %s (promoted %s) runs again", p.domainId(), p.version(), p.promotedAt());
                replayLater(replay, audit, p, 1, Duration.ZERO);
            }
        }
        catalog = new SeriesCatalog(config.home().resolve("series"), config.series().maxPerDomain());
        SeriesExporter exporter = new SeriesExporter(new LocalBlobStore(config.blobDir()));
        List<String> command = config.adapt().command().trim().equals(AdaptProcess.SELF)
                ? AdaptProcess.selfCommand(config.adapt().jvmOptions(), config.adapt().djlCache().orElse(config.home().resolve("djl-cache")))
                : Arrays.stream(config.adapt().command().trim().split("\\s+")).toList();
        JobSettings settings = new JobSettings(command, config.adapt().directory().toAbsolutePath(),
                config.home().resolve("work").toAbsolutePath(), config.modelsDir().toAbsolutePath(),
                config.sourceData().map(p -> p.toAbsolutePath()).orElse(null), config.sourceSites().orElse(null),
                config.expertLabels().map(p -> p.toAbsolutePath()).orElse(null), config.adapt().maxMinutes(), config.adapt().killGrace(), config.adapt().maxSeries(), config.modelName(),
                config.jobs().workers(), config.jobs().keepWork(), config.minSeries(), config.jobs().maxAttempts());
        runner = new JobRunner(settings, store, catalog, exporter, view, publisher, metrics, Clock.systemUTC()).start();
        trigger = new DriftTrigger(config.home().resolve("pending-drift.json"), config.auto().enabled(), config.minSeries(),
                config.auto().method(), runner, store, catalog);
        inputs = new InputConsumer(clients, config.kafka().groupId(), catalog, trigger, registry).start();
        LOG.infof("retrain service: home %s, adapt command %s, min-series %d, %d worker(s)", config.home(), command,
                config.minSeries(), settings.workers());
    }

    /**
     * The model-signing key: {@code retrain.model-signing.private-key}, created (once, 0600, with its public key beside
     * it) when it is missing and has the default file name; a missing key of another name stops the start.
     */
    private ModelSigning.Signer signer() throws IOException {
        java.nio.file.Path file = config.modelSigning().privateKey().toAbsolutePath();
        ModelSigning.Signer s;
        if (ModelSigning.PRIVATE_KEY_FILE.equals(file.getFileName().toString())) {
            ModelSigning.Ensured e = ModelSigning.ensure(file.getParent());
            s = e.signer();
            if (e.created()) LOG.infof("created the model-signing key %s (public key %s)", e.privateKey(), e.publicKey());
        } else {
            s = ModelSigning.load(file);
        }
        LOG.infof("signing ml.model.versions records with key %s (%s)", s.keyId(), ModelSigning.ALGORITHM);
        return s;
    }

    /** Attempts of one replay before it waits for the next start (its pending file stays). */
    static final int REPLAY_ATTEMPTS = 6;

    /**
     * On the replay thread: the publisher (and the job that promoted) must not wait for it. A failure (the broker
     * unreachable, an unacknowledged send) is tried again after 30 s, 60 s, ... up to {@link #REPLAY_ATTEMPTS}; after that
     * the pending file stays and the next start runs it.
     */
    private void replayLater(PromotionReplay replay, AuditLog a, PendingReplays.Pending p, int attempt, Duration delay) {
        replays.schedule(() -> {
            try {
                PromotionReplay.Replayed r = replay.replay(p.domainId(), p.version(), p.promotedAt());
                forget(p);
                a.record(SYSTEM, "replay", "domain " + p.domainId(), "succeeded", r.series() + " series sent to version " + p.version());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (RuntimeException e) {
                boolean again = attempt < REPLAY_ATTEMPTS;
                LOG.errorf(e, "domain %s: the series before version %s's promotion were not sent again (attempt %d%s)", p.domainId(),
                        p.version(), attempt, again ? "; trying again" : "; the next start tries again");
                a.record(SYSTEM, "replay", "domain " + p.domainId(), "refused", e.getMessage());
                if (again) replayLater(replay, a, p, attempt + 1, Duration.ofSeconds(30L * attempt));
            }
        }, delay.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    /** The replay completed: its pending file goes (if that fails, the next start sends the series once more, harmlessly). */
    private void forget(PendingReplays.Pending p) {
        try {
            pendingReplays.done(p);
        } catch (IOException e) {
            LOG.warnf("domain %s: replay to version %s done, but its pending file was not removed: %s", p.domainId(), p.version(), e.getMessage());
        }
    }

    /** In the background: it waits for the registry view, and start-up must not. */
    private void registerSourceModel(java.nio.file.Path file) {
        Thread t = new Thread(() -> {
            try {
                SourceModelRegistrar.register(file.toAbsolutePath(), config.modelsDir().toAbsolutePath(), config.modelName(), view,
                        publisher);
            } catch (IOException | RuntimeException e) {
                LOG.errorf(e, "cannot register the source model %s", file);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "retrain-source-model");
        t.setDaemon(true);
        t.start();
    }

    void onStop(@Observes ShutdownEvent ev) throws InterruptedException {
        replays.shutdownNow();
        if (inputs != null) inputs.close();
        if (runner != null) runner.close();
        if (reader != null) reader.close();
        if (publisher != null) publisher.close();
        if (audit != null) audit.close();
    }

    /** The audit trail ({@code audit.events}); null before start. */
    public AuditLog audit() {
        return audit;
    }

    /** The service's Kafka clients (GET /audit reads the topic with them); null before start. */
    public KafkaClients kafkaClients() {
        return clients;
    }

    public JobStore store() {
        return store;
    }

    public RegistryView view() {
        return view;
    }

    public RegistryPublisher publisher() {
        return publisher;
    }

    public JobRunner runner() {
        return runner;
    }

    public DriftTrigger trigger() {
        return trigger;
    }

    public InputConsumer inputs() {
        return inputs;
    }

    public RegistryReader reader() {
        return reader;
    }

    public SeriesCatalog catalog() {
        return catalog;
    }

    public RetrainMetrics metrics() {
        return metrics;
    }

    public boolean enabled() {
        return config.enabled();
    }
}
