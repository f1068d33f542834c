package org.imagingpipeline.fhirbridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ca.uhn.fhir.rest.server.exceptions.InvalidRequestException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
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
import org.imagingpipeline.kafka.TopicReader;
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
        // The loop warms the FHIR validator up before its first poll: 20 s on an idle machine, over 150 s on 2 busy cores.
        await("the loop to poll", Duration.ofSeconds(300), () -> !loop.lastPoll().equals(java.time.Instant.EPOCH));
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
        await("retries while the EHR is down", Duration.ofSeconds(180), () -> {
            var c = registry.find("fhir_bridge.retries").tag("reason", "connection_refused").counter();
            return c != null && c.count() >= 6;
        });
        assertEquals(deliveredBefore, registry.get("fhir_bridge.delivered").counter().count(), "EHR is down");
        ehr.start();
        await("backlog to drain", Duration.ofSeconds(180), () -> series.stream().allMatch(s -> !reportsFor(s).isEmpty()));
        awaitAllCommitted();
        for (String s : series) {
            List<DiagnosticReport> rs = reportsFor(s);
            assertEquals(1, rs.size(), "one report for " + s);
            assertEquals(5, rs.get(0).getResult().size());
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
            await("the good result after the rejected one", Duration.ofSeconds(180), () -> !reportsFor(good).isEmpty());
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

    private static DeliveryFailure readDlq(String seriesKey) {
        List<ConsumerRecord<String, DeliveryFailure>> rs = TopicReader.awaitRecords(broker.bootstrap(), JsonSerde.of(DeliveryFailure.class),
                "a DLQ record for " + seriesKey, l -> l.stream().anyMatch(r -> seriesKey.equals(r.key())), Duration.ofSeconds(120),
                Topics.EHR_DELIVERY_DLQ);
        return rs.stream().filter(r -> seriesKey.equals(r.key())).findFirst().orElseThrow().value();
    }

    /** Every record of the results topic is committed by the bridge's group (nothing left unhandled). */
    private static void awaitAllCommitted() throws Exception {
        TopicReader.awaitConsumed(broker.bootstrap(), GROUP, Duration.ofSeconds(120), Topics.SEGMENTATION_RESULTS);
    }
}
