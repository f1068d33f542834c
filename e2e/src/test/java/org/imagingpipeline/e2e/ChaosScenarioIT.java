package org.imagingpipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.imagingpipeline.kafka.KafkaClients;
import org.imagingpipeline.kafka.TopicReader;
import org.imagingpipeline.events.Topics;
import org.junit.jupiter.api.Test;

/**
 * Reliability scenario (Maven profile {@code reliability}, run by ./pipeline test): a demo-sized stream of real series
 * while every service is killed with SIGKILL once, one at a time, and the broker is killed and restarted once. A
 * sender that fails (ingest down) retries, as a scanner does. Afterwards every sent series has exactly one report in
 * the EHR: 0 lost, 0 duplicates.
 */
class ReliabilityScenarioIT {
    @Test
    void everySeriesGetsExactlyOneReportThroughCrashesAndABrokerRestart() throws Exception {
        Path data = PipelineRun.sharedData("lgg-flair");
        Path work = Files.createTempDirectory("reliability");
        PipelineRun run = new PipelineRun(work.resolve("stack"));
        run.env.put("SOURCE_MODEL", PipelineRun.sourceModel().toString());
        run.env.put("STREAMS_ASSEMBLY_INACTIVITY", "4s");
        List<String[]> patients = new ArrayList<>(); // {site, patient}
        patients.addAll(firstPatients(data, "DU", 8));
        patients.addAll(firstPatients(data, "HT", 4));
        // After sending patient i, kill this part (then `up` restarts whatever is down).
        Map<Integer, String> crashes = new TreeMap<>(Map.of(1, "streams", 3, "inference", 5, "fhir-bridge", 7, "ingest", 9, "broker",
                10, "retrain"));
        try {
            up(run);
            assertBrokerRefusesPlaintext(run);
            for (int i = 0; i < patients.size(); i++) {
                sendWithRetry(run, patients.get(i));
                String part = crashes.get(i);
                if (part != null) {
                    run.kill9(part);
                    System.out.println("reliability: killed " + part + " after series " + (i + 1));
                    if (part.equals("ingest")) {
                        PipelineRun.Result refused = run.run(3, "send", "--data", data.toString(), "--sites", patients.get(i + 1)[0],
                                "--include-patients", patients.get(i + 1)[1]);
                        assertTrue(refused.exit() != 0, "sending with ingest down fails visibly");
                    }
                    up(run);
                }
            }
            Map<String, List<String>> reports = waitForReports(run, patients.size(), Duration.ofMinutes(8));
            assertEquals(patients.size(), reports.size(), "every series has a report (0 lost): " + reports.keySet());
            reports.forEach((series, ids) -> assertEquals(1, ids.size(), "exactly one report for " + series + ": " + ids));
        } finally {
            PipelineRun.Result down = run.run(3, "down");
            System.out.println(down.stderr());
        }
    }

    private static void up(PipelineRun run) throws Exception {
        PipelineRun.Result r = run.run(8, "up");
        assertEquals(0, r.exit(), "./pipeline up:\n" + PipelineRun.tail(r.stderr()));
    }

    /** Security on by default (issue 19): the stack's Kafka answers no client without credentials. */
    private static void assertBrokerRefusesPlaintext(PipelineRun run) {
        KafkaClients plain = KafkaClients.of("127.0.0.1:" + run.port("KAFKA_PORT"));
        try (Admin admin = plain.admin(Map.of(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, "3000",
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "6000"))) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> admin.listTopics().names().get(20, TimeUnit.SECONDS));
            assertTrue(e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException, "plaintext gets no answer: " + e.getCause());
        }
    }

    private static void sendWithRetry(PipelineRun run, String[] patient) throws Exception {
        Path data = PipelineRun.sharedData("lgg-flair");
        for (int attempt = 1; ; attempt++) {
            PipelineRun.Result r = run.run(5, "send", "--data", data.toString(), "--sites", patient[0], "--include-patients", patient[1]);
            if (r.exit() == 0) return;
            assertTrue(attempt < 5, "send " + patient[1] + " kept failing:\n" + PipelineRun.tail(r.stderr()));
            Thread.sleep(3000);
        }
    }

    private static List<String[]> firstPatients(Path data, String site, int n) throws Exception {
        try (Stream<Path> s = Files.list(data.resolve(site))) {
            return s.filter(Files::isDirectory).map(p -> p.getFileName().toString()).sorted().limit(n).map(p -> new String[] {site, p}).toList();
        }
    }

    /**
     * Series UID -> ids of the DiagnosticReports whose identifiers name it, once the expected number of series have one
     * and nothing is in flight any more: every stage's consumer group has committed past the last record on its input
     * topic, checked in data-flow order so that each stage's input is complete when it is checked. A stage commits after
     * its output was acknowledged (the bridge after the EHR's answer), so a duplicate report from a redelivered record
     * is in the EHR by then.
     */
    private static Map<String, List<String>> waitForReports(PipelineRun run, int expected, Duration timeout) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<String, List<String>> bySeries = run.reportsBySeries();
        while (bySeries.size() < expected) {
            if (System.nanoTime() > deadline) return bySeries;
            Thread.sleep(3000);
            bySeries = run.reportsBySeries();
        }
        // The stack's broker is SASL_SSL with ACLs: read consumer offsets as the read-only cli principal.
        KafkaClients cli = KafkaClients.of("127.0.0.1:" + run.port("KAFKA_PORT"), run.home.resolve("secrets/kafka/cli.properties"));
        Duration drain = Duration.ofMinutes(3);
        TopicReader.awaitConsumed(cli, "imaging-streams", drain, Topics.INSTANCES_RECEIVED);
        TopicReader.awaitConsumed(cli, "inference", drain, Topics.SERIES_READY);
        TopicReader.awaitConsumed(cli, "fhir-bridge", drain, Topics.SEGMENTATION_RESULTS);
        return run.reportsBySeries();
    }
}
