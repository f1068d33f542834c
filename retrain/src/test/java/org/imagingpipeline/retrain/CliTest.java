package org.imagingpipeline.retrain;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The command lines of retrain's commands (picocli, {@link Cli}): --help lists each command's options and exits 0;
 * bad options exit 2 with one line naming the problem; what parsing accepts. Parsing only: nothing here trains.
 */
class CliTest {

    @TempDir
    Path dir;

    interface Runner {
        int run(String[] argv, PrintStream out, PrintStream err);
    }

    static final Map<String, Runner> COMMANDS = Map.of("train", TrainCommand::run, "evaluate", EvaluateCommand::run,
            "adapt", AdaptCommand::run, "bench adaptation", AdaptationBenchmark::run, "shifted-copy", ShiftedCopy::run);

    static CliBadInputTest.Run run(String command, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = COMMANDS.get(command).run(args, new PrintStream(out, true), new PrintStream(err, true));
        return new CliBadInputTest.Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static void assertBad(CliBadInputTest.Run r, String command, String reason) {
        CliBadInputTest.assertBad(r, command + ": error: " + reason);
        assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
    }

    @Test
    void helpListsEveryOptionWithItsExplanation() {
        Map<String, List<String>> expected = Map.of(
                "train", List.of("--data=DIR", "--sites=S[,S]", "--out=MODEL.onnx", "--acquisition-aug=P", "--split-seed=N",
                        "paired comparisons", "--bn-recalibrate", "--djl-cache=DIR", "--progress=bar|json", "(default: 40)"),
                "evaluate", List.of("--model=MODEL.onnx", "--patient-ids=A,B", "--validation-only", "--shift=SPEC",
                        "gamma:G, bias:A", "(default: 16)"),
                "adapt", List.of("--method=M", "--candidates=L", "--target-labels=DIR", "--min-proxies-better=N",
                        "--bn-scope=S", "levels:2", "--bn-reference=R", "--no-gate", "--keep-candidates", "--progress=bar|json",
                        "never read"),
                "bench adaptation", List.of("--half=H", "--shift-spec=S", "--held-out-card=C", "--source-only",
                        "--jsonl=FILE", "(default: models/source.onnx)"),
                "shifted-copy", List.of("--profile=SPEC", "--masks=copy|none", "--site=NAME"));
        expected.forEach((command, texts) -> {
            CliBadInputTest.Run r = run(command, "--help");
            assertEquals(0, r.code(), command + ": " + r.err());
            assertEquals("", r.err(), command);
            String help = r.out().replaceAll("\\s+", " ");
            assertTrue(help.startsWith("Usage: " + command + " "), help);
            assertTrue(help.contains("--help"), help);
            for (String t : texts) {
                assertTrue(help.contains(t), command + " --help should mention '" + t + "':\n" + r.out());
            }
        });
    }

    @Test
    void badOptionsExit2WithOneLineReason() {
        String[] adapt = {"--model", "m.onnx", "--data", "d", "--sites", "S", "--method", "adabn", "--out", "o.onnx"};
        assertBad(run("adapt", "--model"), "adapt", "option --model needs a value");
        assertBad(run("adapt", "--model", "m.onnx", "--data", "d", "--sites", "S", "--out", "o.onnx"), "adapt",
                "missing required option --method");
        assertBad(run("adapt", concat(adapt, "--seed", "x")), "adapt", "option --seed needs a whole number, got 'x'");
        assertBad(run("adapt", concat(adapt, "--tolerance", "lots")), "adapt", "option --tolerance needs a number, got 'lots'");
        assertBad(run("adapt", concat(adapt, "--progress", "xml")), "adapt", "--progress must be bar or json, got 'xml'");
        assertBad(run("adapt", concat(adapt, "--bn-pixels", "some")), "adapt", "--bn-pixels must be all or foreground, got 'some'");
        assertBad(run("adapt", concat(adapt, "extra")), "adapt", "unknown option 'extra'");
        assertBad(run("train", "--data", "d", "--sites", "S", "--out", "m.onnx", "--progress", "xml"), "train",
                "--progress must be bar or json, got 'xml'");
        assertBad(run("train", "--data", "d", "--sites", "S", "--out", "m.onnx", "--select", "first"), "train",
                "--select must be best or last, got 'first'");
        assertBad(run("evaluate", "--model", "m.onnx", "--data", "d", "--sites", "S", "--batch="), "evaluate",
                "option --batch needs a whole number, got ''");
        assertBad(run("bench adaptation", "--threads", "two"), "bench adaptation", "option --threads needs a whole number, got 'two'");
        assertBad(run("bench adaptation", "--model", dir.resolve("none.onnx").toString()), "bench adaptation",
                "model not found: " + dir.resolve("none.onnx"));
        assertBad(run("shifted-copy", "--sites", "S", "--out", "o", "--site", "X"), "shifted-copy", "missing required option --data");
        assertBad(run("shifted-copy", "--bogus=1"), "shifted-copy", "unknown option '--bogus=1'");
    }

    static String[] concat(String[] a, String... b) {
        String[] all = new String[a.length + b.length];
        System.arraycopy(a, 0, all, 0, a.length);
        System.arraycopy(b, 0, all, a.length, b.length);
        return all;
    }

    @Command(name = "probe")
    static final class Probe {
        @Option(names = "--data")
        String data;

        @Option(names = "--n")
        int n = 7;

        @Option(names = "--x")
        double x;

        @Option(names = "--flag")
        boolean flag;
    }

    @Test
    void parsingAsTheCommandsAlwaysDid() {
        Probe p = new Probe();
        Cli.commandLine(p).parseArgs("--data", "@first", "--n= 12 ", "--x", "1e-3", "--data=second", "--flag");
        assertEquals("second", p.data, "a repeated option's last value counts");
        assertEquals(12, p.n, "whole numbers may carry blanks");
        assertEquals(0.001, p.x);
        assertTrue(p.flag);
        Probe q = new Probe();
        Cli.commandLine(q).parseArgs("--data", "@no-such-args-file");
        assertEquals("@no-such-args-file", q.data, "no @file expansion");
        assertEquals(7, q.n);
        assertEquals(List.of("AA", "", "B"), Cli.list(" AA, ,B", "--sites"), "entries trimmed, empty ones kept");
        DataException blank = org.junit.jupiter.api.Assertions.assertThrows(DataException.class, () -> Cli.required(" ", "--sites"));
        assertEquals("missing required option --sites", blank.getMessage());
    }
}
