package org.imagingpipeline.demo;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.kafka.KafkaClients;

/** Everything on a topic from the start up to its end offsets at the time of the call (read_committed). */
final class TopicSnapshot {
    private TopicSnapshot() {
    }

    record Rec<T>(String key, T value, long timestamp) {
    }

    static <T> List<Rec<T>> read(String bootstrap, String topic, Class<T> type) {
        JsonSerde<T> serde = JsonSerde.of(type);
        List<Rec<T>> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = KafkaClients.of(bootstrap).consumer(Map.of(
                ConsumerConfig.GROUP_ID_CONFIG, "demo-snapshot-" + UUID.randomUUID(),
                ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 32 << 20, ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 64 << 20))) {
            List<TopicPartition> parts = c.partitionsFor(topic, Duration.ofSeconds(30)).stream()
                    .map(i -> new TopicPartition(topic, i.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts, Duration.ofSeconds(30));
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp)) && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(500))) {
                    if (r.value() == null) continue;
                    out.add(new Rec<>(r.key(), serde.deserialize(topic, r.value()), r.timestamp()));
                }
            }
        }
        return out;
    }
}
