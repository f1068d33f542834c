package org.imagingpipeline.retrain;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * CI-sized adaptation runs on real DU images: a small DU model (trained here on 8 patients), 4 other DU patients
 * pushed through the scanner simulator's {@value #PROFILE} profile and written as 16-bit PNGs beside deliberately
 * unreadable mask files (adaptation must never open them). Each method must raise the per-patient Dice on those
 * shifted patients; the gate must reject a candidate with scrambled batch-norm statistics.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class AdaptationTest {

    static final ObjectMapper JSON = new ObjectMapper();
    /** The simulator's newscanner profile with each part at the strength of its single-effect profile. */
    static final String PROFILE = "newscanner:g=0.6,a=0.35,blur=1,noise=0.04";
    static final String SITE = "SHIFTED";

    @TempDir
    static Path dir;
    Path data;
    Path parent;
    Path source;
    Path target;
    Path labels;
    List<SliceDataset.PatientRef> heldOut;
    double cleanDice;
    double shiftedDice;

    record Run(int code, String out, String err) {
        JsonNode lastJson() throws Exception {
            String[] lines = out.strip().split("\n");
            return JSON.readTree(lines[lines.length - 1]);
        }
    }

    static Run adapt(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        long t0 = System.nanoTime();
        int code = AdaptCommand.run(args, new PrintStream(out, true), new PrintStream(err, true));
        System.out.printf(Locale.ROOT, "adapt %s: exit %d in %.1f s%n", String.join(" ", args), code,
                (System.nanoTime() - t0) / 1e9);
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    @BeforeAll
    void trainParentAndShiftTarget() throws Exception {
        data = SharedData.lggFlair();
        List<SliceDataset.PatientRef> du = SliceDataset.discover(data, List.of("DU"));
        source = dir.resolve("source");
        Files.createDirectories(source.resolve("DU"));
        for (SliceDataset.PatientRef p : du.subList(0, 8)) {
            Files.createSymbolicLink(source.resolve("DU").resolve(p.patientId()), data.resolve("DU").resolve(p.patientId()));
        }
        parent = dir.resolve("models/parent.onnx");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        long t0 = System.nanoTime();
        int code = TrainCommand.run(new String[] {"--data", source.toString(), "--sites", "DU", "--out", parent.toString(),
            "--size", "128", "--batch", "8", "--epochs", "5", "--steps-per-epoch", "60", "--no-augment", "--lr", "0.005",
            "--max-minutes", "0", "--patience", "0", "--val-fraction", "0.25", "--threads", "2"},
                new PrintStream(new ByteArrayOutputStream()), new PrintStream(err, true));
        System.out.printf(Locale.ROOT, "parent model: exit %d in %.1f s%n", code, (System.nanoTime() - t0) / 1e9);
        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));

        heldOut = du.subList(8, 12);
        target = dir.resolve("target");
        ShiftedCopy.write(heldOut, ShiftedCopy.parseShift(PROFILE), 1, target.resolve(SITE), false);
        for (SliceDataset.PatientRef p : heldOut) {
            for (SliceDataset.SliceRef s : p.slices()) {
                // The real masks live only in the labels folder; these would make any attempt to read them fail.
                Files.writeString(target.resolve(SITE).resolve(p.patientId()).resolve(s.mask().getFileName()),
                        "not an image: adaptation must never read target masks");
            }
        }
        labels = dir.resolve("labels");
        for (SliceDataset.PatientRef p : heldOut) {
            Path d = Files.createDirectories(labels.resolve(SITE).resolve(p.patientId()));
            for (SliceDataset.SliceRef s : p.slices()) {
                Files.copy(s.mask(), d.resolve(s.mask().getFileName()));
            }
        }
        cleanDice = dice(parent, false);
        shiftedDice = dice(parent, true);
        System.out.printf(Locale.ROOT, "parent on the 4 held-out DU patients: clean %.4f, %s %.4f%n", cleanDice,
                PROFILE, shiftedDice);
        assertTrue(cleanDice > 0.3, "the small parent model did not learn (clean Dice " + cleanDice
                + "), so adaptation results would mean nothing");
    }

    /** Mean per-patient 3D Dice of a model on the held-out patients, clean or as written to the target folder. */
    double dice(Path model, boolean shifted) {
        double sum = 0;
        try (OrtSegmenter seg = new OrtSegmenter(model, 2)) {
            List<TargetImages.Series> series = TargetImages.discover(target, List.of(SITE));
            for (int i = 0; i < heldOut.size(); i++) {
                SliceDataset.Volume v = SliceDataset.load(heldOut.get(i));
                List<float[]> images = shifted ? TargetImages.load(series.get(i)).slices() : v.images();
                assertEquals(heldOut.get(i).patientId(), series.get(i).id());
                sum += Dice.volume(seg.segment(images, v.width(), v.height(), 16), v.masks());
            }
        }
        return sum / heldOut.size();
    }

    private JsonNode adaptAndCheck(String method, String... extra) throws Exception {
        Path out = dir.resolve("models/" + method + ".onnx");
        List<String> args = new ArrayList<>(List.of("--model", parent.toString(), "--data", target.toString(),
                "--sites", SITE, "--method", method, "--out", out.toString(), "--source-data", source.toString(),
                "--source-sites", "DU", "--threads", "2"));
        args.addAll(List.of(extra));
        Run r = adapt(args.toArray(String[]::new));
        assertEquals(0, r.code(), r.err());
        assertTrue(r.err().contains("step"), "progress on stderr");
        JsonNode j = r.lastJson();
        assertEquals(out.toString(), j.get("model").asText());
        assertEquals(Hashing.sha256Hex(out), j.get("sha256").asText());
        assertEquals(Hashing.sha256Hex(parent), j.get("parent_sha256").asText());
        assertEquals(method, j.get("method").asText());
        assertEquals(SITE, j.get("sites").get(0).asText());
        assertEquals(4, j.get("patients").asInt());
        assertEquals(heldOut.stream().mapToInt(p -> p.slices().size()).sum(), j.get("slices").asInt());
        assertTrue(j.get("seconds").asDouble() > 0);
        JsonNode card = JSON.readTree(ModelCard.pathFor(out).toFile());
        JsonNode parentCard = JSON.readTree(ModelCard.pathFor(parent).toFile());
        assertEquals(j.get("sha256").asText(), card.get("sha256").asText());
        assertEquals(j.get("parent_sha256").asText(), card.get("parent").get("sha256").asText());
        assertEquals(parentCard.get("version").asText(), card.get("parent").get("version").asText());
        assertEquals(method, card.get("adaptation").get("method").asText());
        assertEquals(SITE, card.get("adaptation").get("domain").get(0).asText());
        assertEquals(SliceDataset.patientHash(heldOut.stream().map(SliceDataset.PatientRef::patientId).toList()),
                card.get("adaptation").get("target_series_sha256").asText());
        JsonNode gate = j.get("gate");
        for (String k : List.of("passed", "reasons", "source_dice_before", "source_dice_after", "source_dice_tolerance",
                "target_entropy_before", "target_entropy_after", "tta_disagreement_before", "tta_disagreement_after",
                "volume_plausibility_before", "volume_plausibility_after")) {
            assertTrue(gate.has(k), "gate field " + k + " in " + gate);
        }
        double after = dice(out, true);
        System.out.printf(Locale.ROOT, "%s: shifted Dice %.4f -> %.4f (clean %.4f); gate %s%n", method, shiftedDice,
                after, cleanDice, gate);
        assertTrue(after > shiftedDice + 0.02, method + " should raise Dice on the shifted patients: "
                + shiftedDice + " -> " + after);
        return j;
    }

    @Test
    void adabnRecoversDiceAndLabelledTargetDiceDecidesTheGate() throws Exception {
        assertTrue(shiftedDice < cleanDice - 0.05, "the shift should hurt the parent: clean " + cleanDice
                + ", shifted " + shiftedDice);
        JsonNode j = adaptAndCheck("adabn", "--target-labels", labels.toString());
        JsonNode gate = j.get("gate");
        // The gate's labelled Dice is computed from the expert masks by its own path; it matches this test's.
        assertEquals(shiftedDice, gate.get("labelled_target_dice_before").asDouble(), 1e-3);
        assertEquals(dice(Path.of(j.get("model").asText()), true), gate.get("labelled_target_dice_after").asDouble(), 1e-3);
        // Labels decide the target side: no proxy line; the decision is source safety and labelled Dice.
        List<String> reasons = new ArrayList<>();
        gate.get("reasons").forEach(n -> reasons.add(n.asText()));
        assertEquals(2, reasons.size(), reasons.toString());
        assertTrue(reasons.get(1).startsWith("pass: labelled target Dice"), reasons.toString());
        assertEquals(reasons.get(0).startsWith("pass:"), gate.get("passed").asBoolean(), gate.toString());
    }

    @Test
    void entropyMinimisationRecoversDice() throws Exception {
        JsonNode gate = adaptAndCheck("entropy", "--max-steps", "40").get("gate");
        assertFalse(gate.has("labelled_target_dice_before"), "no labels given: the proxies decide");
    }

    @Test
    void adversarialAlignmentRecoversDice() throws Exception {
        adaptAndCheck("adversarial", "--max-steps", "60");
    }

    @Test
    void gateRejectsACandidateWithScrambledBatchNormStatistics() throws Exception {
        Path broken = dir.resolve("models/scrambled.onnx");
        DjlRuntime.configure(DjlRuntime.defaultCacheDir(), 2);
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            OnnxImporter.Imported imp = OnnxImporter.read(parent, m);
            Random rnd = new Random(3);
            for (ConvBnRelu u : imp.net().namedUnits().values()) {
                NDArray mean = u.bn().getParameters().get("runningMean").getArray();
                NDArray var = u.bn().getParameters().get("runningVar").getArray();
                float[] mu = mean.toFloatArray();
                float[] sd = var.toFloatArray();
                for (int c = mu.length - 1; c > 0; c--) { // shuffle channels: every statistic lands on a wrong one
                    int k = rnd.nextInt(c + 1);
                    float t = mu[c]; mu[c] = mu[k]; mu[k] = t;
                    t = sd[c]; sd[c] = sd[k]; sd[k] = t;
                }
                mean.set(mu);
                var.set(sd);
            }
            OnnxExporter.export(imp.net(), imp.metadata(), broken);
        }
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        AdaptationJob.SourceData src = AdaptationJob.SourceData.of(source, List.of("DU"),
                ModelCard.read(ModelCard.pathFor(parent)), ModelCard.pathFor(parent));
        PromotionGate.Decision d = new PromotionGate(PromotionGate.Config.defaults(), 2, new PrintStream(log))
                .decide(parent, broken, parent, src.validation(), src.all(), TargetImages.discover(target, List.of(SITE)), null);
        System.out.println("scrambled candidate: " + d);
        assertFalse(d.passed(), d.toString());
        // Only statistics changed, so its source view (weights + the parent's statistics) is the parent: the source
        // check passes, and the collapse must be caught on the target side (a model that sees no lesion anywhere is
        // certain and stable under augmentation, but its lesion volumes are implausible).
        assertEquals("source view", d.sourceCheck());
        assertTrue(d.reasons().get(0).startsWith("pass: source validation Dice"), d.reasons().toString());
        assertTrue(d.sourceDiceAsServed() < d.sourceDiceBefore() - d.sourceDiceTolerance(), "as served: " + d);
        assertTrue(d.reasons().stream().anyMatch(r -> r.startsWith("fail: share of plausible lesion volumes")),
                d.reasons().toString());
    }

    @Test
    void badInputIsRefusedWithExit2() {
        String out = dir.resolve("models/x.onnx").toString();
        Run r = adapt("--model", parent.toString(), "--data", target.toString(), "--sites", SITE, "--method", "magic",
                "--out", out);
        assertEquals(2, r.code());
        assertTrue(r.err().contains("--method must be one of adabn, entropy, adversarial"), r.err());
        r = adapt("--model", parent.toString(), "--data", target.toString(), "--sites", SITE, "--method", "adversarial",
                "--out", out);
        assertEquals(2, r.code());
        assertTrue(r.err().contains("needs the labelled source data"), r.err());
        r = adapt("--model", parent.toString(), "--data", target.toString(), "--sites", "NOPE", "--method", "adabn",
                "--out", out);
        assertEquals(2, r.code());
        assertTrue(r.err().contains("site 'NOPE' not found"), r.err());
        r = adapt("--model", parent.toString(), "--data", target.toString(), "--sites", SITE, "--method", "adabn",
                "--out", parent.toString());
        assertEquals(2, r.code());
        assertEquals("", r.out());
    }
}
