package org.imagingpipeline.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.imagingpipeline.deploy.BrokerProcess;
import org.imagingpipeline.events.EventJson;
import org.junit.jupiter.api.Test;

/**
 * Scenario (Maven profile {@code scenarios}, run by ./pipeline test after every service is packaged: this module
 * comes last in the reactor): the whole
 * {@code ./pipeline demo} as a user runs it, on free ports: every shared vendor file sent by C-STORE arrives,
 * nothing is lost, the page and summary are written and the stack is stopped afterwards.
 */
class DemoScenarioIT {
    @Test
    void demoSendsEveryVendorFileAndLosesNone() throws Exception {
        Path root = BrokerProcess.repoRoot();
        Path vendors = root.resolve("../shared/data/dicom-vendors").normalize();
        if (!Files.isDirectory(vendors)) {
            if ("true".equalsIgnoreCase(System.getenv("CI"))) org.junit.jupiter.api.Assertions.fail("shared data missing in CI: " + vendors);
            System.out.println("SKIPPED: shared test data missing: " + vendors);
            org.junit.jupiter.api.Assumptions.abort("shared data missing: " + vendors);
        }
        Path out = Files.createTempDirectory("demo-scenario");
        ProcessBuilder pb = new ProcessBuilder(root.resolve("pipeline").toString(), "demo", "--out", out.toString())
                .directory(root.toFile()).redirectErrorStream(false);
        int kafka = BrokerProcess.freePort();
        pb.environment().put("KAFKA_PORT", Integer.toString(kafka));
        pb.environment().put("KAFKA_CONTROLLER_PORT", Integer.toString(BrokerProcess.freePort()));
        pb.environment().put("INGEST_DICOM_PORT", Integer.toString(BrokerProcess.freePort()));
        pb.environment().put("INGEST_HTTP_PORT", Integer.toString(BrokerProcess.freePort()));
        pb.environment().put("FHIR_BRIDGE_HTTP_PORT", Integer.toString(BrokerProcess.freePort()));
        pb.environment().put("EHR_PORT", Integer.toString(BrokerProcess.freePort()));
        pb.environment().put("STREAMS_HTTP_PORT", Integer.toString(BrokerProcess.freePort()));
        pb.redirectError(out.resolve("demo.stderr").toFile());
        Process p = pb.start();
        String stdout = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(p.waitFor(10, TimeUnit.MINUTES), "demo finished");
        String err = Files.readString(out.resolve("demo.stderr"));
        assertEquals(0, p.exitValue(), "demo exit status; stderr:\n" + err);
        String last = stdout.strip().lines().reduce((a, b) -> b).orElse("");
        JsonNode line = EventJson.mapper().readTree(last);
        assertEquals(892, line.get("instances_sent").asInt());
        assertEquals(892, line.get("instances_arrived").asInt());
        assertEquals(0, line.get("instances_lost").asInt());
        assertEquals(line.get("series_arrived").asInt(), line.get("series_assembled").asInt(), "every series assembled");
        JsonNode summary = EventJson.mapper().readTree(out.resolve("summary.json").toFile());
        assertEquals(0, summary.get("instances_lost").asInt());
        assertEquals(6, summary.get("by_scanner").size(), "six scanners in the shared set");
        assertTrue(Files.readString(out.resolve("index.html")).contains("892"));
        assertTrue(err.contains("stopped broker"), "the stack is stopped at the end:\n" + err);
        try (var s = new java.net.Socket()) {
            s.connect(new java.net.InetSocketAddress("127.0.0.1", kafka), 500);
            throw new AssertionError("broker still listening after the demo");
        } catch (java.io.IOException expected) {
            // nothing left behind
        }
    }
}
