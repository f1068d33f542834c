package org.imagingpipeline.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.imagingpipeline.blob.LocalBlobStore;
import org.imagingpipeline.events.AuditEvent;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.ModelVersion;
import org.imagingpipeline.events.SegmentationResult;
import org.imagingpipeline.events.SeriesReady;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.kafka.TopicReader;
import org.imagingpipeline.testsupport.BrokerTestResource;
import org.imagingpipeline.testsupport.auth.DenyByDefault;
import org.imagingpipeline.testsupport.auth.TestTokens;
import org.junit.jupiter.api.Test;

/**
 * The service as it runs (Quarkus app, real broker): CUDA requested but absent -> CPU; the source model registered
 * at start; one series -> one OK result; health and metrics say so.
 */
@QuarkusTest
@QuarkusTestResource(value = AppStackResource.class, restrictToAnnotatedClass = true)
class InferenceAppTest {
    @TestHTTPResource("/q/health/ready")
    URL ready;

    @TestHTTPResource("/q/metrics")
    URL metrics;

    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> get(URL url) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(url.toString())).build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void seriesBecomesResultWithTheSourceModelOnCpu() throws Exception {
        HttpResponse<String> health = get(ready);
        for (long end = System.nanoTime() + 180_000_000_000L; health.statusCode() != 200 && System.nanoTime() < end; ) {
            Thread.sleep(250);
            health = get(ready);
        }
        assertEquals(200, health.statusCode(), health.body());
        assertTrue(health.body().contains("\"defaultModel\": true"), health.body());
        assertTrue(health.body().contains("\"provider\": \"cpu\""), health.body());

        LocalBlobStore blobs = new LocalBlobStore(AppStackResource.home.resolve("blobs"), false);
        SegmentationResult result = segment(blobs, "601", "dom-app");
        assertTrue(result != null, "no result within 180 s");
        assertEquals(SegmentationResult.Status.OK, result.status(), result.error());
        assertEquals("source-" + AppStackResource.sourceSha.substring(0, 8), result.model().version());
        assertEquals(256, result.lesion().volumeVoxels());

        String m = get(metrics).body();
        assertTrue(m.contains("inference_series_total{status=\"ok\"} 1.0"), m);
        assertTrue(m.contains("inference_slices_total 3.0"), m);
        assertTrue(m.contains("inference_provider{provider=\"cpu\"} 1.0"), m);
        assertTrue(m.contains("inference_model_serving{domain=\"default\",version=\"source-"), m);
        assertTrue(m.contains("inference_stage_seconds_count{stage=\"inference\"} 1.0"), m);

        // The key ./pipeline up (here: the test resource) made under pipeline.home/secrets is the one the service trusts by
        // default (inference.model-signing.public-keys): a record signed with it is served, an unsigned one is refused.
        Path second = AppStackResource.home.resolve("models/second.onnx");
        String secondSha = TinyModels.write(second, 1f, -30f, 16);
        ModelVersion.Serving serving = new ModelVersion.Serving("dom-app-v2", second.toUri().toString(), secondSha);
        ModelVersion promoted = new ModelVersion(1, ModelVersion.eventIdFor("dom-app", "dom-app-v2", ModelVersion.Status.PROMOTED),
                "dom-app", "dom-app-v2", "tiny", serving.uri(), secondSha, ModelVersion.Status.PROMOTED, "adabn", null, null, 1, null,
                serving, Instant.now());
        ModelVersion.Serving forged = new ModelVersion.Serving("dom-app-forged", serving.uri(), secondSha);
        send(Topics.MODEL_VERSIONS, "dom-app2", new ModelVersion(1, "x", "dom-app2", "dom-app-forged", "tiny", forged.uri(), secondSha,
                ModelVersion.Status.PROMOTED, "adabn", null, null, 1, null, forged, Instant.now()), ModelVersion.class);
        send(Topics.MODEL_VERSIONS, "dom-app", BrokerTestResource.modelSigner().sign("dom-app", promoted), ModelVersion.class);
        assertEquals("dom-app-v2", segment(blobs, "602", "dom-app").model().version(), "signed with the stack's key: served");
        assertEquals("source-" + AppStackResource.sourceSha.substring(0, 8), segment(blobs, "603", "dom-app2").model().version(),
                "unsigned: refused, the default serves");
        m = get(metrics).body();
        assertTrue(m.contains("inference_model_refused_total{reason=\"unsigned\"} 1.0"), m);
        assertTrue(m.contains("inference_model_serving{domain=\"dom-app\",version=\"dom-app-v2\"} 1.0"), m);
    }

    private static <T> void send(String topic, String key, T value, Class<T> type) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, AppStackResource.broker.bootstrap());
        try (KafkaProducer<String, T> producer = new KafkaProducer<>(p, new StringSerializer(), JsonSerde.of(type))) {
            producer.send(new ProducerRecord<>(topic, key, value)).get();
        }
    }

    /** Sends a synthetic series of the domain and returns its result. */
    private static SegmentationResult segment(LocalBlobStore blobs, String id, String domain) throws Exception {
        SeriesReady s = SyntheticSeries.write(blobs, id, domain, 3, 1);
        send(Topics.SERIES_READY, s.seriesInstanceUid(), s, SeriesReady.class);
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, AppStackResource.broker.bootstrap());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "app-test-" + UUID.randomUUID());
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (KafkaConsumer<String, SegmentationResult> consumer = new KafkaConsumer<>(c, new StringDeserializer(),
                JsonSerde.of(SegmentationResult.class))) {
            consumer.subscribe(List.of(Topics.SEGMENTATION_RESULTS));
            long end = System.nanoTime() + 180_000_000_000L;
            while (System.nanoTime() < end) {
                for (ConsumerRecord<String, SegmentationResult> r : consumer.poll(Duration.ofMillis(300))) {
                    if (r.key().equals(s.seriesInstanceUid())) return r.value();
                }
            }
        }
        throw new AssertionError("no result for " + id + " within 180 s");
    }

    /** A request with a bad token is on audit.events (security-audit's observer, real broker), without the token. */
    @Test
    void refusedRequestsAreAudited() throws Exception {
        String path = "/audit-check-inference";
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(DenyByDefault.rootOf(ready) + path))
                .header("Authorization", "Bearer " + TestTokens.expired("viewer")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(401, r.statusCode());
        AuditEvent e = TopicReader.awaitRecords(AppStackResource.broker.bootstrap(), JsonSerde.of(AuditEvent.class), "the refusal",
                        l -> l.stream().anyMatch(x -> x.value().target().equals("GET " + path)), Duration.ofSeconds(60), Topics.AUDIT_EVENTS)
                .stream().map(ConsumerRecord::value).filter(x -> x.target().equals("GET " + path)).findFirst().orElseThrow();
        assertEquals(List.of("inference", "anonymous", "authenticate", "denied", "no valid bearer token"),
                List.of(e.service(), e.principal(), e.action(), e.outcome(), e.detail()));
        assertTrue(e.at() != null && !e.toString().contains("eyJ"));
    }

    /** No API here: health and metrics are open, every other path needs a valid token (and then finds nothing). */
    @Test
    void onlyHealthAndMetricsAreOpen() throws Exception {
        DenyByDefault.assertOnlyHealthAndMetricsOpen(DenyByDefault.rootOf(ready), http);
    }
}
