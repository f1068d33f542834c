package org.imagingpipeline.streams;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.state.Stores;
import org.imagingpipeline.events.InstanceReceived;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.SeriesReady;
import org.imagingpipeline.events.Topics;

/**
 * imaging.instances.received -> {@link SeriesAssembler} (two changelogged stores) -> imaging.series.ready, or
 * imaging.streams.dlq for a series quarantined by the identity rule.
 */
public final class SeriesAssemblyTopology {
    private SeriesAssemblyTopology() {
    }

    /** Assembly alone (its tests). */
    public static Topology build(AssemblyConfig config) {
        return build(config, new SimpleMeterRegistry());
    }

    /** Assembly alone, its meters in {@code metrics}. */
    public static Topology build(AssemblyConfig config, MeterRegistry metrics) {
        StreamsBuilder b = new StreamsBuilder();
        addTo(b, config, metrics);
        return b.build();
    }

    public static void addTo(StreamsBuilder b, AssemblyConfig config, MeterRegistry metrics) {
        Counter assembled = Counter.builder("streams.series.assembled").description("series emitted on imaging.series.ready (revisions included)")
                .register(metrics);
        // the same meter as the dead-letter handlers' (DeadLetters), stage "quarantine": one metric per DLQ
        Counter quarantined = Counter.builder("streams.dlq.records").description("records written to the streams dead-letter topic")
                .tag("topic", Topics.STREAMS_DLQ).tag("stage", "quarantine").register(metrics);
        b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(SeriesAssembler.SERIES_STORE), Serdes.String(),
                JsonSerde.of(SeriesState.class)));
        b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(SeriesAssembler.INSTANCE_STORE), Serdes.String(),
                JsonSerde.of(InstanceEntry.class)));
        b.stream(Topics.INSTANCES_RECEIVED, Consumed.with(Serdes.String(), JsonSerde.of(InstanceReceived.class)).withName("instances"))
                .process(() -> new SeriesAssembler(config, assembled, quarantined), SeriesAssembler.SERIES_STORE, SeriesAssembler.INSTANCE_STORE)
                // a series with a quarantine reason goes to the dead-letter topic instead (SeriesAssembler: identity rule)
                .to((key, value, ctx) -> ctx.headers().lastHeader(SeriesAssembler.QUARANTINE_HEADER) != null ? Topics.STREAMS_DLQ : Topics.SERIES_READY,
                        Produced.with(Serdes.String(), JsonSerde.of(SeriesReady.class)).withName("series-ready"));
    }
}
