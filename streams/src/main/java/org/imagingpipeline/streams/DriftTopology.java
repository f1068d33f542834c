package org.imagingpipeline.streams;

import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.state.Stores;
import org.imagingpipeline.events.DomainEvent;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.SeriesReady;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.dicomnet.PixelDataLimits;

/**
 * imaging.series.ready -> {@link SeriesFeatureExtractor} (in parallel per series partition) -> one-partition repartition
 * topic {@code drift-features} -> {@link DriftDetector} (the registry and reference-patient stores, changelogged) ->
 * imaging.domain.events. The detector's second input is imaging.domain.commands (one partition too, so both are read by
 * the same task, the one that owns the registry): approvals from POST /domains/{id}/approve on any replica, checked
 * ({@link DomainCommand#checked}: a bad one is dead-lettered) and merged into the detector's stream.
 */
public final class DriftTopology {
    private DriftTopology() {
    }

    public static void addTo(StreamsBuilder b, DriftConfig config, ReferencePatients references, MeterRegistry metrics) {
        addTo(b, config, PixelDataLimits.DEFAULT, references, metrics);
    }

    public static void addTo(StreamsBuilder b, DriftConfig config, PixelDataLimits pixelLimits, ReferencePatients references, MeterRegistry metrics) {
        DomainStatusGauges gauges = new DomainStatusGauges(metrics);
        b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(DriftDetector.REGISTRY_STORE), Serdes.String(),
                JsonSerde.of(DomainState.class)));
        b.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(DriftDetector.REFERENCE_PATIENT_STORE), Serdes.String(),
                Serdes.String()));
        KStream<String, DetectorInput> features = b.stream(Topics.SERIES_READY, Consumed.with(Serdes.String(), JsonSerde.of(SeriesReady.class))
                        .withName("series"))
                .process(() -> new SeriesFeatureExtractor(config, pixelLimits, references, metrics))
                .repartition(Repartitioned.with(Serdes.String(), JsonSerde.of(SeriesFeatures.class)).withName("drift-features")
                        .withNumberOfPartitions(1))
                .mapValues(f -> (DetectorInput) f, Named.as("drift-features-input"));
        KStream<String, DetectorInput> commands = b.stream(Topics.DOMAIN_COMMANDS, Consumed.with(Serdes.String(), JsonSerde.of(DomainCommand.class))
                        .withName("domain-commands"))
                .mapValues((id, c) -> (DetectorInput) DomainCommand.checked(id, c), Named.as("domain-command-check"));
        features.merge(commands, Named.as("drift-detector-input"))
                .process(() -> new DriftDetector(config, gauges, metrics), Named.as("drift-detector"), DriftDetector.REGISTRY_STORE,
                        DriftDetector.REFERENCE_PATIENT_STORE)
                .to(Topics.DOMAIN_EVENTS, Produced.with(Serdes.String(), JsonSerde.of(DomainEvent.class)).withName("domain-events"));
    }
}
