package org.imagingpipeline.retrain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A short real training run on four DU patients (128 input, 100 steps): the loss goes down, the model beats an
 * empty mask, the exported ONNX reloads in ONNX Runtime, and evaluation gives the same numbers on the PNG
 * layout and on the same slices rewritten in the kaggle_3m TIFF layout.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class TrainEvaluateRoundTripTest {

    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    Path data;
    Path model;
    JsonNode card;
    String trainStdout;

    record Run(int code, String out, String err) {
        JsonNode lastJson() throws Exception {
            String[] lines = out.strip().split("\n");
            return JSON.readTree(lines[lines.length - 1]);
        }
    }

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

    @BeforeAll
    void trainShort() throws Exception {
        data = SharedData.lggFlair();
        model = dir.resolve("models/short.onnx");
        long t0 = System.nanoTime();
        Run r = train("--data", data.toString(), "--sites", "DU", "--patients", "4", "--out", model.toString(),
                "--size", "128", "--batch", "8", "--base-filters", "8", "--epochs", "4", "--steps-per-epoch", "60", "--no-augment", "--lr", "0.005",
                "--max-minutes", "0", "--patience", "0", "--val-fraction", "0.25", "--threads", "2");
        System.out.printf("short training run: exit %d in %.1f s%n", r.code(), (System.nanoTime() - t0) / 1e9);
        assertEquals(0, r.code(), "train failed:\n" + r.err());
        trainStdout = r.out();
        card = JSON.readTree(ModelCard.pathFor(model).toFile());
        System.out.println("card metrics: " + card.get("metrics"));
    }

    @Test
    void lossGoesDownAndCardDescribesTheRun() throws Exception {
        JsonNode epochs = card.get("metrics").get("epochs");
        assertEquals(4, epochs.size());
        double first = epochs.get(0).get("mean_loss").asDouble();
        double last = epochs.get(3).get("mean_loss").asDouble();
        assertTrue(last < first * 0.95, "mean loss should fall: epoch 1 " + first + ", epoch 4 " + last);
        assertEquals(Hashing.sha256Hex(model), card.get("sha256").asText());
        assertEquals(128, card.get("input_size").asInt());
        assertEquals(240, card.get("training").get("steps").asInt());
        assertEquals(3, card.get("training").get("train_patients").asInt());
        assertEquals(1, card.get("training").get("validation_patients").size());
        assertTrue(card.get("normalisation").asText().contains("z-score"));
        JsonNode summary = JSON.readTree(trainStdout.strip().lines().reduce((a, b) -> b).orElseThrow());
        assertEquals(card.get("sha256").asText(), summary.get("sha256").asText());
    }

    @Test
    void beatsAnEmptyMaskAndRoundTripsThroughOnnxRuntime() throws Exception {
        Run r = evaluate("--model", model.toString(), "--data", data.toString(), "--sites", "DU", "--patients", "4");
        assertEquals(0, r.code(), r.err());
        JsonNode j = r.lastJson();
        assertEquals("DU", j.get("site").asText());
        assertEquals(4, j.get("patients").asInt());
        // The empty-mask baseline, computed from the same masks (every patient here has a lesion, so it is 0).
        List<SliceDataset.PatientRef> refs = SliceDataset.discover(data, List.of("DU")).subList(0, 4);
        double emptySum = 0;
        for (SliceDataset.PatientRef p : refs) {
            SliceDataset.Volume v = SliceDataset.load(p);
            List<byte[]> empty = new ArrayList<>();
            v.masks().forEach(m -> empty.add(new byte[m.length]));
            emptySum += Dice.volume(empty, v.masks());
        }
        double empty = emptySum / refs.size();
        double dice = j.get("dice_mean").asDouble();
        System.out.printf("short run: DU first 4 patients (3 trained on) dice_mean %.4f vs empty mask %.4f%n", dice, empty);
        assertTrue(dice > empty + 0.1, "trained model " + dice + " should beat the empty mask " + empty);
        // The validation figure in the card came from the same ONNX Runtime path on the held-out patient.
        String valPatient = card.get("training").get("validation_patients").get(0).asText();
        double fromEval = -1;
        for (JsonNode p : j.get("per_patient")) {
            if (p.get("patient").asText().equals(valPatient)) {
                fromEval = p.get("dice").asDouble();
            }
        }
        assertEquals(card.get("metrics").get("validation_dice_mean").asDouble(), fromEval, 1e-9);
    }

    @Test
    void kaggleTiffLayoutGivesTheSameDiceAsPng() throws Exception {
        Path kaggle = dir.resolve("kaggle/kaggle_3m");
        List<SliceDataset.PatientRef> refs = SliceDataset.discover(data, List.of("DU")).subList(0, 2);
        for (SliceDataset.PatientRef p : refs) {
            String caseDir = p.patientId() + "_19990101";
            Path cd = Files.createDirectories(kaggle.resolve(caseDir));
            for (SliceDataset.SliceRef s : p.slices()) {
                BufferedImage flair = ImageIO.read(s.image().toFile());
                BufferedImage mask = ImageIO.read(s.mask().toFile());
                int w = flair.getWidth();
                int h = flair.getHeight();
                BufferedImage rgb = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
                WritableRaster out = rgb.getRaster();
                for (int y = 0; y < h; y++) {
                    for (int x = 0; x < w; x++) {
                        int v = flair.getRaster().getSample(x, y, 0);
                        out.setSample(x, y, 0, 255 - v); // other channels differ: reading the wrong one shows
                        out.setSample(x, y, 1, v);
                        out.setSample(x, y, 2, (x * 7 + y) & 255);
                    }
                }
                String base = caseDir + "_" + s.index();
                assertTrue(ImageIO.write(rgb, "tiff", cd.resolve(base + ".tif").toFile()), "no TIFF writer");
                assertTrue(ImageIO.write(mask, "tiff", cd.resolve(base + "_mask.tif").toFile()));
            }
        }
        assertEquals(SliceDataset.Layout.KAGGLE_TIFF, SliceDataset.detectLayout(kaggle.getParent()));
        Run tiff = evaluate("--model", model.toString(), "--data", kaggle.getParent().toString(), "--sites", "DU");
        assertEquals(0, tiff.code(), tiff.err());
        Run png = evaluate("--model", model.toString(), "--data", data.toString(), "--sites", "DU", "--patients", "2");
        assertEquals(0, png.code(), png.err());
        JsonNode a = tiff.lastJson();
        JsonNode b = png.lastJson();
        assertEquals(2, a.get("patients").asInt());
        assertEquals(b.get("per_patient"), a.get("per_patient"));
        assertEquals(b.get("dice_mean").asDouble(), a.get("dice_mean").asDouble(), 0.0);
    }
}
