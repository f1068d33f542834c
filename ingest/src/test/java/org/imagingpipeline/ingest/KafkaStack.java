package org.imagingpipeline.ingest;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.imagingpipeline.deploy.BrokerProcess;
import org.imagingpipeline.deploy.TopicReader;
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
                    "ingest.ack-timeout", "10s",
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

    /**
     * Every event on the topic from the beginning up to its end offsets now. Ingest answers a sender only after Kafka
     * acknowledged the event, so this holds every event of every instance acknowledged before the call.
     */
    static List<InstanceReceived> allEvents() {
        List<InstanceReceived> out = new ArrayList<>();
        for (ConsumerRecord<String, InstanceReceived> r : TopicReader.readToEnd(broker.bootstrap(), JsonSerde.of(InstanceReceived.class),
                Topics.INSTANCES_RECEIVED)) {
            if (!r.key().equals(r.value().seriesInstanceUid())) throw new AssertionError("key is not the series UID: " + r.key());
            out.add(r.value());
        }
        return out;
    }
}
