package org.imagingpipeline.retrain.service;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.ModelVersion;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.testsupport.BrokerProcess;

/** The JVM's shared KRaft broker ({@link BrokerProcess#shared()}) for the service tests, and topic helpers. */
public final class TestBroker {
    private TestBroker() {
    }

    public static String bootstrap() throws Exception {
        return BrokerProcess.shared().bootstrap();
    }

    public static <T> void send(String bootstrap, String topic, String key, T value, Class<T> type) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (KafkaProducer<String, T> producer = new KafkaProducer<>(p, new StringSerializer(), JsonSerde.of(type))) {
            producer.send(new ProducerRecord<>(topic, key, value)).get();
        }
    }

    /** Every record on ml.model.versions, in order: key and value. */
    public static List<Map.Entry<String, ModelVersion>> registry(String bootstrap) {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        List<Map.Entry<String, ModelVersion>> out = new ArrayList<>();
        try (KafkaConsumer<String, ModelVersion> consumer = new KafkaConsumer<>(c, new StringDeserializer(),
                JsonSerde.of(ModelVersion.class))) {
            List<TopicPartition> parts = consumer.partitionsFor(Topics.MODEL_VERSIONS).stream()
                    .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            Map<TopicPartition, Long> end = consumer.endOffsets(parts);
            while (parts.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                for (ConsumerRecord<String, ModelVersion> r : consumer.poll(Duration.ofMillis(500))) {
                    out.add(Map.entry(r.key(), r.value()));
                }
            }
        }
        return out;
    }
}
