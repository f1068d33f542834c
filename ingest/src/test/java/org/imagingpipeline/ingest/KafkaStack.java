package org.imagingpipeline.ingest;

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
import org.imagingpipeline.events.InstanceReceived;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.testsupport.BrokerProcess;
import org.imagingpipeline.testsupport.BrokerTestResource;

/**
 * Test resource: the shared broker resource (a real KRaft broker in its own JVM, a fresh state directory) plus free
 * ports and limits for the service under test. Also reads back what landed on imaging.instances.received.
 */
public class KafkaStack extends BrokerTestResource {
    static BrokerProcess broker;
    static Path home;
    static int dicomPort;

    @Override
    protected Map<String, String> settings(BrokerProcess b, Path h) throws Exception {
        broker = b;
        home = h;
        dicomPort = BrokerProcess.freePort();
        return Map.of(
                "ingest.home", home.resolve("ingest").toString(),
                "ingest.dicom.port", Integer.toString(dicomPort),
                "ingest.dicom.allowed-calling-aets", "STORESCU,ECHOSCU,PIXELMED",
                "ingest.ack-timeout", "3s",
                "ingest.max-object-bytes", Long.toString(8L << 20));
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
