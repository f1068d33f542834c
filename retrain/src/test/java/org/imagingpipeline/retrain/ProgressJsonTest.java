package org.imagingpipeline.retrain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code --progress json} on real (tiny) runs of train and adapt: progress as {@code {"progress":{...}}} lines on
 * stderr instead of the bar, logs still plain lines, the stdout result line unchanged; and the schema's round trip.
 */
class ProgressJsonTest {

    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    interface Runner {
        int run(String[] argv, PrintStream out, PrintStream err);
    }

    static CliBadInputTest.Run run(Runner command, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = command.run(args, new PrintStream(out, true), new PrintStream(err, true));
        return new CliBadInputTest.Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /** The progress lines of stderr, each checked to be exactly one JSON object {"progress":{...}}. */
    static List<JsonNode> progress(String stderr) throws Exception {
        List<String> lines = stderr.lines().filter(l -> l.startsWith("{")).toList();
        for (String l : lines) {
            JsonNode n = JSON.readTree(l);
            assertEquals(1, n.size(), l);
            assertTrue(n.get("progress").isObject(), l);
        }
        assertTrue(stderr.lines().noneMatch(l -> l.matches("epoch \\d+/\\d+ \\[.*")), "no bar lines: " + stderr);
        assertFalse(stderr.contains("\r"), "nothing redrawn");
        return lines.stream().map(l -> {
            try {
                return JSON.readTree(l).get("progress");
            } catch (Exception e) {
                throw new AssertionError(e);
            }
        }).toList();
    }

    static JsonNode lastStdoutJson(CliBadInputTest.Run r) throws Exception {
        return JSON.readTree(r.out().strip().lines().reduce((a, b) -> b).orElseThrow());
    }

    @Test
    void trainReportsItsStepsAsJsonLines() throws Exception {
        Path data = CliBadInputTest.tinySite(dir, "AA", 32, 32, 32, 32);
        CliBadInputTest.Run r = run(TrainCommand::run, "--data", data.toString(), "--sites", "AA",
                "--out", dir.resolve("m.onnx").toString(), "--size", "32", "--depth", "2", "--base-filters", "2",
                "--batch", "1", "--epochs", "1", "--steps-per-epoch", "2", "--val-fraction", "0", "--no-augment",
                "--max-minutes", "0", "--threads", "2", "--progress", "json");
        assertEquals(0, r.code(), r.err());
        List<JsonNode> reports = progress(r.err());
        assertFalse(reports.isEmpty(), "the first step is always reported: " + r.err());
        JsonNode p = reports.get(0);
        assertEquals("train", p.get("phase").asText());
        assertFalse(p.has("method"), "training has no adaptation method");
        assertEquals(1, p.get("epoch").asInt());
        assertEquals(1, p.get("epochs").asInt());
        assertEquals(1, p.get("step").asInt());
        assertEquals(2, p.get("steps").asInt());
        assertTrue(p.get("loss").isNumber(), p.toString());
        assertEquals("dice", p.get("metric").asText());
        for (String f : List.of("metric_value", "s_per_step", "elapsed_s", "eta_s", "rss_mb")) {
            assertTrue(p.get(f).isNumber(), f + " in " + p);
        }
        assertTrue(r.err().contains("train: wrote "), "logs stay plain lines: " + r.err());
        assertEquals(2, lastStdoutJson(r).get("steps").asInt(), "the result line is unchanged");
    }

    @Test
    void adaptReportsAsJsonLinesOnlyWhenAsked() throws Exception {
        Path data = CliBadInputTest.tinySite(dir, "AA", 32, 32, 32, 32);
        Path model = CliBadInputTest.randomModel(dir);
        String[] args = {"--model", model.toString(), "--data", data.toString(), "--sites", "AA", "--method", "adabn",
                "--out", dir.resolve("a.onnx").toString(), "--threads", "2"};

        CliBadInputTest.Run bar = run(AdaptCommand::run, args);
        assertEquals(0, bar.code(), bar.err());
        assertTrue(bar.err().lines().anyMatch(l -> l.contains("epoch 1/") && l.contains(" step ")), "the bar by default: "
                + bar.err());
        assertFalse(bar.err().contains("{\"progress\""), bar.err());

        String[] json = CliTest.concat(args, "--progress", "json");
        CliBadInputTest.Run r = run(AdaptCommand::run, json);
        assertEquals(0, r.code(), r.err());
        List<JsonNode> reports = progress(r.err());
        assertFalse(reports.isEmpty(), r.err());
        JsonNode last = reports.get(reports.size() - 1);
        assertEquals("bn-statistics", last.get("phase").asText());
        assertEquals("adabn", last.get("method").asText());
        assertEquals(last.get("steps").asInt(), last.get("step").asInt(), "each loop's last step is reported");
        assertEquals(last.get("passes").asInt(), last.get("pass").asInt());
        assertFalse(last.has("loss"), "statistics passes have no loss: " + last);
        assertFalse(last.has("epoch"), last.toString());
        assertTrue(r.err().contains("adapt: adabn: wrote "), "logs stay plain lines: " + r.err());
        JsonNode result = lastStdoutJson(r);
        JsonNode barResult = lastStdoutJson(bar);
        assertEquals(barResult.size(), result.size(), "the same result line either way: " + barResult + " / " + result);
        assertEquals(barResult.get("slices"), result.get("slices"));
        assertEquals("adabn", result.get("method").asText());
    }

    @Test
    void reportsRoundTripAndLeaveOutWhatALoopDoesNotHave() {
        ProgressReport r = ProgressReport.of(ProgressBar.Phase.OPTIMISE, "entropy", 1, 1, 3, 100, 0.123456, "entropy",
                Double.NaN, 0.5, Double.POSITIVE_INFINITY, 700);
        assertEquals("{\"progress\":{\"phase\":\"optimise\",\"method\":\"entropy\",\"step\":3,\"steps\":100,\"loss\":0.1235,"
                + "\"s_per_step\":0.5,\"elapsed_s\":1.5,\"rss_mb\":700}}", r.json());
        assertEquals(r, ProgressReport.parse(r.json()).orElseThrow());
        assertEquals("entropy optimise step 3/100 loss 0.1235", r.describe());
        ProgressReport t = ProgressReport.of(ProgressBar.Phase.TRAIN, null, 2, 40, 7, 9, 0.5, "dice", 0.25, 2, 4, 1);
        assertEquals("train epoch 2/40 step 7/9 loss 0.5 dice 0.25 ETA 0m04s", t.describe());
        assertNull(t.pass());
        assertTrue(ProgressReport.parse("train: wrote m.onnx").isEmpty());
    }
}
