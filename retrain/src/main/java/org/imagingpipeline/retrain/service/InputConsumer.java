package org.imagingpipeline.retrain.service;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.common.errors.SerializationException;
import org.imagingpipeline.events.DomainEvent;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.SeriesReady;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.retrain.service.data.SeriesCatalog;
import org.imagingpipeline.retrain.service.jobs.DriftTrigger;
import org.jboss.logging.Logger;

/**
 * Consumes {@code imaging.series.ready} (into the {@link SeriesCatalog}) and {@code imaging.domain.events} (into the
 * {@link DriftTrigger}) in one consumer group, on its own thread. Offsets are committed after a poll's records are
 * handled (and so persisted): at least once, and both handlers are idempotent. A new group starts at the earliest
 * offset, so the catalog can be rebuilt from the topic. Unreadable records are logged and skipped.
 */
public final class InputConsumer extends ConsumerThread {
    private static final Logger LOG = Logger.getLogger(InputConsumer.class);

    private final SeriesCatalog catalog;
    private final DriftTrigger trigger;
    private final JsonSerde<SeriesReady> seriesSerde = JsonSerde.of(SeriesReady.class);
    private final JsonSerde<DomainEvent> domainSerde = JsonSerde.of(DomainEvent.class);
    private volatile boolean joined;

    public InputConsumer(String bootstrapServers, String groupId, Map<String, String> extraKafka, SeriesCatalog catalog,
                         DriftTrigger trigger) {
        // A SeriesReady of thousands of slices is several MiB (the topic takes up to 16 MiB).
        super("retrain-inputs", bootstrapServers, Map.of(ConsumerConfig.GROUP_ID_CONFIG, groupId,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(17 << 20),
                ConsumerConfig.FETCH_MAX_BYTES_CONFIG, Integer.toString(34 << 20),
                ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "100"), extraKafka);
        this.catalog = catalog;
        this.trigger = trigger;
    }

    /** True once the consumer was assigned partitions (so Kafka answered and the group formed). */
    public boolean joined() {
        return joined;
    }

    @Override
    protected void consume() {
        consumer.subscribe(List.of(Topics.SERIES_READY, Topics.DOMAIN_EVENTS));
        while (running()) {
            ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(500));
            polled();
            joined = joined || !consumer.assignment().isEmpty();
            for (ConsumerRecord<String, byte[]> r : records) handle(r);
            if (!records.isEmpty()) consumer.commitSync();
        }
    }

    private void handle(ConsumerRecord<String, byte[]> r) {
        if (r.value() == null) return;
        try {
            if (Topics.SERIES_READY.equals(r.topic())) {
                SeriesReady s = seriesSerde.deserialize(r.topic(), r.value());
                catalog.add(s);
                if (s.domainId() != null) trigger.onSeries(s.domainId());
            } else {
                trigger.onDomainEvent(domainSerde.deserialize(r.topic(), r.value()));
            }
        } catch (SerializationException | IllegalArgumentException | NullPointerException e) {
            LOG.warnf("skipping unusable record %s-%d@%d (key %s): %s", r.topic(), r.partition(), r.offset(), r.key(), e.getMessage());
        }
    }
}
