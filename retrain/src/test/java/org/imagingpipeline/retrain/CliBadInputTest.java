package org.imagingpipeline.retrain;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Bad input to the train and evaluate commands: a clear message on stderr and a non-zero exit. */
class CliBadInputTest {

    @TempDir
    Path dir;

    record Run(int code, String out, String err) { }

    static Run train(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = TrainCommand.run(args, new PrintStream(out, true), new PrintStream(err, true));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static Run evaluate(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = EvaluateCommand.run(args, new PrintStream(out, true), new PrintStream(err, true));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static void assertBad(Run r, String expected) {
        assertEquals(2, r.code(), "exit status; stderr: " + r.err());
        assertTrue(r.err().contains(expected), "stderr should say '" + expected + "' but was: " + r.err());
        assertEquals("", r.out(), "nothing on stdout when the input is bad");
    }

    /** A tiny PNG-layout data set: SITE/P1 with one slice (image w x h, mask mw x mh). */
    private Path tinySite(String site, int w, int h, int mw, int mh) throws Exception {
        return tinySite(dir, site, w, h, mw, mh);
    }

    /** As above, under {@code dir/data}; returns {@code dir/data}. */
    static Path tinySite(Path dir, String site, int w, int h, int mw, int mh) throws Exception {
        Path p = Files.createDirectories(dir.resolve("data").resolve(site).resolve("P1"));
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.getRaster().setSample(x, y, 0, (x * 13 + y * 7) & 255);
            }
        }
        BufferedImage mask = new BufferedImage(mw, mh, BufferedImage.TYPE_BYTE_GRAY);
        mask.getRaster().setSample(mw / 2, mh / 2, 0, 255);
        ImageIO.write(img, "png", p.resolve("slice_01_flair.png").toFile());
        ImageIO.write(mask, "png", p.resolve("slice_01_mask.png").toFile());
        return dir.resolve("data");
    }

    private Path randomModel() throws Exception {
        return randomModel(dir);
    }

    /** An untrained U-Net (base filters 2, depth 2) exported with input size 32: {@code dir/random.onnx}. */
    static Path randomModel(Path dir) throws Exception {
        DjlRuntime.configure(DjlRuntime.defaultCacheDir(), 2);
        Path m = dir.resolve("random.onnx");
        try (NDManager manager = NDManager.newBaseManager()) {
            UNet net = new UNet(2, 2);
            net.initialize(manager, DataType.FLOAT32, new Shape(1, 1, 16, 16));
            OnnxExporter.export(net, Map.of("input_size", "32"), m);
        }
        return m;
    }

    @Test
    void missingDataFolder() {
        Path missing = dir.resolve("no-such-folder");
        assertBad(train("--data", missing.toString(), "--sites", "DU", "--out", dir.resolve("m.onnx").toString()),
                "data folder not found: " + missing);
        assertBad(evaluate("--model", dir.resolve("m.onnx").toString(), "--data", missing.toString(), "--sites", "DU"),
                "data folder not found: " + missing);
    }

    @Test
    void unknownAndEmptySites() throws Exception {
        Path data = tinySite("AA", 32, 32, 32, 32);
        Files.createDirectories(data.resolve("EMPTY"));
        assertBad(train("--data", data.toString(), "--sites", "ZZ", "--out", dir.resolve("m.onnx").toString()),
                "site 'ZZ' not found in " + data);
        assertBad(evaluate("--model", "x.onnx", "--data", data.toString(), "--sites", "EMPTY"),
                "site 'EMPTY' in " + data + " has no patients");
        assertBad(evaluate("--model", "x.onnx", "--data", data.toString(), "--sites", ""), "missing required option --sites");
        assertBad(train("--data", data.toString(), "--sites", "AA,", "--out", dir.resolve("m.onnx").toString()),
                "no site given");
    }

    @Test
    void maskOfAnotherSize() throws Exception {
        Path data = tinySite("AA", 32, 32, 16, 16);
        Run t = train("--data", data.toString(), "--sites", "AA", "--val-fraction", "0",
                "--out", dir.resolve("m.onnx").toString());
        assertBad(t, "is 16x16 but its image");
        Run e = evaluate("--model", randomModel().toString(), "--data", data.toString(), "--sites", "AA");
        assertBad(e, "slice_01_mask.png is 16x16 but its image");
    }

    @Test
    void onnxFileThatIsNotAModel() throws Exception {
        Path data = tinySite("AA", 32, 32, 32, 32);
        Path notModel = dir.resolve("not-a-model.onnx");
        Files.writeString(notModel, "this is a text file, not an ONNX model\n");
        assertBad(evaluate("--model", notModel.toString(), "--data", data.toString(), "--sites", "AA"),
                "not a usable ONNX model: " + notModel);
        assertBad(evaluate("--model", dir.resolve("absent.onnx").toString(), "--data", data.toString(), "--sites", "AA"),
                "model file not found");
    }

    @Test
    void aGoodModelOnTheTinySiteWorks() throws Exception {
        // The counterpart of the bad cases: the same tiny data with a matching mask is accepted.
        Path data = tinySite("AA", 32, 32, 32, 32);
        Run e = evaluate("--model", randomModel().toString(), "--data", data.toString(), "--sites", "AA");
        assertEquals(0, e.code(), e.err());
        assertTrue(e.out().strip().startsWith("{\"site\":\"AA\",\"patients\":1,\"dice_mean\":"), e.out());
    }

    @Test
    void domainBatchesNeedTwoSites() throws Exception {
        Path data = tinySite("AA", 32, 32, 32, 32);
        assertBad(train("--data", data.toString(), "--val-fraction", "0", "--size", "32", "--base-filters", "2",
                "--batch", "2", "--epochs", "1", "--steps-per-epoch", "2", "--max-minutes", "0", "--domain-batches",
                "--sites", "AA", "--out", dir.resolve("one.onnx").toString()),
                "--domain-batches needs training patients of at least two sites, got AA");
    }

    @Test
    void badOptions() {
        assertBad(train("--data"), "option --data needs a value");
        assertBad(train("--sites", "DU", "--out", "m.onnx"), "missing required option --data");
        assertBad(evaluate("--model", "m.onnx", "--bogus", "1"), "unknown option '--bogus'");
        assertBad(train("--data", dir.toString(), "--sites", "DU", "--out", "m.onnx", "--size", "100"),
                "--size must be a positive multiple of 16");
        assertBad(train("--data", dir.toString(), "--sites", "DU", "--out", "m.txt"), "--out must name an .onnx file");
        assertBad(train("--data", dir.toString(), "--sites", "DU", "--out", "m.onnx", "--epochs", "x"),
                "option --epochs needs a whole number");
    }
}
