package org.imagingpipeline.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.imagingpipeline.testsupport.BrokerProcess;
import org.imagingpipeline.events.BlobRef;
import org.imagingpipeline.events.InstanceHeader;
import org.imagingpipeline.events.InstanceReceived;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.SeriesReady;
import org.imagingpipeline.events.Topics;
import org.junit.jupiter.api.Test;

/** Wiring on a real broker: instance events in, one ordered series out (exactly once), health up. */
@QuarkusTest
@QuarkusTestResource(value = StreamsServiceTest.Broker.class, restrictToAnnotatedClass = true)
class StreamsServiceTest {
    public static class Broker extends BrokerResource {
        static BrokerProcess broker;

        @Override
        protected void started(BrokerProcess b, Path home) {
            broker = b;
        }
    }

    @ConfigProperty(name = "quarkus.http.test-port")
    int httpPort;

    @Test
    void instancesOnTheBrokerBecomeOneOrderedSeries() throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, Broker.broker.bootstrap());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        String series = "2.25." + Math.abs(UUID.randomUUID().getMostSignificantBits());
        try (KafkaProducer<String, InstanceReceived> producer = new KafkaProducer<>(p, new StringSerializer(), JsonSerde.of(InstanceReceived.class))) {
            for (int z : new int[] {2, 3, 1}) producer.send(new ProducerRecord<>(Topics.INSTANCES_RECEIVED, series, event(series, z))).get();
        }
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, Broker.broker.bootstrap());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "t-" + UUID.randomUUID());
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        List<SeriesReady> got = new ArrayList<>();
        try (KafkaConsumer<String, SeriesReady> consumer = new KafkaConsumer<>(c, new StringDeserializer(), JsonSerde.of(SeriesReady.class))) {
            consumer.subscribe(List.of(Topics.SERIES_READY));
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (got.isEmpty() && System.nanoTime() < deadline) consumer.poll(Duration.ofMillis(500)).forEach(r -> got.add(r.value()));
            long settle = System.nanoTime() + Duration.ofSeconds(4).toNanos();
            while (System.nanoTime() < settle) consumer.poll(Duration.ofMillis(500)).forEach(r -> got.add(r.value()));
        }
        assertEquals(1, got.size(), "one series, emitted once: " + got);
        SeriesReady r = got.get(0);
        assertEquals(series, r.seriesInstanceUid());
        assertEquals(SeriesReady.Reason.EXPECTED_COUNT, r.reason());
        assertEquals(List.of(series + ".1", series + ".2", series + ".3"), r.instances().stream().map(SeriesReady.Instance::sopInstanceUid).toList());
        HttpResponse<String> h = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/q/health/ready")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, h.statusCode(), h.body());
        assertTrue(h.body().contains("UP"));
    }

    private static InstanceReceived event(String series, int z) {
        String sop = series + "." + z;
        InstanceHeader h = new InstanceHeader("P1", null, null, "MR", "ACME", "M1", null, 3.0, "DU", null, null, null, null, null, null,
                null, null, null, new double[] {1, 1}, 3.0, null, new double[] {0, 0, z * 3.0}, new double[] {1, 0, 0, 0, 1, 0}, "1.9",
                64, 64, 16, 12, 0, 1, "MONOCHROME2", null, null, null, 1, z, 3, "BRAIN", null);
        String sha = String.format("%064x", (long) sop.hashCode() & 0xffffffffL);
        return new InstanceReceived(1, InstanceReceived.eventIdFor(sop, sha), Instant.now(), new InstanceReceived.Source("DIMSE", "A", "INGEST", "x"),
                "ST", series, sop, "1.2.840.10008.5.1.4.1.1.4", "1.2.840.10008.1.2.1", h, new BlobRef(sha, "file:/b/" + sha, 1, null));
    }
}
