package org.imagingpipeline.ingest;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.imagingpipeline.deploy.BrokerProcess;
import org.imagingpipeline.events.InstanceReceived;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.Topics;

/**
 * Test resource: a real KRaft broker in its own JVM (deploy's BrokerProcess), a fresh state directory and free
 * ports for the service under test. Also reads back what landed on imaging.instances.received.
 */
public class KafkaStack implements QuarkusTestResourceLifecycleManager {
    static BrokerProcess broker;
    static Path home;
    static int dicomPort;

    @Override
    public Map<String, String> start() {
        try {
            home = Files.createTempDirectory("ingest-test-");
            broker = BrokerProcess.startWithTopics(home.resolve("kafka"));
            dicomPort = BrokerProcess.freePort();
            return Map.of(
                    "kafka.bootstrap.servers", broker.bootstrap(),
                    "ingest.home", home.resolve("ingest").toString(),
                    "ingest.dicom.port", Integer.toString(dicomPort),
                    "ingest.dicom.allowed-calling-aets", "STORESCU,ECHOSCU,PIXELMED",
                    "ingest.ack-timeout", "3s",
                    "ingest.max-object-bytes", Long.toString(8L << 20));
        } catch (Exception e) {
            throw new IllegalStateException("cannot start the test broker", e);
        }
    }

    @Override
    public void stop() {
        try {
            if (broker != null) broker.stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Every event on the topic from the beginning, read until {@code quiet} passes without a new one. */
    static List<InstanceReceived> allEvents(Duration quiet) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<InstanceReceived> out = new ArrayList<>();
        try (KafkaConsumer<String, InstanceReceived> c = new KafkaConsumer<>(p, new StringDeserializer(),
                JsonSerde.of(InstanceReceived.class))) {
            c.subscribe(List.of(Topics.INSTANCES_RECEIVED));
            long lastNew = System.nanoTime();
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (System.nanoTime() - lastNew < quiet.toNanos() && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, InstanceReceived> r : c.poll(Duration.ofMillis(300))) {
                    if (!r.key().equals(r.value().seriesInstanceUid())) throw new AssertionError("key is not the series UID: " + r.key());
                    out.add(r.value());
                    lastNew = System.nanoTime();
                }
            }
        }
        return out;
    }
}
