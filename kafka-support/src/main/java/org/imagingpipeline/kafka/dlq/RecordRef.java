package org.imagingpipeline.kafka.dlq;

import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;

/**
 * A record's coordinates, written {@code topic-partition@offset} (the {@code dlq.source} form; a topic name may itself
 * hold dashes, the partition is after the last one).
 */
public record RecordRef(String topic, int partition, long offset) {
    public RecordRef {
        if (topic == null || topic.isBlank()) throw new IllegalArgumentException("topic is required");
        if (partition < 0 || offset < 0) throw new IllegalArgumentException("partition and offset must be >= 0");
    }

    public static RecordRef of(ConsumerRecord<?, ?> r) {
        return new RecordRef(r.topic(), r.partition(), r.offset());
    }

    /** {@code topic-partition@offset}, or empty when the text is not of that form. */
    public static Optional<RecordRef> parse(String text) {
        if (text == null) return Optional.empty();
        int at = text.lastIndexOf('@');
        int dash = at < 0 ? -1 : text.lastIndexOf('-', at);
        if (dash <= 0) return Optional.empty();
        try {
            return Optional.of(new RecordRef(text.substring(0, dash), Integer.parseInt(text.substring(dash + 1, at)),
                    Long.parseLong(text.substring(at + 1))));
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
    }

    public TopicPartition topicPartition() {
        return new TopicPartition(topic, partition);
    }

    @Override
    public String toString() {
        return topic + "-" + partition + "@" + offset;
    }
}
