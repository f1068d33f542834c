package org.imagingpipeline.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.imagingpipeline.events.BlobRef;
import org.imagingpipeline.events.DomainEvent;
import org.imagingpipeline.events.InstanceReceived;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.SeriesReady;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.kafka.ConsumeLoop;
import org.imagingpipeline.kafka.TopicReader;
import org.imagingpipeline.testsupport.BrokerProcess;
import org.junit.jupiter.api.Test;

/**
 * The service on a real broker: a series whose instances claim 30000 x 30000 (stored 96 x 96), followed by a good
 * series. The bad one is assembled (its headers are fine) and then refused before any pixel array is allocated: a
 * PIXEL_LIMITS dead letter on imaging.streams.dlq; the good one reaches the drift detector (its domain event); health
 * stays UP with a WARNING detail; the metric counts the dead letter.
 */
@QuarkusTest
@QuarkusTestResource(value = BadRecordServiceTest.Broker.class, restrictToAnnotatedClass = true)
class BadRecordServiceTest {
    public static class Broker extends BrokerResource {
        static BrokerProcess broker;
        static Path home;

        @Override
        protected void started(BrokerProcess b, Path h) {
            broker = b;
            home = h;
        }
    }

    @ConfigProperty(name = "quarkus.http.test-port")
    int httpPort;

    @Test
    void a30000By30000SeriesIsDeadLetteredAndTheNextSeriesGetsItsResult() throws Exception {
        Path blobs = Broker.home.resolve("blobs");
        SeriesReady huge = PhantomSeries.write(blobs.resolve("huge"), "Site B", "B-MR", "P2", 2, PhantomSeries.Shift.NONE, 3);
        for (SeriesReady.Instance i : huge.instances()) PhantomSeries.claimSize(Path.of(URI.create(i.blob().uri())), 30000, 30000);
        SeriesReady good = PhantomSeries.write(blobs.resolve("good"), "Site A", "A-MR", "P1", 1, PhantomSeries.Shift.NONE, 6);
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, Broker.broker.bootstrap());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        try (KafkaProducer<String, InstanceReceived> producer = new KafkaProducer<>(p, new StringSerializer(), JsonSerde.of(InstanceReceived.class))) {
            for (SeriesReady s : List.of(huge, good)) {
                for (SeriesReady.Instance i : s.instances()) producer.send(new ProducerRecord<>(Topics.INSTANCES_RECEIVED, s.seriesInstanceUid(), event(s, i))).get();
            }
        }

        List<ConsumerRecord<String, byte[]>> events = TopicReader.awaitRecords(Broker.broker.bootstrap(), new ByteArrayDeserializer(),
                "the good series' domain event", rs -> rs.stream().anyMatch(r -> good.domainId().equals(r.key())), Duration.ofMinutes(3),
                Topics.DOMAIN_EVENTS);
        ConsumerRecord<String, byte[]> dl = TopicReader.awaitRecords(Broker.broker.bootstrap(), new ByteArrayDeserializer(),
                "the bad series' dead letter", rs -> rs.stream().anyMatch(r -> huge.seriesInstanceUid().equals(r.key())), Duration.ofMinutes(3),
                Topics.STREAMS_DLQ).stream().filter(r -> huge.seriesInstanceUid().equals(r.key())).findFirst().orElseThrow();
        String reason = new String(dl.headers().lastHeader(ConsumeLoop.DLQ_REASON).value(), StandardCharsets.UTF_8);
        assertTrue(reason.startsWith("PIXEL_LIMITS: series " + huge.seriesInstanceUid()) && reason.contains("Rows 30000 exceeds the limit"), reason);
        assertTrue(new String(dl.headers().lastHeader(ConsumeLoop.DLQ_SOURCE).value(), StandardCharsets.UTF_8).startsWith(Topics.SERIES_READY + "-"));
        SeriesReady dead = JsonSerde.of(SeriesReady.class).deserialize(Topics.STREAMS_DLQ, dl.value());
        assertEquals(3, dead.instances().size(), "the dead letter is the series record as read");
        assertTrue(events.stream().noneMatch(r -> huge.domainId().equals(r.key())), "the refused series changed no domain");
        DomainEvent e = JsonSerde.of(DomainEvent.class).deserialize(Topics.DOMAIN_EVENTS,
                events.stream().filter(r -> good.domainId().equals(r.key())).findFirst().orElseThrow().value());
        assertEquals(DomainEvent.Status.CANDIDATE, e.status());

        HttpResponse<String> health = get("/q/health/ready");
        assertEquals(200, health.statusCode(), "dead letters never make the service DOWN: " + health.body());
        assertTrue(health.body().contains("streams-dead-letters") && health.body().contains("WARNING") && health.body().contains("PIXEL_LIMITS"),
                health.body());
        String metrics = get("/q/metrics").body();
        assertTrue(metrics.lines().anyMatch(l -> l.startsWith("streams_dlq_records_total{") && l.contains("stage=\"processing\"")
                && l.contains("topic=\"imaging.streams.dlq\"") && !l.endsWith(" 0.0")), metrics);
    }

    private HttpResponse<String> get(String path) throws Exception {
        return HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static InstanceReceived event(SeriesReady s, SeriesReady.Instance i) throws Exception {
        byte[] bytes = Files.readAllBytes(Path.of(URI.create(i.blob().uri())));
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        return new InstanceReceived(1, InstanceReceived.eventIdFor(i.sopInstanceUid(), sha), Instant.now(),
                new InstanceReceived.Source("DIMSE", "A", "INGEST", "x"), s.studyInstanceUid(), s.seriesInstanceUid(), i.sopInstanceUid(),
                i.sopClassUid(), i.transferSyntaxUid(), s.header(), new BlobRef(sha, i.blob().uri(), bytes.length, "application/dicom"));
    }
}
