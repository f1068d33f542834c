package org.imagingpipeline.fhirbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.URL;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.imagingpipeline.events.AuditEvent;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.SegmentationResult;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.kafka.TopicReader;
import org.imagingpipeline.testsupport.auth.DenyByDefault;
import org.imagingpipeline.testsupport.auth.TestTokens;
import org.junit.jupiter.api.Test;

/** The service as it runs: Quarkus app, real broker, EHR stand-in; health, metrics, one result end to end. */
@QuarkusTest
@QuarkusTestResource(value = StackResource.class, restrictToAnnotatedClass = true)
class BridgeAppTest {
    @TestHTTPResource("/q/health/ready")
    URL ready;

    @TestHTTPResource("/q/metrics")
    URL metrics;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @ConfigProperty(name = "bridge.fhir.base-url")
    String fhirBase;

    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> get(String url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url)).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void resultBecomesDiagnosticReportAndIsCounted() throws Exception {
        // Ready once the validator is warm and Kafka was polled (tens of seconds on a small machine).
        HttpResponse<String> health = get(ready.toString());
        for (long end = System.nanoTime() + 180_000_000_000L; health.statusCode() != 200 && System.nanoTime() < end; ) {
            Thread.sleep(500);
            health = get(ready.toString());
        }
        assertEquals(200, health.statusCode(), health.body());
        assertTrue(health.body().contains("fhir-bridge ready"), health.body());

        String series = TestResults.series(900);
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (KafkaProducer<String, SegmentationResult> producer = new KafkaProducer<>(p, new StringSerializer(),
                JsonSerde.of(SegmentationResult.class))) {
            SegmentationResult r = TestResults.ok(series, "7", "PAT-900");
            producer.send(new ProducerRecord<>(Topics.SEGMENTATION_RESULTS, series, r)).get();
            producer.send(new ProducerRecord<>(Topics.SEGMENTATION_RESULTS, series, r)).get();
        }
        String search = fhirBase + "/DiagnosticReport?identifier="
                + URLEncoder.encode(Codes.ID_SERIES_REPORT + "|" + series, StandardCharsets.UTF_8);
        long end = System.nanoTime() + 180_000_000_000L;
        String m = "";
        while (System.nanoTime() < end) {
            m = get(metrics.toString()).body();
            if (m.contains("fhir_bridge_delivered_total 2.0")) break;
            Thread.sleep(250);
        }
        assertTrue(m.contains("fhir_bridge_delivered_total 2.0"), "two deliveries (the second a no-op)");
        assertTrue(m.contains("fhir_bridge_delivery_latency_seconds"), "latency metric exported");
        HttpResponse<String> found = get(search);
        assertEquals(200, found.statusCode());
        assertTrue(found.body().contains("\"total\":1"), found.body());
    }

    /** No API here: health and metrics are open, every other path needs a valid token (and then finds nothing). */
    @Test
    void onlyHealthAndMetricsAreOpen() throws Exception {
        DenyByDefault.assertOnlyHealthAndMetricsOpen(DenyByDefault.rootOf(ready), http);
    }

    /** A request with a bad token is on audit.events (security-audit's observer, real broker), without the token. */
    @Test
    void refusedRequestsAreAudited() throws Exception {
        String path = "/audit-check-fhir-bridge";
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(DenyByDefault.rootOf(ready) + path))
                .header("Authorization", "Bearer " + TestTokens.signedByAnotherKey("admin")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(401, r.statusCode());
        AuditEvent e = TopicReader.awaitRecords(bootstrap, JsonSerde.of(AuditEvent.class), "the refusal",
                        l -> l.stream().anyMatch(x -> x.value().target().equals("GET " + path)), Duration.ofSeconds(60), Topics.AUDIT_EVENTS)
                .stream().map(ConsumerRecord::value).filter(x -> x.target().equals("GET " + path)).findFirst().orElseThrow();
        assertEquals(List.of("fhir-bridge", "anonymous", "authenticate", "denied", "no valid bearer token"),
                List.of(e.service(), e.principal(), e.action(), e.outcome(), e.detail()));
        assertTrue(e.at() != null && !e.toString().contains("eyJ"));
    }
}
