package org.imagingpipeline.fhirbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.DiagnosticReport;
import org.hl7.fhir.r4.model.OperationOutcome;
import org.hl7.fhir.r4.model.Patient;
import org.imagingpipeline.testsupport.BrokerProcess;
import org.imagingpipeline.events.DeliveryFailure;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.SegmentationResult;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.fhirbridge.ehr.EhrServer;
import org.imagingpipeline.kafka.Backoff;
import org.imagingpipeline.kafka.KafkaClients;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The delivery loop end to end with a real KRaft broker (own JVM), the real EHR stand-in and the real validator:
 * an EHR outage loses nothing and the backlog drains to one report per result; a 400 goes to the DLQ with its
 * OperationOutcome and the partition moves on; offsets are committed only for handled records.
 */
class KafkaDeliveryTest {
    static final String GROUP = "fhir-bridge-test";
    @TempDir
    static Path dir;
    static BrokerProcess broker;
    static EhrServer ehr;
    static DeliveryLoop loop;
    static SimpleMeterRegistry registry = new SimpleMeterRegistry();
    static KafkaProducer<String, SegmentationResult> producer;

    @BeforeAll
    static void start() throws Exception {
        broker = BrokerProcess.startWithTopics(dir.resolve("kafka"));
        ehr = TestSupport.startEhr();
        DeliveryLoop.Settings s = new DeliveryLoop.Settings(KafkaClients.of(broker.bootstrap()), GROUP,
                Topics.SEGMENTATION_RESULTS, Topics.EHR_DELIVERY_DLQ, new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1), 2, 0.5));
        loop = new DeliveryLoop(s, TestSupport.processor(ehr, registry), registry).start();
        await("the loop to poll", Duration.ofSeconds(120), () -> !loop.lastPoll().equals(java.time.Instant.EPOCH));
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        producer = new KafkaProducer<>(p, new StringSerializer(), JsonSerde.of(SegmentationResult.class));
    }

    @AfterAll
    static void stop() throws Exception {
        if (producer != null) producer.close();
        if (loop != null) loop.close();
        if (ehr != null) ehr.stop();
        if (broker != null) broker.stop();
    }

    private static void send(SegmentationResult r, Integer partition) throws Exception {
        producer.send(new ProducerRecord<>(Topics.SEGMENTATION_RESULTS, partition, r.seriesInstanceUid(), r)).get();
    }

    private static List<DiagnosticReport> reportsFor(String series) {
        return ehr.store().search("DiagnosticReport", d -> ((DiagnosticReport) d).getIdentifier().stream()
                .anyMatch(i -> Codes.ID_REPORT.equals(i.getSystem()) && i.getValue().startsWith(series + ":")))
                .stream().map(DiagnosticReport.class::cast).toList();
    }

    private static void await(String what, Duration timeout, BooleanSupplier cond) throws InterruptedException {
        long end = System.nanoTime() + timeout.toNanos();
        while (!cond.getAsBoolean()) {
            if (System.nanoTime() > end) throw new AssertionError("timed out waiting for " + what);
            Thread.sleep(100);
        }
    }

    @Test
    void ehrOutageLosesNothingAndBacklogDrainsOncePerResult() throws Exception {
        List<String> series = new ArrayList<>();
        for (int i = 0; i < 6; i++) series.add(TestResults.series(200 + i));
        ehr.stop();
        double deliveredBefore = registry.get("fhir_bridge.delivered").counter().count();
        for (String s : series) send(TestResults.ok(s, "3", "PAT-" + s.substring(s.length() - 3)), null);
        send(TestResults.ok(series.get(0), "3", "PAT-" + series.get(0).substring(series.get(0).length() - 3)), null);
        await("retries while the EHR is down", Duration.ofSeconds(60), () -> {
            var c = registry.find("fhir_bridge.retries").tag("reason", "connection_refused").counter();
            return c != null && c.count() >= 6;
        });
        assertEquals(deliveredBefore, registry.get("fhir_bridge.delivered").counter().count(), "EHR is down");
        ehr.start();
        await("backlog to drain", Duration.ofSeconds(60), () -> series.stream().allMatch(s -> !reportsFor(s).isEmpty()));
        awaitAllCommitted();
        for (String s : series) {
            List<DiagnosticReport> rs = reportsFor(s);
            assertEquals(1, rs.size(), "one report for " + s);
            assertEquals(3, rs.get(0).getResult().size());
            assertTrue(rs.get(0).getImagingStudyFirstRep().getReference().startsWith("ImagingStudy/"));
        }
    }

    @Test
    void badRequestGoesToDlqAndTheServiceContinues() throws Exception {
        ehr.setTransactionFault(b -> b.getEntry().stream().map(Bundle.BundleEntryComponent::getResource)
                .filter(r -> r instanceof Patient).map(Patient.class::cast)
                .anyMatch(p -> p.getIdentifierFirstRep().getValue().startsWith("REJECT"))
                ? new InvalidRequestException("Patient identifier REJECT-1 is not registered in this EHR") : null);
        try {
            String bad = TestResults.series(300);
            String good = TestResults.series(301);
            send(TestResults.ok(bad, "3", "REJECT-1"), 0);
            send(TestResults.ok(good, "3", "PAT-301"), 0);
            await("the good result after the rejected one", Duration.ofSeconds(60), () -> !reportsFor(good).isEmpty());
            assertEquals(List.of(), reportsFor(bad));
            DeliveryFailure f = readDlq(bad);
            assertEquals(DeliveryFailure.Reason.EHR_REJECTED, f.reason());
            assertEquals(400, f.httpStatus());
            assertEquals(bad, f.result().seriesInstanceUid());
            OperationOutcome oo = TestSupport.CTX.newJsonParser().parseResource(OperationOutcome.class,
                    f.operationOutcome());
            assertTrue(oo.getIssueFirstRep().getDiagnostics().contains("not registered"), f.operationOutcome());
            awaitAllCommitted();
        } finally {
            ehr.setTransactionFault(null);
        }
    }

    private static DeliveryFailure readDlq(String seriesKey) throws InterruptedException {
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, "dlq-reader-" + UUID.randomUUID());
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (KafkaConsumer<String, DeliveryFailure> consumer = new KafkaConsumer<>(c, new StringDeserializer(),
                JsonSerde.of(DeliveryFailure.class))) {
            consumer.subscribe(List.of(Topics.EHR_DELIVERY_DLQ));
            long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (System.nanoTime() < end) {
                for (ConsumerRecord<String, DeliveryFailure> r : consumer.poll(Duration.ofMillis(500))) {
                    if (seriesKey.equals(r.key())) return r.value();
                }
            }
        }
        throw new AssertionError("no DLQ record for " + seriesKey);
    }

    /** Every record of the results topic is committed by the bridge's group (nothing left unhandled). */
    private static void awaitAllCommitted() throws Exception {
        Properties a = new Properties();
        a.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrap());
        try (Admin admin = Admin.create(a)) {
            long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (true) {
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(GROUP)
                        .partitionsToOffsetAndMetadata().get();
                Map<TopicPartition, OffsetSpec> req = new HashMap<>();
                for (int p = 0; p < 3; p++) req.put(new TopicPartition(Topics.SEGMENTATION_RESULTS, p), OffsetSpec.latest());
                var ends = admin.listOffsets(req).all().get();
                boolean all = ends.entrySet().stream().allMatch(e -> e.getValue().offset() == 0
                        || (committed.get(e.getKey()) != null
                        && committed.get(e.getKey()).offset() == e.getValue().offset()));
                if (all) return;
                if (System.nanoTime() > end) throw new AssertionError("not all committed: " + committed + " vs " + ends);
                Thread.sleep(200);
            }
        }
    }
}
