package org.imagingpipeline.ingest;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.imagingpipeline.events.AuditEvent;
import org.imagingpipeline.events.InstanceReceived;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.kafka.TopicReader;
import org.imagingpipeline.localca.LocalCa;
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
    static int tlsPort;
    /** The local CA's files as ./pipeline up makes them: ca.pem, ingest.pem (the SCP), scanner.pem (a sender's client certificate). */
    static Path secrets;
    /** Another CA with its own "scanner" certificate: what ingest must not trust. */
    static Path foreign;

    @Override
    protected Map<String, String> settings(BrokerProcess b, Path h) throws Exception {
        broker = b;
        home = h;
        dicomPort = BrokerProcess.freePort();
        int t = BrokerProcess.freePort();
        while (t == dicomPort) t = BrokerProcess.freePort();
        tlsPort = t;
        secrets = home.resolve("secrets");
        LocalCa ca = LocalCa.ensure(secrets);
        ca.issue("ingest", List.of());
        ca.issue("scanner", List.of());
        foreign = home.resolve("foreign-ca");
        LocalCa.ensure(foreign).issue("scanner", List.of());
        // DICOM TLS as the stack runs it: the certificate, key and trust store default to pipeline.home/secrets/.
        return Map.of(
                "ingest.home", home.resolve("ingest").toString(),
                "ingest.dicom.port", Integer.toString(dicomPort),
                "ingest.dicom.tls.port", Integer.toString(tlsPort),
                "ingest.dicom.allowed-calling-aets", "STORESCU,ECHOSCU,PIXELMED",
                "ingest.dicom.allowed-sources", "127.0.0.1,::1",
                "ingest.ack-timeout", "10s",
                "ingest.max-object-bytes", Long.toString(8L << 20),
                "ingest.max-inflated-bytes", Long.toString(64L << 20),
                "ingest.dicom.request-timeout", "2s");
    }

    /** Every event on audit.events so far. */
    static List<AuditEvent> auditEvents() {
        List<AuditEvent> out = new ArrayList<>();
        for (ConsumerRecord<String, AuditEvent> r : TopicReader.readToEnd(broker.bootstrap(), JsonSerde.of(AuditEvent.class), Topics.AUDIT_EVENTS)) {
            out.add(r.value());
        }
        return out;
    }

    /**
     * Every event on the topic from the beginning up to its end offsets now. Ingest answers a sender only after Kafka
     * acknowledged the event, so this holds every event of every instance acknowledged before the call.
     */
    static List<InstanceReceived> allEvents() {
        List<InstanceReceived> out = new ArrayList<>();
        for (ConsumerRecord<String, InstanceReceived> r : records()) {
            if (r.value() == null) continue; // a sender-done marker (senderDoneMarkers)
            if (!r.key().equals(r.value().seriesInstanceUid())) throw new AssertionError("key is not the series UID: " + r.key());
            out.add(r.value());
        }
        return out;
    }

    /**
     * The sender-done markers so far, in topic order per partition: key (SeriesInstanceUID) and the header's value, and
     * whether every instance event of that series on its partition came before the marker.
     */
    static List<Marker> senderDoneMarkers() {
        List<Marker> out = new ArrayList<>();
        java.util.Map<String, Long> lastInstanceOffset = new java.util.HashMap<>();
        List<ConsumerRecord<String, InstanceReceived>> all = records();
        for (ConsumerRecord<String, InstanceReceived> r : all) {
            if (r.value() != null) lastInstanceOffset.merge(r.key(), r.offset(), Math::max);
        }
        for (ConsumerRecord<String, InstanceReceived> r : all) {
            if (r.value() != null) continue;
            org.apache.kafka.common.header.Header h = r.headers().lastHeader(InstanceReceived.SENDER_DONE_HEADER);
            if (h == null) throw new AssertionError("a record with a null value and no sender-done header at offset " + r.offset());
            out.add(new Marker(r.key(), new String(h.value(), java.nio.charset.StandardCharsets.US_ASCII),
                    lastInstanceOffset.getOrDefault(r.key(), -1L) < r.offset()));
        }
        return out;
    }

    record Marker(String seriesUid, String how, boolean afterItsInstances) {
    }

    /** The last marker of each series (markers are in topic order, and a series is on one partition). */
    static java.util.Map<String, Marker> lastMarkerPerSeries(List<Marker> markers) {
        java.util.Map<String, Marker> last = new java.util.HashMap<>();
        for (Marker m : markers) last.put(m.seriesUid(), m);
        return last;
    }

    private static List<ConsumerRecord<String, InstanceReceived>> records() {
        return TopicReader.readToEnd(broker.bootstrap(), JsonSerde.of(InstanceReceived.class), Topics.INSTANCES_RECEIVED);
    }
}
