package org.imagingpipeline.retrain.service;

import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.errors.SerializationException;
import org.imagingpipeline.events.DomainEvent;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.SeriesReady;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.kafka.ConsumeLoop;
import org.imagingpipeline.kafka.KafkaClients;
import org.imagingpipeline.kafka.LoopHandler;
import org.imagingpipeline.retrain.service.data.SeriesCatalog;
import org.imagingpipeline.retrain.service.jobs.DriftTrigger;
import org.jboss.logging.Logger;

/**
 * Consumes {@code imaging.series.ready} (into the {@link SeriesCatalog}) and {@code imaging.domain.events} (into the
 * {@link DriftTrigger}) in one consumer group, on the shared {@link ConsumeLoop}: a record's offset is committed after
 * it was handled (and so persisted): at least once, and both handlers are idempotent. A new group starts at the
 * earliest offset, so the catalog can be rebuilt from the topic. Unreadable records are logged and skipped; a record
 * whose handling fails otherwise is retried with backoff.
 */
public final class InputConsumer extends LoopHandler<InputConsumer> {
    private static final Logger LOG = Logger.getLogger(InputConsumer.class);

    private final SeriesCatalog catalog;
    private final DriftTrigger trigger;
    private final JsonSerde<SeriesReady> seriesSerde = JsonSerde.of(SeriesReady.class);
    private final JsonSerde<DomainEvent> domainSerde = JsonSerde.of(DomainEvent.class);

    public InputConsumer(KafkaClients clients, String groupId, SeriesCatalog catalog, DriftTrigger trigger,
                         MeterRegistry meters) {
        // A SeriesReady of thousands of slices is several MiB (the topic takes up to 16 MiB).
        super(clients, ConsumeLoop.Settings.of("retrain-inputs", groupId, Topics.SERIES_READY, null)
                .withTopics(Topics.SERIES_READY, Topics.DOMAIN_EVENTS)
                .withConsumer(Map.of(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(17 << 20),
                        ConsumerConfig.FETCH_MAX_BYTES_CONFIG, Integer.toString(34 << 20),
                        ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "100")), meters);
        this.catalog = catalog;
        this.trigger = trigger;
    }

    /** True once the consumer joined its group (so Kafka answered and the group formed). */
    public boolean joined() {
        return loop().assignedPartitions() >= 0;
    }

    @Override
    public ConsumeLoop.Outcome handle(ConsumerRecord<String, byte[]> r, ConsumeLoop.Attempt attempt) {
        if (r.value() == null) return ConsumeLoop.Outcome.done();
        try {
            if (Topics.SERIES_READY.equals(r.topic())) {
                if (r.headers().lastHeader(SeriesReady.REPLAY_HEADER) != null) return ConsumeLoop.Outcome.done(); // our own replay
                SeriesReady s = seriesSerde.deserialize(r.topic(), r.value());
                catalog.add(s);
                if (s.domainId() != null) trigger.onSeries(s.domainId());
            } else {
                trigger.onDomainEvent(domainSerde.deserialize(r.topic(), r.value()));
            }
        } catch (SerializationException | IllegalArgumentException | NullPointerException e) {
            LOG.warnf("skipping unusable record %s (key %s): %s", ConsumeLoop.source(r), r.key(), e.getMessage());
        }
        return ConsumeLoop.Outcome.done();
    }
}
