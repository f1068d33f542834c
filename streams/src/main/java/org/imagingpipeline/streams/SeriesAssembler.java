package org.imagingpipeline.streams;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.imagingpipeline.events.InstanceReceived;
import org.imagingpipeline.events.SeriesReady;

/**
 * Groups instances by SeriesInstanceUID and emits the series when it is complete: at once when as many
 * instances arrived as ImagesInAcquisition announced, otherwise after {@link AssemblyConfig#inactivity()} of
 * silence (wall clock). Redelivered events (same SOP Instance UID and eventId) change nothing. An instance
 * arriving after the series was emitted re-opens it; it is emitted again, whole, as the next revision with
 * reason LATE_UPDATE. Completed series are forgotten after {@link AssemblyConfig#retainCompleted()}.
 */
public class SeriesAssembler implements Processor<String, InstanceReceived, String, SeriesReady> {
    public static final String STORE = "series-assembly";

    private final AssemblyConfig config;
    private ProcessorContext<String, SeriesReady> context;
    private KeyValueStore<String, SeriesState> store;

    public SeriesAssembler(AssemblyConfig config) {
        this.config = config;
    }

    @Override
    public void init(ProcessorContext<String, SeriesReady> context) {
        this.context = context;
        this.store = context.getStateStore(STORE);
        context.schedule(config.checkInterval(), PunctuationType.WALL_CLOCK_TIME, this::sweep);
    }

    @Override
    public void process(Record<String, InstanceReceived> record) {
        InstanceReceived e = record.value();
        if (e == null || e.seriesInstanceUid() == null) return;
        String key = e.seriesInstanceUid();
        SeriesState s = store.get(key);
        if (s == null) {
            s = new SeriesState();
            s.studyInstanceUid = e.studyInstanceUid();
            s.seriesInstanceUid = key;
            s.header = e.header();
            s.firstReceivedAt = e.receivedAt();
        }
        InstanceReceived before = s.instances.get(e.sopInstanceUid());
        if (before != null && before.eventId() != null && before.eventId().equals(e.eventId())) return; // redelivery
        s.instances.put(e.sopInstanceUid(), e);
        s.lastReceivedAt = e.receivedAt();
        s.lastChangeMs = context.currentSystemTimeMs();
        if (s.expected == null && e.header() != null && e.header().imagesInAcquisition() != null && e.header().imagesInAcquisition() > 0) {
            s.expected = e.header().imagesInAcquisition();
        }
        boolean late = s.emitted;
        s.emitted = false;
        if (!late && s.expected != null && s.instances.size() >= s.expected) {
            emit(key, s, SeriesReady.Reason.EXPECTED_COUNT);
        }
        store.put(key, s);
    }

    private void sweep(long nowMs) {
        List<KeyValue<String, SeriesState>> due = new ArrayList<>();
        List<String> expired = new ArrayList<>();
        try (KeyValueIterator<String, SeriesState> it = store.all()) {
            while (it.hasNext()) {
                KeyValue<String, SeriesState> kv = it.next();
                SeriesState s = kv.value;
                if (!s.emitted && nowMs - s.lastChangeMs >= config.inactivity().toMillis()) due.add(kv);
                else if (s.emitted && nowMs - s.emittedAtMs >= config.retainCompleted().toMillis()) expired.add(kv.key);
            }
        }
        for (KeyValue<String, SeriesState> kv : due) {
            emit(kv.key, kv.value, kv.value.revision == 0 ? SeriesReady.Reason.INACTIVITY : SeriesReady.Reason.LATE_UPDATE);
            store.put(kv.key, kv.value);
        }
        expired.forEach(store::delete);
    }

    private void emit(String key, SeriesState s, SeriesReady.Reason reason) {
        s.revision++;
        s.emitted = true;
        s.emittedAtMs = context.currentSystemTimeMs();
        List<SeriesReady.Instance> ordered = SeriesOrdering.ordered(s.instances.values());
        String ts = s.instances.values().iterator().next().transferSyntaxUid();
        DomainFingerprint fp = s.header == null ? null : DomainFingerprint.of(s.header, ts);
        SeriesReady ready = new SeriesReady(SeriesReady.SCHEMA_VERSION, SeriesReady.eventIdFor(key, s.revision), s.revision, reason,
                s.studyInstanceUid, key, fp == null ? null : fp.domainId(), fp == null ? null : fp.asMap(), s.header, ordered, SeriesOrdering.geometry(s.instances.values(), ordered),
                s.firstReceivedAt, s.lastReceivedAt, Instant.ofEpochMilli(s.emittedAtMs));
        context.forward(new Record<>(key, ready, s.emittedAtMs));
    }
}
