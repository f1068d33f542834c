package org.imagingpipeline.streams;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Instant;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.imagingpipeline.events.DomainEvent;
import org.imagingpipeline.events.DomainEvent.Status;
import org.jboss.logging.Logger;

/**
 * The domain registry and its state machine (docs/drift.md). Each series' {@link SeriesFeatures}:
 * <ul>
 * <li>a new header key starts as CANDIDATE, or as KNOWN when the series is a reference (training) patient's;</li>
 * <li>a reference patient's series makes its domain KNOWN and joins the reference; a patient registers one domain
 *     only (the first it is seen in), so the same patient re-scanned on a new scanner is not reference;</li>
 * <li>a CANDIDATE is tested with {@link DriftDecision#decide} after each series: DRIFT_CONFIRMED or ALIAS, or it waits;</li>
 * <li>other series of a KNOWN domain are monitored: never a candidate test, but the acquisition watch
 *     ({@link DriftDecision#watch}) compares the recent window with the reference;</li>
 * <li>ALIAS and DRIFT_CONFIRMED domains are counted; an APPROVE {@link DomainCommand} (POST /domains/{id}/approve on
 *     any replica, through imaging.domain.commands) makes any domain KNOWN, its held series becoming reference; for a
 *     KNOWN domain it is a no-op, for a domain the registry does not hold it is ignored (logged, counted).</li>
 * </ul>
 * Every status change is one {@link DomainEvent} (key: domain id) with its reason and, for test decisions, evidence.
 * A LATE_UPDATE revision of a series the domain still holds replaces its features and is not counted again. A series
 * without image statistics (nothing decodable) is counted and its reason recorded; it changes no domain's status.
 */
public class DriftDetector implements Processor<String, DetectorInput, String, DomainEvent> {
    public static final String REGISTRY_STORE = "domain-registry";
    public static final String REFERENCE_PATIENT_STORE = "reference-patients";
    private static final Logger LOG = Logger.getLogger(DriftDetector.class);

    private final DriftConfig config;
    private final DomainStatusGauges gauges;
    private final Timer timer;
    private final MeterRegistry metrics;
    private ProcessorContext<String, DomainEvent> context;
    private KeyValueStore<String, DomainState> registry;
    private KeyValueStore<String, String> referencePatients;

    public DriftDetector(DriftConfig config, DomainStatusGauges gauges, MeterRegistry metrics) {
        this.config = config;
        this.gauges = gauges;
        this.metrics = metrics;
        this.timer = Timer.builder("streams.drift.detector").description("detector time per series (registry update and tests)")
                .register(metrics);
    }

    @Override
    public void init(ProcessorContext<String, DomainEvent> context) {
        this.context = context;
        this.registry = context.getStateStore(REGISTRY_STORE);
        this.referencePatients = context.getStateStore(REFERENCE_PATIENT_STORE);
        refreshGauges();
    }

    @Override
    public void process(Record<String, DetectorInput> record) {
        if (record.value() instanceof SeriesFeatures f && f.domainId() != null) timer.record(() -> update(f, record.timestamp()));
        else if (record.value() instanceof DomainCommand c) apply(c, record.timestamp());
    }

    private void update(SeriesFeatures f, long timestamp) {
        Instant at = f.completedAt() != null ? f.completedAt() : Instant.ofEpochMilli(timestamp);
        DomainState d = registry.get(f.domainId()) != null ? registry.get(f.domainId()) : newDomain(f, at);
        boolean revision = d.holds(f.seriesInstanceUid());
        if (!revision) d.seriesCount++;
        if (d.lastSeen == null || at.isAfter(d.lastSeen)) d.lastSeen = at;
        f.undecodable().forEach((ts, n) -> d.undecodable.merge(ts, n, Integer::sum));
        boolean wasUnmeasured = d.unmeasuredUids.remove(f.seriesInstanceUid());
        if (wasUnmeasured) d.unmeasured--;
        if (!f.measured()) {
            // Recorded with its reason; it registers nothing, is tested by nothing and changes no status (a header key
            // never seen before still appears, as CANDIDATE: that is a fact of its headers).
            d.unmeasured++;
            DomainState.putUid(d.unmeasuredUids, f.seriesInstanceUid(), config.maxReference());
            d.noteUnmeasured(f.seriesInstanceUid(), f.note() != null ? f.note() : "no slice could be decoded");
            if (d.status == null) change(d, Status.CANDIDATE, "new header key", timestamp);
            registry.put(d.id, d);
            return;
        }
        boolean reference = f.reference() && claim(f.patientKey(), d.id);
        if (d.status == null) {
            change(d, reference ? Status.KNOWN : Status.CANDIDATE, reference ? "registered from the training set (a reference patient's series)"
                    : "new header key", timestamp);
        } else if (reference && d.status != Status.KNOWN) {
            d.recent.clear();
            d.aliasOf = null;
            change(d, Status.KNOWN, "registered from the training set (a reference patient's series)", timestamp);
        }
        DomainState.Entry e = new DomainState.Entry(f.seriesInstanceUid(), f.values(), f.patientKey());
        switch (d.status) {
            case KNOWN -> {
                if (reference) DomainState.putReplacing(d.reference, e, config.maxReference());
                else monitor(d, e, revision, timestamp);
            }
            case CANDIDATE -> {
                DomainState.putReplacing(d.recent, e, config.maxSeries());
                DriftDecision.Outcome o = DriftDecision.decide(d.id, d.recent, knownReferences(d.id), config);
                if (o != null) {
                    d.evidence = o.evidence();
                    d.driftScore = o.driftScore();
                    if (o.status() != Status.CANDIDATE) {
                        d.aliasOf = o.status() == Status.ALIAS ? o.closest() : null;
                        change(d, o.status(), o.status() == Status.ALIAS
                                ? String.format(java.util.Locale.ROOT, "images match KNOWN %s (p=%.4f >= %.3g after %d series)", o.closest(),
                                o.evidence().pValue(), config.alpha(), o.evidence().n())
                                : String.format(java.util.Locale.ROOT, "images differ from every KNOWN domain: p<%.3g after %d series (largest p=%.4f, %s; %s)",
                                config.alpha(), o.evidence().n(), o.evidence().pValue(), o.closest(), DriftDecision.summary(o.evidence())), timestamp);
                    }
                }
            }
            default -> DomainState.putReplacing(d.recent, e, config.maxSeries());
        }
        registry.put(d.id, d);
    }

    private static DomainState newDomain(SeriesFeatures f, Instant at) {
        DomainState d = new DomainState();
        d.id = f.domainId();
        d.fingerprint = f.fingerprint();
        d.firstSeen = at;
        return d;
    }

    private void monitor(DomainState d, DomainState.Entry e, boolean revision, long timestamp) {
        DomainState.putReplacing(d.recent, e, config.watchWindow());
        if (revision) return;
        d.monitored++;
        if (d.monitored % config.watchEvery() != 0) return;
        DriftDecision.Outcome o = DriftDecision.watch(d.id, d.recent, DomainState.perPatient(d.reference), d.monitored, config);
        if (o == null || o.status() != Status.DRIFT_CONFIRMED) return;
        d.evidence = o.evidence();
        d.driftScore = o.driftScore();
        change(d, Status.DRIFT_CONFIRMED, String.format(java.util.Locale.ROOT, "acquisition drift: last %d series vs the reference, p=%.4f < %.3g (%s)",
                config.watchWindow(), o.evidence().pValue(), config.watchAlpha(), DriftDecision.summary(o.evidence())), timestamp);
    }

    /** True when the patient registers (or already registered) this domain; false when it registered another one. */
    private boolean claim(String patientKey, String domainId) {
        if (patientKey == null) return false;
        String owner = referencePatients.get(patientKey);
        if (owner == null) {
            referencePatients.put(patientKey, domainId);
            return true;
        }
        return owner.equals(domainId);
    }

    private Map<String, List<double[]>> knownReferences(String except) {
        Map<String, List<double[]>> out = new LinkedHashMap<>();
        try (KeyValueIterator<String, DomainState> it = registry.all()) {
            while (it.hasNext()) {
                KeyValue<String, DomainState> kv = it.next();
                List<double[]> reference = kv.value.status == Status.KNOWN ? DomainState.perPatient(kv.value.reference) : List.of();
                if (!kv.key.equals(except) && reference.size() >= 2) out.put(kv.key, reference);
            }
        }
        return out;
    }

    /**
     * An approval ({@link DomainCommand}, already checked): the domain becomes KNOWN, its held series its reference. The
     * store change, its changelog record, the DomainEvent and the command's offset commit together (exactly once).
     * Idempotent: approving a KNOWN domain changes nothing; a domain the registry does not hold is ignored.
     */
    private void apply(DomainCommand c, long timestamp) {
        DomainState d = registry.get(c.domainId());
        if (d == null || d.status == null) {
            LOG.warnf("approval %s of domain %s by %s ignored: no such domain in the registry", c.requestId(), c.domainId(), c.principal());
            countCommand(c, "unknown_domain");
            return;
        }
        if (d.status == Status.KNOWN) {
            LOG.infof("approval %s of domain %s by %s: already KNOWN, nothing to do", c.requestId(), c.domainId(), c.principal());
            countCommand(c, "already_known");
            return;
        }
        for (DomainState.Entry e : d.recent) DomainState.putReplacing(d.reference, e, config.maxReference());
        d.recent.clear();
        d.monitored = 0;
        d.aliasOf = null;
        change(d, Status.KNOWN, "approved by ML ops (" + c.principal() + ", request " + c.requestId() + "; " + d.reference.size()
                + " series become its reference)", timestamp);
        registry.put(d.id, d);
        countCommand(c, "applied");
    }

    private void countCommand(DomainCommand c, String outcome) {
        Counter.builder("streams.domain.commands").description("domain commands (approvals) the drift detector read, by outcome")
                .tag("type", c.type().name()).tag("outcome", outcome).register(metrics).increment();
    }

    private void change(DomainState d, Status to, String reason, long timestamp) {
        Status from = d.status;
        d.status = to;
        d.reason = reason;
        d.sequence++;
        boolean decision = to == Status.DRIFT_CONFIRMED || to == Status.ALIAS;
        DomainEvent e = new DomainEvent(DomainEvent.SCHEMA_VERSION, DomainEvent.eventIdFor(d.id, d.sequence), d.sequence, d.id, from, to, reason,
                d.fingerprint, d.seriesCount, d.firstSeen, d.lastSeen, decision ? d.driftScore : null, decision ? d.evidence : null, d.aliasOf,
                d.seriesUids(), Instant.ofEpochMilli(context.currentSystemTimeMs()));
        LOG.infof("domain %s: %s -> %s (%s; %d series)", d.id, from, to, reason, d.seriesCount);
        context.forward(new Record<>(d.id, e, timestamp));
        registry.put(d.id, d);
        refreshGauges();
    }

    private void refreshGauges() {
        Map<Status, Long> n = new EnumMap<>(Status.class);
        try (KeyValueIterator<String, DomainState> it = registry.all()) {
            it.forEachRemaining(kv -> {
                if (kv.value.status != null) n.merge(kv.value.status, 1L, Long::sum);
            });
        }
        gauges.set(n);
    }
}
