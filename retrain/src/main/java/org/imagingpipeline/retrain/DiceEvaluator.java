package org.imagingpipeline.retrain;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Per-patient 3D Dice (all slices of a patient together) through ONNX Runtime, plus per-slice statistics.
 * Slices are read one patient at a time, so memory does not grow with the site.
 */
public final class DiceEvaluator {

    /** One patient's result. */
    @JsonPropertyOrder({"patient", "dice", "slices", "lesion_voxels", "predicted_voxels"})
    public record PatientResult(String patient, double dice, int slices,
                                @JsonProperty("lesion_voxels") long lesionVoxels,
                                @JsonProperty("predicted_voxels") long predictedVoxels) { }

    /** One site's result: the ARCHITECTURE.md contract fields first. */
    @JsonPropertyOrder({"site", "patients", "dice_mean", "dice_median", "dice_std", "dice_min", "dice_max",
        "slices", "lesion_slices", "slice_dice_mean_lesion", "false_positive_slices", "false_negative_slices",
        "lesion_voxels_median", "input_size", "model_sha256", "shift", "seconds", "per_patient"})
    public record SiteReport(String site, int patients,
                             @JsonProperty("dice_mean") double diceMean,
                             @JsonProperty("dice_median") double diceMedian,
                             @JsonProperty("dice_std") double diceStd,
                             @JsonProperty("dice_min") double diceMin,
                             @JsonProperty("dice_max") double diceMax,
                             int slices,
                             @JsonProperty("lesion_slices") int lesionSlices,
                             @JsonProperty("slice_dice_mean_lesion") double sliceDiceMeanLesion,
                             @JsonProperty("false_positive_slices") int falsePositiveSlices,
                             @JsonProperty("false_negative_slices") int falseNegativeSlices,
                             @JsonProperty("lesion_voxels_median") double lesionVoxelsMedian,
                             @JsonProperty("input_size") int inputSize,
                             @JsonProperty("model_sha256") String modelSha256,
                             String shift,
                             double seconds,
                             @JsonProperty("per_patient") List<PatientResult> perPatient) { }

    private final OrtSegmenter segmenter;
    private final int batch;
    private final PrintStream log;
    private final IntensityShift shift;

    public DiceEvaluator(OrtSegmenter segmenter, int batch, PrintStream log) {
        this(segmenter, batch, log, null);
    }

    /** With a shift, every slice goes through it before segmentation (masks unchanged). */
    public DiceEvaluator(OrtSegmenter segmenter, int batch, PrintStream log, IntensityShift shift) {
        this.segmenter = segmenter;
        this.batch = batch;
        this.log = log;
        this.shift = shift;
    }

    public SiteReport evaluate(String site, List<SliceDataset.PatientRef> patients, String modelSha) {
        long t0 = System.nanoTime();
        List<PatientResult> results = new ArrayList<>();
        int slices = 0;
        int lesionSlices = 0;
        int fp = 0;
        int fn = 0;
        double sliceDiceSum = 0;
        for (SliceDataset.PatientRef ref : patients) {
            SliceDataset.Volume v = SliceDataset.load(ref);
            List<float[]> images = v.images();
            if (shift != null) {
                List<float[]> shifted = new ArrayList<>();
                for (int i = 0; i < images.size(); i++) {
                    shifted.add(shift.apply(images.get(i), v.width(), v.height(), i));
                }
                images = shifted;
            }
            List<byte[]> pred = segmenter.segment(images, v.width(), v.height(), batch);
            long predVox = 0;
            for (int i = 0; i < pred.size(); i++) {
                long p = count(pred.get(i));
                long t = count(v.masks().get(i));
                predVox += p;
                slices++;
                if (t > 0) {
                    lesionSlices++;
                    sliceDiceSum += Dice.slice(pred.get(i), v.masks().get(i));
                    if (p == 0) {
                        fn++;
                    }
                } else if (p > 0) {
                    fp++;
                }
            }
            double d = Dice.volume(pred, v.masks());
            PatientResult r = new PatientResult(ref.patientId(), round(d), pred.size(), v.lesionVoxels(), predVox);
            results.add(r);
            log.printf(Locale.ROOT, "evaluate: %s %s dice %.4f (%d slices, lesion %d voxels, predicted %d)%n",
                    site, ref.patientId(), d, pred.size(), v.lesionVoxels(), predVox);
        }
        double[] dice = results.stream().mapToDouble(PatientResult::dice).toArray();
        double[] lesion = results.stream().mapToDouble(PatientResult::lesionVoxels).toArray();
        double min = results.stream().mapToDouble(PatientResult::dice).min().orElse(Double.NaN);
        double max = results.stream().mapToDouble(PatientResult::dice).max().orElse(Double.NaN);
        return new SiteReport(site, results.size(), round(Dice.mean(dice)), round(Dice.median(dice)),
                round(Dice.std(dice)), min, max, slices, lesionSlices,
                round(lesionSlices == 0 ? Double.NaN : sliceDiceSum / lesionSlices), fp, fn,
                Dice.median(lesion), segmenter.inputSize(), modelSha, shift == null ? null : shift.spec(),
                Math.round((System.nanoTime() - t0) / 1e7) / 100.0, results);
    }

    private static long count(byte[] m) {
        long n = 0;
        for (byte b : m) {
            n += b;
        }
        return n;
    }

    static double round(double v) {
        return Double.isFinite(v) ? Math.round(v * 1e4) / 1e4 : v;
    }
}
