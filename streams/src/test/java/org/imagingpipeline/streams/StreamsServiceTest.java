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
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.imagingpipeline.testsupport.BrokerProcess;
import org.imagingpipeline.testsupport.auth.TestTokens;
import org.imagingpipeline.events.AuditEvent;
import org.imagingpipeline.events.BlobRef;
import org.imagingpipeline.events.InstanceHeader;
import org.imagingpipeline.events.InstanceReceived;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.SeriesReady;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.kafka.TopicReader;
import org.junit.jupiter.api.Test;

/**
 * Wiring on a real broker: instance events in, one ordered series out (exactly once), a series without a count completed
 * by inactivity, health up.
 */
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
        String marker = "2.25." + Math.abs(UUID.randomUUID().getMostSignificantBits());
        try (KafkaProducer<String, InstanceReceived> producer = new KafkaProducer<>(p, new StringSerializer(), JsonSerde.of(InstanceReceived.class))) {
            int partition = -1;
            for (int z : new int[] {2, 3, 1}) {
                partition = producer.send(new ProducerRecord<>(Topics.INSTANCES_RECEIVED, series, event(series, z, 3))).get().partition();
            }
            awaitRecords("the series", rs -> count(rs, series) >= 1);
            // A marker series on the same partition (the same task, so the same inactivity sweep) that announces no
            // instance count: it completes only by inactivity. Its record comes from a sweep that ran after the
            // first series' inactivity deadline too, so a second emission of that series would be on the topic by then.
            producer.send(new ProducerRecord<>(Topics.INSTANCES_RECEIVED, partition, marker, event(marker, 1, null))).get();
        }
        List<SeriesReady> got = awaitRecords("the marker series, completed by inactivity", rs -> count(rs, marker) >= 1);
        assertEquals(Map.of(series, 1L, marker, 1L), got.stream().collect(Collectors.groupingBy(SeriesReady::seriesInstanceUid, Collectors.counting())),
                "each series emitted once: " + got.stream().map(g -> g.eventId() + " " + g.reason()).toList());
        SeriesReady r = got.stream().filter(g -> g.seriesInstanceUid().equals(series)).findFirst().orElseThrow();
        assertEquals(SeriesReady.Reason.EXPECTED_COUNT, r.reason());
        assertEquals(List.of(series + ".1", series + ".2", series + ".3"), r.instances().stream().map(SeriesReady.Instance::sopInstanceUid).toList());
        assertEquals(SeriesReady.Reason.INACTIVITY, got.stream().filter(g -> g.seriesInstanceUid().equals(marker)).findFirst().orElseThrow().reason());
        HttpResponse<String> h = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/q/health/ready")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, h.statusCode(), h.body());
        assertTrue(h.body().contains("UP"));
    }

    @Test
    void theDomainApiNeedsATokenWithItsRoleHealthAndMetricsDoNot() throws Exception {
        // GET /domains with a viewer token: 200 once the registry is queryable (503 while the topology starts).
        long deadline = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        HttpResponse<String> list = send("GET", "/domains", TestTokens.bearer("viewer"));
        while (list.statusCode() == 503 && System.nanoTime() < deadline) {
            Thread.sleep(500);
            list = send("GET", "/domains", TestTokens.bearer("viewer"));
        }
        assertEquals(200, list.statusCode(), list.body());
        assertEquals(200, send("GET", "/domains", TestTokens.bearer("admin")).statusCode());
        assertEquals(404, send("GET", "/domains/dom-000000000000", TestTokens.bearer("viewer")).statusCode());

        for (String path : List.of("/domains", "/domains/dom-000000000000")) {
            assertEquals(401, send("GET", path, null).statusCode(), path + " without a token");
            for (String bad : TestTokens.badTokens("viewer")) {
                assertEquals(401, send("GET", path, "Bearer " + bad).statusCode(), path + " with a bad token");
            }
            for (String role : List.of("mlops", "scanner")) assertEquals(403, send("GET", path, TestTokens.bearer(role)).statusCode(), path + " " + role);
        }

        String approve = "/domains/dom-000000000000/approve";
        assertEquals(401, send("POST", approve, null).statusCode());
        assertEquals(401, send("POST", approve, "Bearer " + TestTokens.signedByAnotherKey("mlops")).statusCode());
        assertEquals(401, send("POST", approve, "Bearer " + TestTokens.expired("mlops")).statusCode());
        for (String role : List.of("viewer", "scanner")) assertEquals(403, send("POST", approve, TestTokens.bearer(role)).statusCode(), role);
        // Past authorisation: the unknown domain is what answers.
        assertEquals(404, send("POST", approve, TestTokens.bearer("mlops")).statusCode());
        assertEquals(404, send("POST", approve, TestTokens.bearer("admin")).statusCode());
        // The approve attempts are on audit.events (real broker) with the token's subject.
        List<ConsumerRecord<String, AuditEvent>> audit = TopicReader.awaitRecords(Broker.broker.bootstrap(), JsonSerde.of(AuditEvent.class),
                "two approve audit events", l -> l.stream().filter(r -> r.value().action().equals("approve")).count() >= 2,
                Duration.ofSeconds(60), Topics.AUDIT_EVENTS);
        assertEquals(List.of("test-mlops approve domain dom-000000000000 refused HTTP 404", "test-admin approve domain dom-000000000000 refused HTTP 404"),
                audit.stream().map(ConsumerRecord::value).filter(e -> e.action().equals("approve"))
                        .map(e -> e.principal() + " " + e.action() + " " + e.target() + " " + e.outcome() + " " + e.detail()).toList());
        assertEquals("streams", audit.get(0).value().service());

        for (String open : List.of("/q/health", "/q/health/ready", "/q/health/live", "/q/metrics")) {
            int status = send("GET", open, null).statusCode();
            assertTrue(status == 200 || status == 503, open + " answered " + status);
        }
        assertEquals(401, send("GET", "/anything", null).statusCode(), "no path is open by omission");
    }

    /**
     * Refused requests are on audit.events (security-audit's observer, real broker): a bad token as {@code authenticate}
     * by {@code anonymous}, a token without the role as {@code authorize} by its subject; method and path, never the token.
     */
    @Test
    void refusedRequestsAreAudited() throws Exception {
        String approve = "/domains/dom-0000000a0d17/approve";
        assertEquals(401, send("GET", "/domains/dom-0000000a0d17", "Bearer " + TestTokens.signedByAnotherKey("viewer")).statusCode());
        assertEquals(403, send("POST", approve, TestTokens.bearer("viewer")).statusCode());
        List<AuditEvent> denied = TopicReader.awaitRecords(Broker.broker.bootstrap(), JsonSerde.of(AuditEvent.class), "two refusals",
                        l -> l.stream().filter(r -> r.value().target().contains("dom-0000000a0d17")).count() >= 2, Duration.ofSeconds(60),
                        Topics.AUDIT_EVENTS).stream().map(ConsumerRecord::value).filter(e -> e.target().contains("dom-0000000a0d17")).toList();
        // security-audit observes Quarkus' security events asynchronously: the two records may land in either order.
        assertEquals(List.of("streams anonymous authenticate GET /domains/dom-0000000a0d17 denied no valid bearer token",
                        "streams test-viewer authorize POST " + approve + " denied token lacks the endpoint's role"),
                denied.stream().map(e -> e.service() + " " + e.principal() + " " + e.action() + " " + e.target() + " " + e.outcome() + " "
                        + e.detail()).sorted().toList());
        assertTrue(denied.stream().allMatch(e -> e.at() != null && !e.toString().contains("eyJ")), "time set, no token");
    }

    private HttpResponse<String> send(String method, String path, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
                .method(method, HttpRequest.BodyPublishers.noBody());
        if (authorization != null) b.header("Authorization", authorization);
        return HttpClient.newHttpClient().send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Every SeriesReady on the topic once {@code until} holds (read up to the end offsets of that moment). */
    private static List<SeriesReady> awaitRecords(String what, Predicate<List<ConsumerRecord<String, SeriesReady>>> until) {
        return TopicReader.awaitRecords(Broker.broker.bootstrap(), JsonSerde.of(SeriesReady.class), what, until, Duration.ofSeconds(120),
                Topics.SERIES_READY).stream().map(ConsumerRecord::value).toList();
    }

    private static long count(List<ConsumerRecord<String, SeriesReady>> rs, String series) {
        return rs.stream().filter(r -> r.key().equals(series)).count();
    }

    /** Instance z of the series, announcing {@code imagesInAcquisition} instances (null: no count). */
    private static InstanceReceived event(String series, int z, Integer imagesInAcquisition) {
        String sop = series + "." + z;
        InstanceHeader h = new InstanceHeader("P1", null, null, "MR", "ACME", "M1", null, 3.0, "DU", null, null, null, null, null, null,
                null, null, null, new double[] {1, 1}, 3.0, null, new double[] {0, 0, z * 3.0}, new double[] {1, 0, 0, 0, 1, 0}, "1.9",
                64, 64, 16, 12, 0, 1, "MONOCHROME2", null, null, null, 1, z, imagesInAcquisition, "BRAIN", null);
        String sha = String.format("%064x", (long) sop.hashCode() & 0xffffffffL);
        return new InstanceReceived(1, InstanceReceived.eventIdFor(sop, sha), Instant.now(), new InstanceReceived.Source("DIMSE", "A", "INGEST", "x"),
                "ST", series, sop, "1.2.840.10008.5.1.4.1.1.4", "1.2.840.10008.1.2.1", h, new BlobRef(sha, "file:/b/" + sha, 1, null));
    }
}
