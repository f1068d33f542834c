package org.imagingpipeline.streams;

import io.micrometer.core.instrument.Counter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.imagingpipeline.events.InstanceReceived;
import org.imagingpipeline.events.SeriesReady;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.kafka.ConsumeLoop;
import org.imagingpipeline.kafka.dlq.DlqHeaders;
import org.imagingpipeline.streams.deadletter.DeadLetters;
import org.jboss.logging.Logger;

/**
 * Groups instances by SeriesInstanceUID and emits the series when it is complete: at once when as many
 * instances arrived as ImagesInAcquisition announced; {@link AssemblyConfig#senderDoneGrace()} after ingest's
 * sender-done marker (the association that stored it was released, its STOW-RS request ended) when no instance
 * followed; otherwise after {@link AssemblyConfig#inactivity()} of silence (wall clock). Redelivered events (same SOP Instance UID and eventId) change nothing. An instance
 * arriving after the series was emitted re-opens it; it is emitted again, whole, as the next revision with
 * reason LATE_UPDATE. Completed series are forgotten after {@link AssemblyConfig#retainCompleted()}.
 * Two stores: a small summary per series and one entry per instance (keyed series/SOP, read by prefix scan).
 *
 * <p>Patient safety: a series whose instances disagree on PatientID, IssuerOfPatientID or StudyInstanceUID is never
 * emitted for reporting; when it completes, the series record goes to {@code imaging.streams.dlq} instead (header
 * {@link #QUARANTINE_HEADER} carries the reason, {@code IDENTITY_MISMATCH: ...}, naming the attributes and the first
 * disagreeing instance, never the values), in the same transaction as the assembly's state. Revisions stay quarantined.
 */
public class SeriesAssembler implements Processor<String, InstanceReceived, String, SeriesReady> {
    public static final String SERIES_STORE = "series-assembly";
    public static final String INSTANCE_STORE = "series-instances";

    /** Header of a forwarded series that must be quarantined rather than reported (the topic extractor routes on it). */
    public static final String QUARANTINE_HEADER = ConsumeLoop.DLQ_REASON;
    private static final Logger LOG = Logger.getLogger(SeriesAssembler.class);
    private final AssemblyConfig config;
    private final Counter assembled;
    private final Counter quarantined;
    private ProcessorContext<String, SeriesReady> context;
    private KeyValueStore<String, SeriesState> series;
    private KeyValueStore<String, InstanceEntry> instances;

    public SeriesAssembler(AssemblyConfig config, Counter assembled, Counter quarantined) {
        this.config = config;
        this.assembled = assembled;
        this.quarantined = quarantined;
    }


    @Override
    public void init(ProcessorContext<String, SeriesReady> context) {
        this.context = context;
        this.series = context.getStateStore(SERIES_STORE);
        this.instances = context.getStateStore(INSTANCE_STORE);
        context.schedule(config.checkInterval(), PunctuationType.WALL_CLOCK_TIME, this::sweep);
    }

    @Override
    public void process(Record<String, InstanceReceived> record) {
        InstanceReceived e = record.value();
        if (e == null) {
            if (record.key() != null && record.headers().lastHeader(InstanceReceived.SENDER_DONE_HEADER) != null) senderDone(record.key());
            return;
        }
        if (e.seriesInstanceUid() == null || e.sopInstanceUid() == null) return;
        String key = e.seriesInstanceUid();
        String instanceKey = InstanceEntry.key(key, e.sopInstanceUid());
        InstanceEntry before = instances.get(instanceKey);
        if (before != null && before.eventId() != null && before.eventId().equals(e.eventId())) return; // redelivery
        SeriesState s = series.get(key);
        if (s == null) {
            s = new SeriesState();
            s.studyInstanceUid = e.studyInstanceUid();
            s.seriesInstanceUid = key;
            s.header = e.header();
            s.firstReceivedAt = e.receivedAt();
        }
        if (s.identityConflict == null && before == null && s.instanceCount > 0) s.identityConflict = conflict(s, e);
        instances.put(instanceKey, InstanceEntry.of(e));
        if (before == null) s.instanceCount++;
        s.lastReceivedAt = e.receivedAt();
        s.lastChangeMs = context.currentSystemTimeMs();
        s.senderDoneMs = 0; // a sender is sending this series again: wait for its own marker (or the inactivity)
        if (s.expected == null && e.header() != null && e.header().imagesInAcquisition() != null && e.header().imagesInAcquisition() > 0) {
            s.expected = e.header().imagesInAcquisition();
        }
        boolean late = s.emitted;
        s.emitted = false;
        if (!late && s.expected != null && s.instanceCount >= s.expected) emit(key, s, SeriesReady.Reason.EXPECTED_COUNT);
        series.put(key, s);
    }

    /**
     * Ingest's marker: the sender that stored instances of the series is done with it for now. An open series is
     * complete once {@link AssemblyConfig#senderDoneGrace()} passes without a new instance (at once for a zero grace);
     * an emitted or unknown series (every instance refused, already forgotten) is left alone.
     */
    private void senderDone(String key) {
        if (config.senderDoneGrace() == null) return;
        SeriesState s = series.get(key);
        if (s == null || s.emitted) return;
        s.senderDoneMs = context.currentSystemTimeMs();
        if (config.senderDoneGrace().isZero()) emit(key, s, s.revision == 0 ? SeriesReady.Reason.SENDER_DONE : SeriesReady.Reason.LATE_UPDATE);
        series.put(key, s);
    }

    /** The attributes on which the new instance disagrees with the series' first instance, or null. */
    static String conflict(SeriesState s, InstanceReceived e) {
        List<String> differ = new ArrayList<>();
        String firstPatient = s.header == null ? null : s.header.patientId();
        String firstIssuer = s.header == null ? null : s.header.issuerOfPatientId();
        if (!Objects.equals(firstPatient, e.header() == null ? null : e.header().patientId())) differ.add("PatientID");
        if (!Objects.equals(firstIssuer, e.header() == null ? null : e.header().issuerOfPatientId())) differ.add("IssuerOfPatientID");
        if (!Objects.equals(s.studyInstanceUid, e.studyInstanceUid())) differ.add("StudyInstanceUID");
        return differ.isEmpty() ? null : "IDENTITY_MISMATCH: instance " + e.sopInstanceUid() + " disagrees with the series' first instance on "
                + String.join(", ", differ) + "; the series is not reported";
    }

    private void sweep(long nowMs) {
        List<KeyValue<String, SeriesState>> due = new ArrayList<>();
        List<String> expired = new ArrayList<>();
        try (KeyValueIterator<String, SeriesState> it = series.all()) {
            while (it.hasNext()) {
                KeyValue<String, SeriesState> kv = it.next();
                SeriesState s = kv.value;
                if (!s.emitted && (nowMs - s.lastChangeMs >= config.inactivity().toMillis() || senderDoneFor(s, nowMs))) due.add(kv);
                else if (s.emitted && nowMs - s.emittedAtMs >= config.retainCompleted().toMillis()) expired.add(kv.key);
            }
        }
        for (KeyValue<String, SeriesState> kv : due) {
            SeriesReady.Reason first = senderDoneFor(kv.value, nowMs) ? SeriesReady.Reason.SENDER_DONE : SeriesReady.Reason.INACTIVITY;
            emit(kv.key, kv.value, kv.value.revision == 0 ? first : SeriesReady.Reason.LATE_UPDATE);
            series.put(kv.key, kv.value);
        }
        for (String key : expired) {
            for (InstanceEntry e : entries(key)) instances.delete(InstanceEntry.key(key, e.sopInstanceUid()));
            series.delete(key);
        }
    }

    /** The sender said it is done and no instance came within the grace since. */
    private boolean senderDoneFor(SeriesState s, long nowMs) {
        return config.senderDoneGrace() != null && s.senderDoneMs > 0 && nowMs - s.senderDoneMs >= config.senderDoneGrace().toMillis();
    }

    private List<InstanceEntry> entries(String seriesUid) {
        List<InstanceEntry> out = new ArrayList<>();
        try (KeyValueIterator<String, InstanceEntry> it = instances.prefixScan(seriesUid + "/", new StringSerializer())) {
            it.forEachRemaining(kv -> out.add(kv.value));
        }
        return out;
    }

    private void emit(String key, SeriesState s, SeriesReady.Reason reason) {
        s.revision++;
        s.emitted = true;
        s.emittedAtMs = context.currentSystemTimeMs();
        List<InstanceEntry> entries = entries(key);
        List<SeriesReady.Instance> ordered = SeriesOrdering.ordered(entries);
        String ts = entries.isEmpty() ? null : entries.get(0).transferSyntaxUid();
        DomainFingerprint fp = s.header == null ? null : DomainFingerprint.of(s.header, ts);
        SeriesReady ready = new SeriesReady(SeriesReady.SCHEMA_VERSION, SeriesReady.eventIdFor(key, s.revision), s.revision, reason,
                s.studyInstanceUid, key, fp == null ? null : fp.domainId(), fp == null ? null : fp.asMap(), s.header, ordered,
                SeriesOrdering.geometry(s.header, entries, ordered), s.firstReceivedAt, s.lastReceivedAt, Instant.ofEpochMilli(s.emittedAtMs));
        Record<String, SeriesReady> out = new Record<>(key, ready, s.emittedAtMs);
        if (s.identityConflict != null) {
            out.headers().add(QUARANTINE_HEADER, s.identityConflict.getBytes(StandardCharsets.UTF_8));
            // made from many input records, none of which is "the" source: ./pipeline dlq replay refuses it (no dlq.source)
            out.headers().add(DlqHeaders.VALUE, DlqHeaders.VALUE_DERIVED.getBytes(StandardCharsets.UTF_8));
            out.headers().add(DeadLetters.DLQ_STAGE, "processing".getBytes(StandardCharsets.UTF_8));
            out.headers().add(DeadLetters.DLQ_PROCESSOR, "series-assembly".getBytes(StandardCharsets.UTF_8));
            LOG.warnf("series %s revision %d quarantined on %s: %s", key, s.revision, Topics.STREAMS_DLQ, s.identityConflict);
            context.forward(out);
            quarantined.increment();
            return;
        }
        context.forward(out);
        assembled.increment();
    }
}
