package org.imagingpipeline.demo;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.kafka.KafkaClients;
import org.imagingpipeline.kafka.TopicReader;

/**
 * Everything on a topic from the start up to its end offsets at the time of the call (read_committed), read as the
 * local stack's read-only {@code cli} principal when its credentials exist (the stack's broker is SASL_SSL).
 */
final class TopicSnapshot {
    private static volatile Path clientProperties;

    private TopicSnapshot() {
    }

    /** The Kafka client properties file to read with (the demo stack's {@code secrets/kafka/cli.properties}). */
    static void useCredentials(Path file) {
        clientProperties = file;
    }

    private static KafkaClients clients(String bootstrap) {
        Path f = clientProperties;
        return f != null && Files.isRegularFile(f) ? KafkaClients.of(bootstrap, f) : KafkaClients.of(bootstrap);
    }

    record Rec<T>(String key, T value, long timestamp) {
    }

    static <T> List<Rec<T>> read(String bootstrap, String topic, Class<T> type) {
        JsonSerde<T> serde = JsonSerde.of(type);
        List<Rec<T>> out = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> r : TopicReader.readToEnd(clients(bootstrap), topic)) {
            if (r.value() == null) continue;
            out.add(new Rec<>(r.key(), serde.deserialize(topic, r.value()), r.timestamp()));
        }
        return out;
    }
}
