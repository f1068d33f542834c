package org.imagingpipeline.inference;

import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import java.io.IOException;
import java.nio.file.Path;
import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.eclipse.microprofile.config.ConfigProvider;
import org.imagingpipeline.blob.LocalBlobStore;
import org.imagingpipeline.events.signing.ModelSigning;
import org.imagingpipeline.kafka.AuditLog;
import org.imagingpipeline.kafka.KafkaClients;
import org.jboss.logging.Logger;

/** Builds the service from {@link InferenceConfig} at start-up and runs its {@link InferenceLoop} until shutdown. */
@ApplicationScoped
public class InferenceService {
    private static final Logger LOG = Logger.getLogger(InferenceService.class);

    /** The 401/403 records (security-audit) go to the same log. */
    @Inject
    org.imagingpipeline.securityaudit.ServiceAudit serviceAudit;

    @Inject
    InferenceConfig config;

    @Inject
    MeterRegistry registry;

    private volatile InferenceLoop loop;
    private volatile ModelRouter router;
    private volatile ModelSessions sessions;
    private volatile LocalBlobStore blobs;
    private volatile AuditLog audit;

    void onStart(@Observes StartupEvent ev) throws IOException {
        if (!config.enabled()) {
            LOG.info("inference.enabled=false: not consuming");
            return;
        }
        InferenceMetrics metrics = new InferenceMetrics(registry);
        sessions = new ModelSessions(config.provider(), config.intraOpThreads(), config.defaultInputSize(), config.cudaDevice());
        metrics.provider(sessions.provider());
        InferenceConfig.Kafka k = config.kafka();
        KafkaClients clients = KafkaClients.fromConfig(ConfigProvider.getConfig(), k.client())
                .with(Map.of("bootstrap.servers", k.bootstrapServers()));
        audit = new AuditLog(clients, "inference");
        serviceAudit.use(audit);
        router = new ModelRouter(clients, k.modelsTopic(), sessions, new AuditedRouting(metrics, audit), verifier());
        blobs = new LocalBlobStore(Path.of(config.blobRoot()));
        PacsSender pacs = config.pacs().filter(s -> !s.isBlank())
                .map(a -> new PacsSender(PacsSender.Address.parse(a), config.pacsCallingAe(), config.pacsTimeout(), PacsSender.tls(config.pacsTls())))
                .orElse(null);
        SeriesProcessor processor = new SeriesProcessor(new SeriesLoader(blobs, config.pixels().limits()), router,
                new SeriesSegmenter(config.batchSize(), new ComponentCleanup(config.minComponentPixels())), blobs, pacs, metrics,
                new SeriesProcessor.FailurePolicy(config.retry().transientAttempts(), config.retry().pacsAttempts(),
                        config.retry().pacsDelay()));
        Path source = config.sourceModel().filter(s -> !s.isBlank()).map(Path::of).orElse(null);
        InferenceLoop.Settings s = new InferenceLoop.Settings(clients, k.groupId(), k.seriesTopic(),
                k.resultsTopic(), k.dlqTopic(), k.modelsTopic(), source, config.sourceModelName(),
                config.registryRefreshTimeout());
        loop = new InferenceLoop(s, processor, router, metrics).start();
        LOG.infof("segmenting %s -> %s (DLQ %s), registry %s, blobs %s, batch %d, provider %s, PACS %s, source model %s",
                s.seriesTopic(), s.resultsTopic(), s.dlqTopic(), s.modelsTopic(), blobs.root(), config.batchSize(),
                sessions.provider(), pacs == null ? "none" : pacs.address() + (pacs.tls() ? " (DICOM TLS)" : ""), source == null ? "none" : source);
    }

    /**
     * The trusted model-signing keys. A missing or unreadable file is logged and left out: with none left every
     * registry record is refused (fail closed) but the service runs (its configured source model still serves).
     */
    private ModelSigning.Verifier verifier() {
        List<PublicKey> keys = new ArrayList<>();
        for (String f : config.modelSigningPublicKeys()) {
            try {
                keys.add(ModelSigning.readPublicKey(Path.of(f.trim())));
            } catch (IOException e) {
                LOG.errorf("model-signing public key %s not usable (%s): records signed by it are refused", f, e.getMessage());
            }
        }
        ModelSigning.Verifier v = new ModelSigning.Verifier(keys);
        if (keys.isEmpty()) {
            LOG.error("no model-signing public key (inference.model-signing.public-keys): every ml.model.versions record is refused");
        } else {
            LOG.infof("ml.model.versions records must be signed by key %s", v.keyIds());
        }
        return v;
    }

    void onStop(@Observes ShutdownEvent ev) throws InterruptedException {
        InferenceLoop l = loop;
        if (l != null) l.close();
        if (sessions != null) sessions.close();
        if (audit != null) audit.close();
    }

    public boolean enabled() {
        return config.enabled();
    }

    public InferenceLoop loop() {
        return loop;
    }

    public ModelRouter router() {
        return router;
    }

    public LocalBlobStore blobs() {
        return blobs;
    }

    public ModelSessions sessions() {
        return sessions;
    }
}
