package org.imagingpipeline.demo;

import java.util.ArrayList;
import java.util.List;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.kafka.TopicReader;

/** Everything on a topic from the start up to its end offsets at the time of the call (read_committed). */
final class TopicSnapshot {
    private TopicSnapshot() {
    }

    record Rec<T>(String key, T value, long timestamp) {
    }

    static <T> List<Rec<T>> read(String bootstrap, String topic, Class<T> type) {
        JsonSerde<T> serde = JsonSerde.of(type);
        List<Rec<T>> out = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> r : TopicReader.readToEnd(bootstrap, topic)) {
            if (r.value() == null) continue;
            out.add(new Rec<>(r.key(), serde.deserialize(topic, r.value()), r.timestamp()));
        }
        return out;
    }
}
