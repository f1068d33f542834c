package org.imagingpipeline.ingest;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.imagingpipeline.events.InstanceReceived;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.kafka.TopicReader;
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
                "ingest.ack-timeout", "10s",
                "ingest.max-object-bytes", Long.toString(8L << 20));
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
