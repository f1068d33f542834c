package org.imagingpipeline.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.pixelmed.dicom.Attribute;
import com.pixelmed.dicom.AttributeList;
import com.pixelmed.dicom.SequenceAttribute;
import com.pixelmed.dicom.TagFromName;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.imagingpipeline.blob.LocalBlobStore;
import org.imagingpipeline.testsupport.BrokerProcess;
import org.imagingpipeline.events.AuditEvent;
import org.imagingpipeline.events.BlobRef;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.ModelVersion;
import org.imagingpipeline.events.ReplayPredecessor;
import org.imagingpipeline.events.SegmentationResult;
import org.imagingpipeline.events.SeriesReady;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.events.signing.ModelSigning;
import org.imagingpipeline.kafka.AuditLog;
import org.imagingpipeline.kafka.KafkaClients;
import org.imagingpipeline.kafka.TopicReader;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The loop against a real broker: the source model is registered at start and serves every domain; a second model
 * promoted for one domain serves that domain's next series only; a rollback reverts; a corrupt or mismatching model is
 * refused while the service goes on; forged, unsigned and tampered registry records are refused (signed models,
 * docs/security.md); failures give ERROR results plus DLQ records; an older revision is skipped.
 *
 * <p>Models: rescaled intensities are 40 (background) and 200 (a 16x16 square). The source model is foreground
 * above 150 (the square: 256 voxels a lesion slice); the second above 30 (everything: 1024 voxels a slice). The
 * series of the routing test have 3 slices, 2 of them with the square.
 */
class InferenceBrokerTest {
    static final String GROUP = "inference-test";
    @TempDir
    static Path dir;
    static BrokerProcess broker;
    static LocalBlobStore blobs;
    static InferenceLoop loop;
    static ModelSessions sessions;
    static SimpleMeterRegistry meters = new SimpleMeterRegistry();
    static KafkaProducer<String, byte[]> producer;
    static KafkaConsumer<String, byte[]> results;
    static final List<ConsumerRecord<String, byte[]>> seen = new ArrayList<>();
    static String sourceVersion;
    static Path secondModel;
    static String secondSha;
    static Path sourceModel;
    static String sourceSha;
    /** Retrain's key as far as this test is concerned: the router trusts its public key. */
    static final ModelSigning.Signer retrain = ModelSigning.generate();

    @BeforeAll
    static void start() throws Exception {
        broker = BrokerProcess.startWithTopics(dir.resolve("kafka"));
        blobs = new LocalBlobStore(dir.resolve("blobs"), false);
        Path source = dir.resolve("models/source.onnx");
        sourceModel = source;
        sourceSha = TinyModels.write(source, 1f, -150f, 16);
        sourceVersion = "source-" + sourceSha.substring(0, 8);
        secondModel = dir.resolve("models/dom-b-v2.onnx");
        secondSha = TinyModels.write(secondModel, 1f, -30f, 16);
        InferenceMetrics metrics = new InferenceMetrics(meters);
        sessions = new ModelSessions("cpu", 1, 128, 0);
        ModelRouter router = new ModelRouter(KafkaClients.of(broker.bootstrap()), Topics.MODEL_VERSIONS, sessions,
                new AuditedRouting(metrics, new AuditLog(KafkaClients.of(broker.bootstrap()), "inference")),
                new ModelSigning.Verifier(List.of(retrain.publicKey())));
        SeriesProcessor processor = new SeriesProcessor(new SeriesLoader(blobs), router,
                new SeriesSegmenter(8, new ComponentCleanup(0)), blobs, null, metrics);
        loop = new InferenceLoop(new InferenceLoop.Settings(KafkaClients.of(broker.bootstrap()), GROUP,
                Topics.SERIES_READY, Topics.SEGMENTATION_RESULTS, Topics.SEGMENTATION_DLQ, Topics.MODEL_VERSIONS, source,
                "tiny", Duration.ofSeconds(60)), processor, router, metrics).start();
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "test-" + UUID.randomUUID());
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        results = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
        results.subscribe(List.of(Topics.SEGMENTATION_RESULTS, Topics.SEGMENTATION_DLQ));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (!loop.ready() && System.nanoTime() < deadline) Thread.sleep(100);
        assertTrue(loop.ready(), "the loop did not read the registry within 180 s");
    }

    @AfterAll
    static void stop() throws Exception {
        if (loop != null) loop.close();
        if (results != null) results.close();
        if (producer != null) producer.close();
        if (sessions != null) sessions.close();
        if (broker != null) broker.stop();
    }

    @Test
    void routingPromotionRollbackAndRefusals() throws Exception {
        ModelVersion registered = registryRecord(ModelVersion.DEFAULT_DOMAIN);
        assertNotNull(registered, "the source model was registered on the registry topic");
        assertEquals(sourceVersion, registered.serving().version());
        assertEquals(ModelVersion.Status.PROMOTED, registered.status());

        SegmentationResult a1 = segment("201", "dom-a");
        assertEquals(sourceVersion, a1.model().version());
        assertEquals(2 * 256, a1.lesion().volumeVoxels());

        promote("dom-b", "dom-b-v2", secondModel, secondSha);
        SegmentationResult b1 = segment("202", "dom-b");
        assertEquals("dom-b-v2", b1.model().version());
        assertEquals(secondSha, b1.model().sha256());
        assertEquals(3 * 1024, b1.lesion().volumeVoxels());
        SegmentationResult a2 = segment("203", "dom-a");
        assertEquals(sourceVersion, a2.model().version(), "another domain keeps the default model");

        publish("dom-b", new ModelVersion(1, ModelVersion.eventIdFor("dom-b", "dom-b-v2", ModelVersion.Status.ROLLED_BACK),
                "dom-b", "dom-b-v2", "tiny", secondModel.toUri().toString(), secondSha, ModelVersion.Status.ROLLED_BACK,
                "adabn", null, null, null, Map.of("decision", "rolled back by test"), null, Instant.now()));
        SegmentationResult b2 = segment("204", "dom-b");
        assertEquals(sourceVersion, b2.model().version(), "after the rollback the domain is served by the default");

        Path corrupt = dir.resolve("models/corrupt.onnx");
        Files.write(corrupt, "truncated model bytes".getBytes(StandardCharsets.UTF_8));
        promote("dom-b", "dom-b-v3", secondModel, secondSha);
        promote("dom-b", "dom-b-corrupt", corrupt, ModelSessions.sha256(Files.readAllBytes(corrupt)));
        SegmentationResult b3 = segment("205", "dom-b");
        assertEquals("dom-b-v3", b3.model().version(), "an unloadable model is refused; the previous version serves");
        promote("dom-a", "dom-a-tampered", secondModel, "ab".repeat(32));
        SegmentationResult a3 = segment("206", "dom-a");
        assertEquals(sourceVersion, a3.model().version(), "a sha256 mismatch is refused");
        assertEquals(SegmentationResult.Status.OK, a3.status());
        assertEquals(1.0, meters.get("inference.model.refused").tag("reason", "unloadable").counter().count());
        assertEquals(1.0, meters.get("inference.model.refused").tag("reason", "sha256_mismatch").counter().count());

        // The source model inference registered itself is trusted unsigned (its own configuration), no other default is.
        double unsignedBefore = refused("unsigned");
        publishUnsigned(ModelVersion.DEFAULT_DOMAIN, promotion(ModelVersion.DEFAULT_DOMAIN, "default-forged", secondModel, secondSha));
        SegmentationResult a4 = segment("207", "dom-a");
        assertEquals(sourceVersion, a4.model().version(), "an unsigned default record for another model is refused");
        assertEquals(unsignedBefore + 1, refused("unsigned"));
        assertTrue(loop.isAlive());
    }

    /**
     * A forged promotion, as anyone who can write the topic could produce it (the test's producer has no key of
     * retrain's), is refused with the real broker: unsigned, signed by another key, a signed record with another
     * model's URI and sha256 under its signature, a signed history record replayed under the routing key (it would
     * send the domain back to the default), a tombstone. The domain keeps the version retrain signed. Then a genuine,
     * validly signed promotion replayed after a newer one is refused too (signed time never goes back per domain).
     */
    @Test
    void forgedPromotionsAreRefusedAndThePreviousModelKeepsServing() throws Exception {
        promote("dom-f", "dom-f-v1", secondModel, secondSha);
        assertEquals("dom-f-v1", segment("501", "dom-f").model().version());
        double unsigned = refused("unsigned");
        double unknownKey = refused("unknown_key");
        double badSignature = refused("bad_signature");

        ModelVersion evil = promotion("dom-f", "dom-f-evil", sourceModel, sourceSha);
        publishUnsigned("dom-f", evil);
        publishUnsigned("dom-f", ModelSigning.generate().sign("dom-f", evil));
        ModelVersion genuine = retrain.sign("dom-f", promotion("dom-f", "dom-f-v1", secondModel, secondSha));
        publishUnsigned("dom-f", evil.withSignature(genuine.signature()));
        ModelVersion history = retrain.sign("dom-f@dom-f-v1", new ModelVersion(1, genuine.eventId(), "dom-f", "dom-f-v1", "tiny",
                genuine.uri(), secondSha, ModelVersion.Status.PROMOTED, "adabn", null, null, 1, Map.of(), null, genuine.at()));
        publishUnsigned("dom-f", history);
        producer.send(new ProducerRecord<>(Topics.MODEL_VERSIONS, "dom-f", null)).get();

        SegmentationResult f2 = segment("502", "dom-f");
        assertEquals("dom-f-v1", f2.model().version(), "every forged record refused: the signed version keeps serving");
        assertEquals(secondSha, f2.model().sha256());
        assertEquals(3 * 1024, f2.lesion().volumeVoxels());
        assertEquals(unsigned + 2, refused("unsigned"), "the unsigned promotion and the tombstone");
        assertEquals(unknownKey + 1, refused("unknown_key"));
        assertEquals(badSignature + 2, refused("bad_signature"), "the copied signature and the replayed history record");

        // Each refusal is on the audit trail: domain, version and reason, by inference itself.
        List<AuditEvent> audit = TopicReader.awaitRecords(broker.bootstrap(), JsonSerde.of(AuditEvent.class), "5 refusals of dom-f",
                        l -> l.stream().filter(r -> r.value().target().startsWith("domain dom-f ")).count() >= 5, Duration.ofSeconds(60),
                        Topics.AUDIT_EVENTS).stream().map(ConsumerRecord::value).filter(e -> e.target().startsWith("domain dom-f ")).toList();
        assertEquals(List.of("bad_signature", "bad_signature", "unknown_key", "unsigned", "unsigned"),
                audit.stream().map(AuditEvent::detail).sorted().toList());
        for (AuditEvent e : audit) {
            assertEquals("system:inference", e.principal());
            assertEquals("model-refused", e.action());
            assertEquals("refused", e.outcome());
            assertEquals("inference", e.service());
        }

        promote("dom-f", "dom-f-v2", sourceModel, sourceSha);
        assertEquals("dom-f-v2", segment("503", "dom-f").model().version(), "a signed promotion after them still applies");

        // Retrain's own, validly signed promotion of v1, published again after v2: signed time never goes back.
        double replayed = refused(ModelRouter.REPLAYED);
        publishUnsigned("dom-f", genuine);
        SegmentationResult f4 = segment("504", "dom-f");
        assertEquals("dom-f-v2", f4.model().version(), "a replayed older promotion is refused: v2 keeps serving");
        assertEquals(sourceSha, f4.model().sha256());
        assertEquals(replayed + 1, refused(ModelRouter.REPLAYED));
        promote("dom-f", "dom-f-v3", secondModel, secondSha);
        assertEquals("dom-f-v3", segment("505", "dom-f").model().version(), "a newer signed promotion of the same file applies");
        assertTrue(loop.isAlive());
    }

    private static double refused(String reason) {
        var c = meters.find("inference.model.refused").tag("reason", reason).counter();
        return c == null ? 0 : c.count();
    }

    @Test
    void failuresGiveErrorResultsAndDlqRecords() throws Exception {
        SeriesReady s = SyntheticSeries.write(blobs, "301", "dom-z", 2, 0);
        SeriesReady.Instance i0 = s.instances().get(0);
        SeriesReady broken = withInstances(s, 1, List.of(new SeriesReady.Instance(i0.sopInstanceUid(), i0.sopClassUid(), 1,
                0.0, i0.transferSyntaxUid(), new BlobRef("f".repeat(64), "file:///gone", 1, null))));
        send(broken);
        ConsumerRecord<String, byte[]> result = await(Topics.SEGMENTATION_RESULTS, s.seriesInstanceUid());
        SegmentationResult r = JsonSerde.of(SegmentationResult.class).deserialize(result.topic(), result.value());
        assertEquals(SegmentationResult.Status.ERROR, r.status());
        assertTrue(r.error().startsWith("MISSING_BLOB"), r.error());
        ConsumerRecord<String, byte[]> dlq = await(Topics.SEGMENTATION_DLQ, s.seriesInstanceUid());
        assertEquals("MISSING_BLOB", new String(dlq.headers().lastHeader("dlq.reason").value(), StandardCharsets.UTF_8));

        producer.send(new ProducerRecord<>(Topics.SERIES_READY, "garbage-key", "{not json".getBytes())).get();
        ConsumerRecord<String, byte[]> garbage = await(Topics.SEGMENTATION_DLQ, "garbage-key");
        assertEquals("UNREADABLE_EVENT", new String(garbage.headers().lastHeader("dlq.reason").value(), StandardCharsets.UTF_8));
    }

    @Test
    void aSeriesClaiming30000By30000IsRefusedBeforeDecodingAndTheNextSeriesIsSegmented() throws Exception {
        SeriesReady huge = SyntheticSeries.claimSize(blobs, SyntheticSeries.write(blobs, "601", "dom-h", 2, 0), 30000, 30000);
        send(huge);
        SegmentationResult good = segment("602", "dom-h");
        assertEquals(2 * 256, good.lesion().volumeVoxels(), "the series after the bad one is segmented");

        ConsumerRecord<String, byte[]> result = await(Topics.SEGMENTATION_RESULTS, huge.seriesInstanceUid());
        SegmentationResult r = JsonSerde.of(SegmentationResult.class).deserialize(result.topic(), result.value());
        assertEquals(SegmentationResult.Status.ERROR, r.status());
        assertTrue(r.error().startsWith("PIXEL_LIMITS: instance " + huge.instances().get(0).sopInstanceUid()
                + ": Rows 30000 exceeds the limit 16384 (max-rows)"), r.error());
        ConsumerRecord<String, byte[]> dlq = await(Topics.SEGMENTATION_DLQ, huge.seriesInstanceUid());
        assertEquals("PIXEL_LIMITS", new String(dlq.headers().lastHeader("dlq.reason").value(), StandardCharsets.UTF_8));
        assertTrue(loop.isAlive());
    }

    @Test
    void anOlderRevisionIsSkipped() throws Exception {
        SeriesReady s = SyntheticSeries.write(blobs, "401", "dom-r", 2, 0);
        send(withInstances(s, 2, s.instances()));
        await(Topics.SEGMENTATION_RESULTS, s.seriesInstanceUid());
        double before = superseded();
        send(withInstances(s, 1, s.instances()));
        // The loop commits an input's offset after its output was acknowledged: once it consumed everything sent, a result
        // of revision 1 would be on the topic.
        TopicReader.awaitConsumed(broker.bootstrap(), GROUP, Duration.ofSeconds(120), Topics.SERIES_READY);
        assertEquals(before + 1, superseded());
        assertEquals(1, TopicReader.readToEnd(broker.bootstrap(), Topics.SEGMENTATION_RESULTS).stream()
                .filter(r -> r.key().equals(s.seriesInstanceUid())).count(), "revision 1 after revision 2 produced no result");
    }

    /**
     * A series retrain sent again after a promotion names, in header pipeline.replay.predecessor, the SR it supersedes:
     * the new SR carries it as its Predecessor Documents Sequence. Without the replay header the predecessor header is
     * not trusted; an unreadable one is ignored; the series is segmented either way.
     */
    @Test
    void aReplayedSeriesSrNamesTheReportItSupersedes() throws Exception {
        SeriesReady replayed = SyntheticSeries.write(blobs, "811", "dom-p", 3, 1, 2);
        SrWriter.Uids earlier = SrWriter.Uids.of(replayed.seriesInstanceUid(), "dom-p-v1");
        ReplayPredecessor p = new ReplayPredecessor(replayed.studyInstanceUid(), earlier.seriesInstanceUid(),
                earlier.sopInstanceUid(), "dom-p-v1");
        send(replayed, Map.of(SeriesReady.REPLAY_HEADER, "promotion of domain dom-p to version x", ReplayPredecessor.HEADER,
                new String(p.toHeader(), StandardCharsets.UTF_8)));
        AttributeList sr = srOf(await(Topics.SEGMENTATION_RESULTS, replayed.seriesInstanceUid()));
        SequenceAttribute pred = (SequenceAttribute) sr.get(TagFromName.PredecessorDocumentsSequence);
        assertNotNull(pred, "the replayed series' SR names its predecessor");
        AttributeList series = ((SequenceAttribute) pred.getItem(0).getAttributeList().get(TagFromName.ReferencedSeriesSequence))
                .getItem(0).getAttributeList();
        AttributeList sop = ((SequenceAttribute) series.get(TagFromName.ReferencedSOPSequence)).getItem(0).getAttributeList();
        assertEquals(earlier.sopInstanceUid(), Attribute.getSingleStringValueOrNull(sop, TagFromName.ReferencedSOPInstanceUID));

        SeriesReady notReplayed = SyntheticSeries.write(blobs, "812", "dom-p", 3, 1, 2);
        send(notReplayed, Map.of(ReplayPredecessor.HEADER, new String(p.toHeader(), StandardCharsets.UTF_8)));
        assertNull(srOf(await(Topics.SEGMENTATION_RESULTS, notReplayed.seriesInstanceUid())).get(TagFromName.PredecessorDocumentsSequence),
                "a predecessor header without the replay header is not trusted");

        SeriesReady garbled = SyntheticSeries.write(blobs, "813", "dom-p", 3, 1, 2);
        send(garbled, Map.of(SeriesReady.REPLAY_HEADER, "promotion", ReplayPredecessor.HEADER, "{\"sopInstanceUid\":\"1.2.x\"}"));
        assertNull(srOf(await(Topics.SEGMENTATION_RESULTS, garbled.seriesInstanceUid())).get(TagFromName.PredecessorDocumentsSequence),
                "an unreadable predecessor is ignored");
    }

    private static AttributeList srOf(ConsumerRecord<String, byte[]> rec) throws Exception {
        SegmentationResult r = JsonSerde.of(SegmentationResult.class).deserialize(rec.topic(), rec.value());
        assertEquals(SegmentationResult.Status.OK, r.status(), r.error());
        AttributeList l = new AttributeList();
        try (var in = new java.io.BufferedInputStream(blobs.open(r.sr().blob().sha256()))) {
            l.read(new com.pixelmed.dicom.DicomInputStream(in));
        }
        return l;
    }

    private static void send(SeriesReady s, Map<String, String> headers) throws Exception {
        ProducerRecord<String, byte[]> rec = new ProducerRecord<>(Topics.SERIES_READY, s.seriesInstanceUid(),
                JsonSerde.of(SeriesReady.class).serialize(Topics.SERIES_READY, s));
        headers.forEach((k, v) -> rec.headers().add(k, v.getBytes(StandardCharsets.UTF_8)));
        producer.send(rec).get();
    }

    private static double superseded() {
        var c = meters.find("inference.series.superseded").counter();
        return c == null ? 0 : c.count();
    }

    private static SeriesReady withInstances(SeriesReady s, int revision, List<SeriesReady.Instance> instances) {
        return new SeriesReady(s.schemaVersion(), SeriesReady.eventIdFor(s.seriesInstanceUid(), revision), revision,
                revision == 1 ? s.reason() : SeriesReady.Reason.LATE_UPDATE, s.studyInstanceUid(), s.seriesInstanceUid(),
                s.domainId(), s.fingerprint(), s.header(), instances, s.geometry(), s.firstReceivedAt(),
                s.lastReceivedAt(), s.completedAt());
    }

    private static SegmentationResult segment(String id, String domain) throws Exception {
        SeriesReady s = SyntheticSeries.write(blobs, id, domain, 3, 1, 2);
        send(s);
        ConsumerRecord<String, byte[]> rec = await(Topics.SEGMENTATION_RESULTS, s.seriesInstanceUid());
        SegmentationResult r = JsonSerde.of(SegmentationResult.class).deserialize(rec.topic(), rec.value());
        assertEquals(SegmentationResult.Status.OK, r.status(), r.error());
        assertEquals(domain, r.domainId());
        return r;
    }

    private static void send(SeriesReady s) throws Exception {
        producer.send(new ProducerRecord<>(Topics.SERIES_READY, s.seriesInstanceUid(),
                JsonSerde.of(SeriesReady.class).serialize(Topics.SERIES_READY, s))).get();
    }

    private static void promote(String domain, String version, Path file, String sha) throws Exception {
        publish(domain, promotion(domain, version, file, sha));
    }

    private static ModelVersion promotion(String domain, String version, Path file, String sha) {
        ModelVersion.Serving serving = new ModelVersion.Serving(version, file.toUri().toString(), sha);
        return new ModelVersion(1, ModelVersion.eventIdFor(domain, version, ModelVersion.Status.PROMOTED),
                domain, version, "tiny", serving.uri(), sha, ModelVersion.Status.PROMOTED, "adabn", null, null, 1,
                Map.of("decision", "promoted by test"), serving, Instant.now());
    }

    /** As retrain publishes: signed with its key. */
    private static void publish(String routingKey, ModelVersion mv) throws Exception {
        publishUnsigned(routingKey, retrain.sign(routingKey, mv));
    }

    /** The record as it is, signed or not: what anyone with write access to the topic can produce. */
    private static void publishUnsigned(String routingKey, ModelVersion mv) throws Exception {
        producer.send(new ProducerRecord<>(Topics.MODEL_VERSIONS, routingKey,
                JsonSerde.of(ModelVersion.class).serialize(Topics.MODEL_VERSIONS, mv))).get();
    }

    /** The last record of {@code key} on the registry topic, once there is one. */
    private static ModelVersion registryRecord(String key) {
        List<ConsumerRecord<String, byte[]>> rs = TopicReader.awaitRecords(broker.bootstrap(), new ByteArrayDeserializer(), "a registry record for " + key,
                l -> l.stream().anyMatch(r -> key.equals(r.key())), Duration.ofSeconds(120), Topics.MODEL_VERSIONS);
        ConsumerRecord<String, byte[]> last = rs.stream().filter(r -> key.equals(r.key())).reduce((a, b) -> b).orElseThrow();
        return JsonSerde.of(ModelVersion.class).deserialize(last.topic(), last.value());
    }

    private static synchronized void drain() {
        for (ConsumerRecord<String, byte[]> r : results.poll(Duration.ofMillis(300))) seen.add(r);
    }

    private static synchronized ConsumerRecord<String, byte[]> await(String topic, String key) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(180);
        while (System.nanoTime() < deadline) {
            for (ConsumerRecord<String, byte[]> r : seen) {
                if (r.topic().equals(topic) && key.equals(r.key())) return r;
            }
            drain();
        }
        throw new AssertionError("no record with key " + key + " on " + topic + " within 180 s");
    }
}
