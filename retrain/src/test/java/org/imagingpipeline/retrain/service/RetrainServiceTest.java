package org.imagingpipeline.retrain.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import java.net.URI;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.imagingpipeline.blob.LocalBlobStore;
import org.imagingpipeline.events.AuditEvent;
import org.imagingpipeline.events.DomainEvent;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.ModelVersion;
import org.imagingpipeline.events.SeriesReady;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.events.signing.ModelSigning;
import org.imagingpipeline.kafka.TopicReader;
import org.imagingpipeline.retrain.Hashing;
import org.imagingpipeline.retrain.service.jobs.JobRunner;
import org.imagingpipeline.testsupport.auth.TestTokens;
import org.junit.jupiter.api.Test;

/**
 * The service as it runs: Quarkus app, real broker, real DICOM blobs, the fake adapt command. A DRIFT_CONFIRMED
 * domain event plus series.ready events start a job that ends in CANDIDATE -> PROMOTED with the domain's routing
 * record; an adapt POST whose gate fails ends in REJECTED without routing; rollback returns the domain to the default.
 */
@QuarkusTest
@QuarkusTestResource(value = RetrainStackResource.class, restrictToAnnotatedClass = true)
class RetrainServiceTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String DRIFTED = "dom-0123456789ab";
    private static final String REJECTED = "dom-ba9876543210";

    @TestHTTPResource("/")
    URL base;

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @ConfigProperty(name = "retrain.blob-dir")
    Path blobDir;

    @ConfigProperty(name = "retrain.models-dir")
    Path modelsDir;

    @ConfigProperty(name = "retrain.source-model")
    Path sourceModel;

    @ConfigProperty(name = "retrain.expert-labels")
    Path expertLabels;

    @ConfigProperty(name = "pipeline.home")
    Path pipelineHome;

    private final HttpClient http = HttpClient.newHttpClient();

    @Test
    void driftToPromotionRejectionAndRollback() throws Exception {
        // The source model (retrain.source-model) is registered as the default at start.
        String sourceSha = Hashing.sha256Hex(sourceModel);
        JsonNode models0 = awaitJson("/models", n -> n.findValues("domainId").stream().anyMatch(d -> d.asText().equals("default")), 60);
        JsonNode def = find(models0, "default");
        assertEquals(sourceSha, def.path("serving").path("sha256").asText());
        assertEquals("source-" + sourceSha.substring(0, 12), def.path("serving").path("version").asText());
        assertEquals("PROMOTED", def.path("versions").get(0).path("status").asText());
        assertTrue(Files.exists(modelsDir.resolve(sourceSha + ".onnx")));
        awaitJson("/q/health/ready", n -> n.path("status").asText().equals("UP"), 120);

        // An expert returned corrected masks for the first series (all 3 slices) and for only 1 of the 2 slices of the
        // second: the first goes to the gate as a labelled case, the second is left out with its reason.
        for (int n = 0; n < 3; n++) {
            Files.writeString(Files.createDirectories(expertLabels.resolve("2.25.100")).resolve(String.format("slice_%03d_mask.png", n)), "mask");
        }
        Files.writeString(Files.createDirectories(expertLabels.resolve("2.25.101")).resolve("slice_000_mask.png"), "mask");
        // One series, then the drift confirmation (min-series is 2: it waits), then the second series.
        LocalBlobStore blobs = new LocalBlobStore(blobDir);
        sendSeries(TestDicom.storedSeries(blobs, DRIFTED, "2.25.100", 3, 1));
        TestBroker.send(bootstrap, Topics.DOMAIN_EVENTS, DRIFTED, driftConfirmed(DRIFTED), DomainEvent.class);
        awaitJson("/domains/" + DRIFTED, n -> n.path("series").asInt() == 1 && n.path("pendingDrift").asText().equals(DRIFTED + "#7"), 60);
        assertEquals(0, JSON.readTree(get("/jobs").body()).size(), "one series is not enough");
        sendSeries(TestDicom.storedSeries(blobs, DRIFTED, "2.25.101", 2, 1));

        JsonNode jobs = awaitJson("/jobs", n -> n.size() == 1 && n.get(0).path("status").asText().equals("SUCCEEDED"), 120);
        JsonNode job = JSON.readTree(get("/jobs/" + jobs.get(0).path("id").asText()).body());
        assertEquals("drift:" + DRIFTED + "#7", job.path("trigger").asText());
        assertEquals("auto", job.path("method").asText(), "a drift-triggered job runs retrain.auto.method");
        assertEquals(4, job.path("progress").path("step").asInt());
        assertEquals(4, job.path("progress").path("total").asInt());
        assertEquals("auto optimise step 4/4 loss 0.5 entropy 0.31 ETA 0m00s", job.path("progress").path("line").asText(),
                "the job's progress is the command's last JSON progress line, in words");
        assertEquals(5, job.path("slices").asInt());
        assertEquals(JobRunner.seriesHash(List.of("2.25.100", "2.25.101")), job.path("seriesHash").asText());
        assertTrue(job.path("evidence").path("passed").asBoolean());
        assertEquals(List.of("2.25.100"), JSON.convertValue(job.path("expertLabelledSeries"), List.class));
        assertEquals(1, job.path("evidence").path("labelled_target_series").asInt(), "the labelled series reached the gate");
        assertEquals("2.25.101", job.path("skipped").get(0).path("seriesInstanceUid").asText());
        assertTrue(job.path("skipped").get(0).path("reason").asText().contains("expert labels incomplete"), job.toString());
        assertTrue(job.path("timings").has("adaptSeconds"), job.toString());
        assertEquals(sourceSha, job.path("model").path("parentSha256").asText());
        String sha = job.path("model").path("sha256").asText();
        String version = job.path("model").path("version").asText();
        assertTrue(Files.exists(modelsDir.resolve(sha + ".onnx")));
        assertTrue(Files.readString(modelsDir.resolve(sha + ".card.json")).contains("\"parent_sha256\":\"" + sourceSha + "\""),
                "the adapted model's card is kept beside it");

        List<Map.Entry<String, ModelVersion>> records = TestBroker.registry(bootstrap);
        List<String> drifted = records.stream().filter(e -> e.getValue().domainId().equals(DRIFTED))
                .map(e -> e.getKey() + " " + e.getValue().status()).toList();
        // auto's normaliser candidate failed the gate: kept and on record as REJECTED with its evidence, before the chosen one.
        assertEquals(1, job.path("rejectedVersions").size(), job.toString());
        String rejectedVersion = job.path("rejectedVersions").get(0).asText();
        assertTrue(rejectedVersion.startsWith(DRIFTED + "-normaliser-"), rejectedVersion);
        assertEquals(List.of(DRIFTED + "@" + rejectedVersion + " CANDIDATE", DRIFTED + "@" + rejectedVersion + " REJECTED",
                DRIFTED + "@" + version + " CANDIDATE", DRIFTED + "@" + version + " PROMOTED", DRIFTED + " PROMOTED"), drifted);
        ModelVersion rejectedRecord = records.stream().filter(e -> e.getKey().equals(DRIFTED + "@" + rejectedVersion)).map(Map.Entry::getValue)
                .reduce((a, b) -> b).orElseThrow();
        assertEquals("normaliser", rejectedRecord.method());
        assertEquals("rejected: gate failed: fail: 0 of the 3 target proxies better (needs 2, none worse) (auto chose adabn)",
                rejectedRecord.evidence().get("decision"));
        assertTrue(Files.exists(modelsDir.resolve(rejectedRecord.sha256() + ".onnx")), "the rejected candidate's file is kept");
        ModelVersion routing = records.stream().filter(e -> e.getKey().equals(DRIFTED)).map(Map.Entry::getValue).findFirst().orElseThrow();
        assertEquals(sha, routing.serving().sha256());
        // Every record retrain wrote is signed with the key it created under pipeline.home/secrets (0600).
        Path secrets = pipelineHome.resolve("secrets");
        assertEquals("rw-------", java.nio.file.attribute.PosixFilePermissions.toString(
                Files.getPosixFilePermissions(secrets.resolve(ModelSigning.PRIVATE_KEY_FILE))));
        ModelSigning.Verifier verifier = ModelSigning.Verifier.of(List.of(secrets.resolve(ModelSigning.PUBLIC_KEY_FILE)));
        records.stream().filter(e -> e.getValue().domainId().equals(DRIFTED)).forEach(e ->
                assertEquals(ModelSigning.Verdict.VALID, verifier.verify(e.getKey(), e.getValue()), "signed: " + e.getKey()));
        assertEquals(modelsDir.resolve(sha + ".onnx").toUri().toString(), routing.serving().uri());
        assertEquals(sourceSha, routing.parentSha256());
        assertEquals(2, routing.seriesCount());
        assertEquals("adabn", routing.method(), "the registry records the method auto chose");
        assertEquals("promoted: gate passed", routing.evidence().get("decision"));
        assertEquals(0.795, ((Number) routing.evidence().get("source_dice_after")).doubleValue(), 1e-9);

        // The promotion's replay: the domain's two series from before it are sent again on imaging.series.ready (header
        // pipeline.replay) for inference to segment with the new model; the owed replay is then forgotten.
        String promotion = "promotion of domain " + DRIFTED + " to version " + version;
        List<String> replayed = awaitReplayed(promotion, 2, 60);
        assertEquals(List.of("2.25.100", "2.25.101"), replayed.stream().sorted().toList());
        assertTrue(awaitNoFile(pipelineHome.resolve("retrain/replays"), 30), "the completed replay is no longer pending");
        // The replay a previous process owed (RetrainStackResource) ran at start.
        assertEquals(List.of(RetrainStackResource.OWED_SERIES), awaitReplayed("promotion of domain " + RetrainStackResource.OWED_DOMAIN
                + " to version " + RetrainStackResource.OWED_VERSION, 1, 30));

        // ML ops: an entropy job on another domain (one series of it is compressed: skipped with its reason; the other two
        // meet retrain.min-series).
        sendSeries(TestDicom.storedSeries(blobs, REJECTED, "2.25.200", 2, 1));
        sendSeries(TestDicom.storedSeries(blobs, REJECTED, "2.25.202", 2, 1));
        SeriesReady compressed = TestDicom.storedSeries(blobs, REJECTED, "2.25.201", 1, 1);
        SeriesReady.Instance i = compressed.instances().get(0);
        sendSeries(TestDicom.seriesReady(REJECTED, "2.25.201", 1, List.of(new SeriesReady.Instance(i.sopInstanceUid(),
                i.sopClassUid(), 1, 0.0, "1.2.840.10008.1.2.4.50", i.blob()))));
        awaitJson("/domains/" + REJECTED, n -> n.path("series").asInt() == 3, 60);
        HttpResponse<String> accepted = post("/domains/" + REJECTED + "/adapt", "{\"method\":\"entropy\",\"maxMinutes\":0.5,\"seed\":3}");
        assertEquals(202, accepted.statusCode(), accepted.body());
        String rejectedId = JSON.readTree(accepted.body()).path("id").asText();
        assertTrue(accepted.headers().firstValue("Location").orElse("").endsWith("/jobs/" + rejectedId));
        JsonNode rejected = awaitJson("/jobs/" + rejectedId, n -> n.path("status").asText().equals("REJECTED"), 120);
        assertTrue(rejected.path("decision").asText().startsWith("rejected: gate failed: target entropy did not improve"));
        assertEquals("2.25.201", rejected.path("skipped").get(0).path("seriesInstanceUid").asText());
        assertTrue(rejected.path("skipped").get(0).path("reason").asText().contains("compressed"));
        assertEquals(0.5, rejected.path("options").path("maxMinutes").asDouble());
        List<Map.Entry<String, ModelVersion>> after = TestBroker.registry(bootstrap);
        assertEquals(List.of("CANDIDATE", "REJECTED"), after.stream().filter(e -> e.getValue().domainId().equals(REJECTED))
                .map(e -> e.getValue().status().name()).toList());
        assertFalse(after.stream().anyMatch(e -> e.getKey().equals(REJECTED)), "no routing record for a rejected candidate");

        // One job at a time: while a long job runs, the next waits QUEUED; both can be cancelled.
        String longId = JSON.readTree(post("/domains/" + REJECTED + "/adapt", "{\"method\":\"adabn\",\"seed\":99}").body()).path("id").asText();
        awaitJson("/jobs/" + longId, n -> n.path("phase").asText().equals("ADAPTING") && n.path("progress").path("step").asInt() == 1, 60);
        String waitingId = JSON.readTree(post("/domains/" + REJECTED + "/adapt", "{\"method\":\"adabn\"}").body()).path("id").asText();
        assertEquals("QUEUED", JSON.readTree(get("/jobs/" + waitingId).body()).path("status").asText());
        // Read after the waiting job's state: the long job was running all along, so QUEUED was the one-at-a-time rule.
        assertEquals("ADAPTING", JSON.readTree(get("/jobs/" + longId).body()).path("phase").asText());
        HttpResponse<String> cancelWaiting = post("/jobs/" + waitingId + "/cancel", "");
        assertEquals(200, cancelWaiting.statusCode(), cancelWaiting.body());
        assertEquals("FAILED", JSON.readTree(cancelWaiting.body()).path("status").asText());
        assertEquals(202, post("/jobs/" + longId + "/cancel", "").statusCode());
        JsonNode cancelled = awaitJson("/jobs/" + longId, n -> n.path("status").asText().equals("FAILED"), 30);
        assertEquals("cancelled by ML ops", cancelled.path("error").asText());
        assertEquals(409, post("/jobs/" + longId + "/cancel", "").statusCode());

        // The registry view.
        JsonNode models = JSON.readTree(get("/models").body());
        JsonNode d = find(models, DRIFTED);
        assertEquals(DRIFTED, d.path("servedBy").asText());
        assertEquals(sha, d.path("serving").path("sha256").asText());
        // Oldest first: auto's rejected normaliser candidate, then the promoted adabn one.
        assertEquals("REJECTED", d.path("versions").get(0).path("status").asText());
        assertEquals("PROMOTED", d.path("versions").get(1).path("status").asText());
        assertEquals("default", find(models, REJECTED).path("servedBy").asText());
        assertEquals("REJECTED", find(models, REJECTED).path("versions").get(0).path("status").asText());

        // Rollback: back to the default model; a second one has nothing to roll back.
        HttpResponse<String> rb = post("/domains/" + DRIFTED + "/rollback", "{\"reason\":\"worse on review\"}");
        assertEquals(200, rb.statusCode(), rb.body());
        assertEquals("default", JSON.readTree(rb.body()).path("servedBy").asText());
        ModelVersion back = TestBroker.registry(bootstrap).stream().filter(e -> e.getKey().equals(DRIFTED)).map(Map.Entry::getValue)
                .reduce((a, b) -> b).orElseThrow();
        assertEquals(ModelVersion.Status.ROLLED_BACK, back.status());
        assertNull(back.serving());
        assertEquals(409, post("/domains/" + DRIFTED + "/rollback", "{}").statusCode());

        String metrics = get("/q/metrics").body();
        assertTrue(metrics.contains("retrain_promoted_versions_total{domain=\"" + DRIFTED + "\"} 1.0"), metrics);
        assertTrue(metrics.contains("retrain_job_duration_seconds_count{method=\"auto\",outcome=\"SUCCEEDED\"} 1"), metrics);
        assertTrue(metrics.contains("retrain_gate_outcomes_total{method=\"entropy\",outcome=\"failed\"} 1.0"), metrics);
        assertTrue(metrics.contains("retrain_jobs_queued 0.0"), metrics);
    }

    @Test
    void badRequestsGetClearErrors() throws Exception {
        awaitJson("/q/health/ready", n -> n.path("status").asText().equals("UP"), 120);
        HttpResponse<String> badMethod = post("/domains/dom-000000000001/adapt", "{\"method\":\"dropout\"}");
        assertEquals(400, badMethod.statusCode());
        assertTrue(badMethod.body().contains("method must be one of [auto, adabn, normaliser, standardise, entropy, adversarial, finetune]"),
                badMethod.body());
        assertEquals(400, post("/domains/dom-000000000001/adapt", "{}").statusCode());
        assertEquals(400, post("/domains/dom-000000000001/adapt", "{\"method\":\"adabn\",\"maxMinutes\":-1}").statusCode());
        assertEquals(400, post("/domains/..%2Fetc/adapt", "{\"method\":\"adabn\"}").statusCode() / 100 * 100);
        HttpResponse<String> noSeries = post("/domains/dom-000000000001/adapt", "{\"method\":\"adabn\"}");
        assertEquals(409, noSeries.statusCode());
        assertTrue(noSeries.body().contains("no series of domain dom-000000000001"), noSeries.body());
        HttpResponse<String> missing = get("/jobs/job-does-not-exist");
        assertEquals(404, missing.statusCode());
        assertNotNull(JSON.readTree(missing.body()).path("error").asText(null));
        assertEquals(409, post("/domains/dom-000000000002/rollback", "").statusCode());
    }

    @Test
    void everyEndpointNeedsATokenWithItsRole() throws Exception {
        awaitJson("/q/health/ready", n -> n.path("status").asText().equals("UP"), 120);
        // What each endpoint answers past authorisation here (no series, no such job, nothing to roll back).
        Map<String, Integer> reads = Map.of("/jobs", 200, "/models", 200, "/jobs/job-does-not-exist", 404, "/domains/dom-000000000003", 200);
        Map<String, Integer> changes = Map.of("/domains/dom-000000000003/adapt", 409, "/jobs/job-does-not-exist/cancel", 404,
                "/domains/dom-000000000003/rollback", 409);
        List<String> bad = TestTokens.badTokens("admin");
        for (Map.Entry<String, Integer> e : reads.entrySet()) {
            String path = e.getKey();
            assertEquals(401, send("GET", path, null, null).statusCode(), path + " without a token");
            for (String t : bad) assertEquals(401, send("GET", path, null, "Bearer " + t).statusCode(), path + " with bad token " + bad.indexOf(t));
            for (String role : List.of("mlops", "scanner")) assertEquals(403, send("GET", path, null, TestTokens.bearer(role)).statusCode(), path + " " + role);
            for (String role : List.of("viewer", "admin")) assertEquals(e.getValue(), send("GET", path, null, TestTokens.bearer(role)).statusCode(), path + " " + role);
        }
        String body = "{\"method\":\"adabn\"}";
        for (Map.Entry<String, Integer> e : changes.entrySet()) {
            String path = e.getKey();
            assertEquals(401, send("POST", path, body, null).statusCode(), path + " without a token");
            for (String t : bad) assertEquals(401, send("POST", path, body, "Bearer " + t).statusCode(), path + " with bad token " + bad.indexOf(t));
            for (String role : List.of("viewer", "scanner")) assertEquals(403, send("POST", path, body, TestTokens.bearer(role)).statusCode(), path + " " + role);
            for (String role : List.of("mlops", "admin")) assertEquals(e.getValue(), send("POST", path, body, TestTokens.bearer(role)).statusCode(), path + " " + role);
        }
        for (String open : List.of("/q/health", "/q/health/ready", "/q/health/live", "/q/metrics")) {
            assertEquals(200, send("GET", open, null, null).statusCode(), open + " stays open");
        }
        assertEquals(401, send("GET", "/anything", null, null).statusCode(), "no path is open by omission");
    }

    /**
     * The audit trail with the real broker: an ML-ops POST is on audit.events with the token's subject, a request without
     * a token and one without the role are recorded as denied; GET /audit is for admin only and returns them.
     */
    @Test
    void stateChangesAndDeniedRequestsAreAudited() throws Exception {
        awaitJson("/q/health/ready", n -> n.path("status").asText().equals("UP"), 120);
        String domain = "dom-00000000a0d1";
        assertEquals(409, send("POST", "/domains/" + domain + "/rollback", "{}", TestTokens.bearer("mlops")).statusCode());
        assertEquals(401, send("POST", "/domains/" + domain + "/rollback", "{}", null).statusCode());
        assertEquals(403, send("GET", "/audit", null, TestTokens.bearer("viewer")).statusCode(), "viewer may not read the audit");
        assertEquals(403, send("GET", "/audit", null, TestTokens.bearer("mlops")).statusCode(), "mlops may not read the audit");
        assertEquals(401, send("GET", "/audit", null, null).statusCode());

        Predicate<AuditEvent> rollback = e -> e.action().equals("rollback") && ("domain " + domain).equals(e.target());
        List<org.apache.kafka.clients.consumer.ConsumerRecord<String, AuditEvent>> onTopic = TopicReader.awaitRecords(bootstrap,
                JsonSerde.of(AuditEvent.class), "the rollback's audit event", l -> l.stream().anyMatch(r -> rollback.test(r.value())),
                java.time.Duration.ofSeconds(60), Topics.AUDIT_EVENTS);
        AuditEvent e = onTopic.stream().map(r -> r.value()).filter(rollback).findFirst().orElseThrow();
        assertEquals("test-mlops", e.principal(), "the token's subject");
        assertEquals("retrain", e.service());
        assertEquals("refused", e.outcome());
        assertEquals("HTTP 409", e.detail());
        assertTrue(e.at().isAfter(Instant.now().minusSeconds(300)), e.toString());

        Predicate<JsonNode> complete = a -> {
            boolean posted = false, anonymous = false, viewer = false;
            for (JsonNode n : a) {
                posted |= n.path("eventId").asText().equals(e.eventId());
                anonymous |= n.path("action").asText().equals("authenticate") && n.path("principal").asText().equals("anonymous")
                        && n.path("target").asText().equals("POST /domains/" + domain + "/rollback") && n.path("outcome").asText().equals("denied");
                viewer |= n.path("action").asText().equals("authorize") && n.path("principal").asText().equals("test-viewer")
                        && n.path("target").asText().equals("GET /audit") && n.path("outcome").asText().equals("denied");
            }
            return posted && anonymous && viewer;
        };
        long end = System.nanoTime() + 60_000_000_000L;
        HttpResponse<String> r = send("GET", "/audit?limit=1000", null, TestTokens.bearer("admin"));
        while (!(r.statusCode() == 200 && complete.test(JSON.readTree(r.body()))) && System.nanoTime() < end) {
            Thread.sleep(500);
            r = send("GET", "/audit?limit=1000", null, TestTokens.bearer("admin"));
        }
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(complete.test(JSON.readTree(r.body())), r.body());
        assertFalse(r.body().contains("eyJ"), "no token in the audit trail");
        assertEquals(400, send("GET", "/audit?limit=0", null, TestTokens.bearer("admin")).statusCode());
    }

    private static JsonNode find(JsonNode models, String domain) {
        for (JsonNode m : models) if (m.path("domainId").asText().equals(domain)) return m;
        throw new AssertionError("no " + domain + " in " + models);
    }

    /** Keys of the series.ready records whose replay header is {@code promotion}, once there are {@code n} (or the timeout). */
    private List<String> awaitReplayed(String promotion, int n, int seconds) throws Exception {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        List<String> keys = List.of();
        while (System.nanoTime() < deadline) {
            keys = new java.util.ArrayList<>();
            java.util.Properties p = new java.util.Properties();
            p.put("bootstrap.servers", bootstrap);
            try (org.apache.kafka.clients.consumer.KafkaConsumer<String, byte[]> c = new org.apache.kafka.clients.consumer.KafkaConsumer<>(p,
                    new org.apache.kafka.common.serialization.StringDeserializer(), new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
                List<org.apache.kafka.common.TopicPartition> parts = c.partitionsFor(Topics.SERIES_READY).stream()
                        .map(i -> new org.apache.kafka.common.TopicPartition(i.topic(), i.partition())).toList();
                c.assign(parts);
                c.seekToBeginning(parts);
                Map<org.apache.kafka.common.TopicPartition, Long> end = c.endOffsets(parts);
                while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                    for (var r : c.poll(java.time.Duration.ofMillis(500))) {
                        var h = r.headers().lastHeader(SeriesReady.REPLAY_HEADER);
                        if (h != null && promotion.equals(new String(h.value(), java.nio.charset.StandardCharsets.UTF_8))) keys.add(r.key());
                    }
                }
            }
            if (keys.size() >= n) return keys;
            Thread.sleep(500);
        }
        return keys;
    }

    /** True once {@code dir} holds no pending replay file. */
    private static boolean awaitNoFile(Path dir, int seconds) throws Exception {
        long deadline = System.nanoTime() + seconds * 1_000_000_000L;
        while (System.nanoTime() < deadline) {
            try (var files = Files.list(dir)) {
                if (files.noneMatch(f -> f.getFileName().toString().endsWith(".json"))) return true;
            }
            Thread.sleep(200);
        }
        return false;
    }

    private void sendSeries(SeriesReady s) throws Exception {
        TestBroker.send(bootstrap, Topics.SERIES_READY, s.seriesInstanceUid(), s, SeriesReady.class);
    }

    private static DomainEvent driftConfirmed(String domain) {
        Instant now = Instant.now();
        return new DomainEvent(DomainEvent.SCHEMA_VERSION, DomainEvent.eventIdFor(domain, 7), 7, domain, DomainEvent.Status.CANDIDATE,
                DomainEvent.Status.DRIFT_CONFIRMED, "MMD p=0.001 vs every KNOWN domain after 3 series", Map.of("modality", "MR"), 3,
                now, now, 4.2, new DomainEvent.Evidence("kernel-mmd-permutation", 0.3, 0.001, 3, 0.01, "dom-known", Map.of()),
                null, List.of("2.25.100"), now);
    }

    private JsonNode awaitJson(String path, Predicate<JsonNode> done, int seconds) throws Exception {
        long end = System.nanoTime() + seconds * 1_000_000_000L;
        String last = "";
        while (System.nanoTime() < end) {
            HttpResponse<String> r = get(path);
            last = r.statusCode() + " " + r.body();
            if (r.body().startsWith("{") || r.body().startsWith("[")) {
                JsonNode n = JSON.readTree(r.body());
                if (done.test(n)) return n;
            }
            Thread.sleep(250);
        }
        throw new AssertionError(path + " did not reach the expected state in " + seconds + " s; last: " + last);
    }

    /** GET as a viewer. */
    private HttpResponse<String> get(String path) throws Exception {
        return send("GET", path, null, TestTokens.bearer("viewer"));
    }

    /** POST as ML ops. */
    private HttpResponse<String> post(String path, String body) throws Exception {
        return send("POST", path, body, TestTokens.bearer("mlops"));
    }

    private HttpResponse<String> send(String method, String path, String body, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base.toString() + path.substring(1)))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) b.header("Content-Type", "application/json");
        if (authorization != null) b.header("Authorization", authorization);
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }
}
