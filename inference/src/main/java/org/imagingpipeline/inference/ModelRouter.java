package org.imagingpipeline.inference;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.ModelVersion;
import org.imagingpipeline.events.signing.ModelSigning;
import org.imagingpipeline.kafka.KafkaClients;
import org.jboss.logging.Logger;

/**
 * The registry view: domain -> serving model, built from the routing-key records of the compacted topic
 * {@code ml.model.versions} (history keys "domain@version" are ignored). It reads the topic from the beginning with
 * its own group-less consumer and is refreshed by the processing thread before every series ({@link #refresh}), so a
 * version promoted before a series is read is the version that segments it, without a restart.
 *
 * <p>Every routing record must carry retrain's signature ({@link ModelSigning}) by one of the trusted public keys
 * ({@code inference.model-signing.public-keys}); an unsigned, forged or tampered record, and a tombstone (which cannot
 * be signed), is refused (log line with domain and version + {@code inference.model.refused{reason=unsigned|unknown_key|
 * bad_signature}}) and changes nothing. The one exception is the source model this service was configured with itself
 * ({@link #trustLocalSource}): an unsigned "default" record serving exactly that file's SHA-256 is accepted, because the
 * trust comes from the local configuration, not from the record.
 *
 * <p>A signed routing record with status PROMOTED or ROLLED_BACK and a {@code serving} model switches the domain to
 * that model only after its file matched the registered SHA-256 and ONNX Runtime loaded it; otherwise it is refused
 * (log line + {@code inference.model.refused}) and the domain keeps its current model. A signed record with a null
 * {@code serving} sends the domain back to the default model.
 *
 * <p>Signed time only moves forward per domain: a validly signed record whose {@code at} is older than that of the
 * record this router last applied for the domain is refused as {@code replayed} (also one without {@code at}). A
 * signature proves who wrote a record, not that it is still current: without this check anyone who can write the topic
 * could re-publish a genuine older promotion of a since rolled-back model and have it served again. The same record read
 * again (equal time) is no change. Retrain is the topic's one writer and stamps {@code at} from its clock; a retrain
 * host whose clock was set back is refused the same way until its clock passes the last applied time (fail closed).
 */
public final class ModelRouter implements ModelRoutes, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ModelRouter.class);
    /** The refusal reason of a validly signed record older than the one applied for its domain. */
    public static final String REPLAYED = "replayed";

    /** Told about every routing change and refusal (metrics). */
    public interface Listener {
        void served(String domainId, String version);

        void unrouted(String domainId);

        void refused(String domainId, String version, String reason);
    }

    private final KafkaConsumer<String, byte[]> consumer;
    private final ModelSessions sessions;
    private final Listener listener;
    private final String topic;
    private final JsonSerde<ModelVersion> serde = JsonSerde.of(ModelVersion.class);
    private final Map<String, ModelRoute> routes = new ConcurrentHashMap<>();
    /** domain -> the signed time ({@code at}) of the last record applied for it. */
    private final Map<String, Instant> appliedAt = new ConcurrentHashMap<>();
    private final ModelSigning.Verifier verifier;
    private volatile String localSourceSha256;
    private List<TopicPartition> partitions;
    private volatile boolean caughtUpOnce;

    /** @param verifier the trusted model-signing keys: records signed by none of them are refused */
    public ModelRouter(KafkaClients clients, String topic, ModelSessions sessions, Listener listener, ModelSigning.Verifier verifier) {
        this.topic = topic;
        this.sessions = sessions;
        this.listener = listener;
        this.verifier = verifier;
        consumer = clients.consumer(Map.of(ConsumerConfig.CLIENT_ID_CONFIG, "inference-model-registry"));
    }

    /**
     * Accepts unsigned "default" routing records that serve this SHA-256: the source model of this service's own
     * configuration ({@code inference.source-model}), which it registers itself when the registry has no default.
     */
    public void trustLocalSource(String sha256) {
        this.localSourceSha256 = sha256;
    }

    /**
     * Reads the registry topic up to its current end (at most {@code timeout}) and applies the routing records.
     * Of the records read together for one domain the newest that can be applied wins: when it is refused the
     * next older one is tried, so a restart loads only the serving models and a refused version never displaces a
     * good one promoted just before it.
     *
     * @return true when the view reached the end offsets read at the start of the call
     */
    public boolean refresh(Duration timeout) {
        if (partitions == null) {
            partitions = consumer.partitionsFor(topic, timeout).stream()
                    .map(pi -> new TopicPartition(pi.topic(), pi.partition())).toList();
            if (partitions.isEmpty()) throw new IllegalStateException("topic " + topic + " does not exist");
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
        }
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, List<ConsumerRecord<String, byte[]>>> byDomain = new LinkedHashMap<>();
        while (!reached(end) && System.nanoTime() < deadline) {
            for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                if (ModelVersion.isRoutingKey(r.key())) byDomain.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r);
            }
        }
        byDomain.values().forEach(records -> {
            for (int i = records.size() - 1; i >= 0; i--) {
                if (apply(records.get(i))) break;
            }
        });
        boolean done = reached(end);
        if (done && !caughtUpOnce) {
            caughtUpOnce = true;
            LOG.infof("model registry read: %s", describe());
        }
        return done;
    }

    private boolean reached(Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (consumer.position(e.getKey()) < e.getValue()) return false;
        }
        return true;
    }

    /** @return false when the record was refused (an older record of the same domain may then be tried) */
    private boolean apply(ConsumerRecord<String, byte[]> rec) {
        String domain = rec.key();
        ModelVersion mv;
        try {
            mv = serde.deserialize(rec.topic(), rec.value());
        } catch (SerializationException e) {
            LOG.warnf("registry record %s@%d (domain %s) is not a ModelVersion, ignored: %s", rec.partition(),
                    rec.offset(), domain, e.getMessage());
            listener.refused(domain, "unknown", "unreadable_record");
            return false;
        }
        String refusal = signatureRefusal(domain, mv);
        if (refusal != null) {
            // Whoever wrote the record chose its version text: no control characters, at most 100 of them, in logs and audit.
            String version = mv == null ? "tombstone" : printable(mv.version());
            LOG.errorf("domain %s: registry record %d (version %s) REFUSED: %s; the domain keeps %s", printable(domain), rec.offset(),
                    version, refusal, routes.containsKey(domain) ? "version " + routes.get(domain).version() : "the model it had");
            listener.refused(printable(domain), version, refusal);
            return false;
        }
        Instant last = appliedAt.get(domain);
        if (last != null && (mv.at() == null || mv.at().isBefore(last))) {
            String version = printable(mv.version());
            LOG.errorf("domain %s: registry record %d (version %s, signed at %s) REFUSED: replayed, older than the record applied "
                    + "for the domain (signed at %s); the domain keeps %s", printable(domain), rec.offset(), version, mv.at(), last,
                    routes.containsKey(domain) ? "version " + routes.get(domain).version() : "the default model");
            listener.refused(printable(domain), version, REPLAYED);
            return false;
        }
        if (mv == null || mv.serving() == null) {
            applied(domain, mv);
            if (routes.remove(domain) != null) {
                LOG.infof("domain %s: no own model any more (%s), served by the default model", domain,
                        mv == null ? "tombstone" : mv.status() + " of " + mv.version());
            }
            listener.unrouted(domain);
            return true;
        }
        if (mv.status() != ModelVersion.Status.PROMOTED && mv.status() != ModelVersion.Status.ROLLED_BACK) {
            LOG.debugf("domain %s: routing record with status %s ignored", domain, mv.status());
            return false;
        }
        ModelVersion.Serving s = mv.serving();
        ModelRoute current = routes.get(domain);
        if (current != null && current.version().equals(s.version()) && current.sha256().equals(s.sha256())) {
            applied(domain, mv);
            return true;
        }
        try {
            LoadedModel m = sessions.load(s.uri(), s.sha256());
            routes.put(domain, new ModelRoute(domain, s.version(), mv.name() == null ? "segmentation" : mv.name(), s.uri(), m));
            applied(domain, mv);
            LOG.infof("domain %s: now served by model version %s (sha256 %s, %s after %s of %s)", domain, s.version(),
                    s.sha256(), m.provider(), mv.status(), mv.version());
            listener.served(domain, s.version());
            Set<String> keep = new HashSet<>();
            routes.values().forEach(r -> keep.add(r.sha256()));
            sessions.retainOnly(keep);
            return true;
        } catch (ModelRefusedException | RuntimeException e) {
            String reason = e instanceof ModelRefusedException mr ? mr.reason() : "invalid_uri";
            LOG.errorf("domain %s: model version %s REFUSED (%s); %s", domain, s.version(), e.getMessage(),
                    current == null ? "no own model so far" : "version " + current.version() + " stays unless an older record of this refresh applies");
            listener.refused(domain, s.version(), reason);
            return false;
        }
    }

    private void applied(String domain, ModelVersion mv) {
        if (mv.at() != null) appliedAt.merge(domain, mv.at(), (a, b) -> a.isAfter(b) ? a : b);
    }

    private static String printable(String s) {
        String p = s.replaceAll("\\p{Cntrl}", "?");
        return p.length() > 100 ? p.substring(0, 100) + "..." : p;
    }

    /** Null when the record may be applied, else the refusal reason (unsigned, unknown_key, bad_signature). */
    private String signatureRefusal(String key, ModelVersion mv) {
        if (mv == null) return ModelSigning.Verdict.UNSIGNED.reason();
        ModelSigning.Verdict v = verifier.verify(key, mv);
        if (v == ModelSigning.Verdict.VALID) return null;
        String local = localSourceSha256;
        if (v == ModelSigning.Verdict.UNSIGNED && local != null && ModelVersion.DEFAULT_DOMAIN.equals(key) && mv.serving() != null
                && local.equals(mv.serving().sha256())) {
            return null;
        }
        return v.reason();
    }

    @Override
    public Optional<ModelRoute> route(String domainId) {
        ModelRoute own = domainId == null ? null : routes.get(domainId);
        return Optional.ofNullable(own != null ? own : routes.get(ModelVersion.DEFAULT_DOMAIN));
    }

    public boolean hasDefault() {
        return routes.containsKey(ModelVersion.DEFAULT_DOMAIN);
    }

    /** Whether the registry was read to its end at least once (readiness). */
    public boolean caughtUpOnce() {
        return caughtUpOnce;
    }

    /** domain -> serving version. */
    public Map<String, String> servingVersions() {
        Map<String, String> out = new java.util.TreeMap<>();
        routes.forEach((d, r) -> out.put(d, r.version()));
        return out;
    }

    private String describe() {
        return routes.isEmpty() ? "no model routed yet" : servingVersions().toString();
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(5));
    }
}
