package org.imagingpipeline.retrain;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Label-free evidence about a model on a target domain, through ONNX Runtime (the serving engine):
 * <ul>
 *   <li>mean predictive entropy: binary entropy (nats) of the lesion probability, averaged over all pixels;</li>
 *   <li>test-time-augmentation disagreement: 1 - 3D Dice between the prediction and the prediction under
 *       each of a left-right flip (flipped back), gamma 0.8 and gamma 1.25 (per slice, x -> max (x/max)^g),
 *       averaged over augmentations and series;</li>
 *   <li>predicted lesion volume per series, in voxels of a 256 x 256 grid (spacing unknown).</li>
 * </ul>
 * With expert masks ({@link TargetLabels}) it also gives the mean per-series 3D Dice of the labelled series.
 */
public final class TargetProxies {

    public static final double[] TTA_GAMMAS = {0.8, 1.25};

    /** The measures over all series; {@code labelledDice} is NaN when no series had labels. */
    public record Measures(double meanEntropy, double ttaDisagreement, List<Double> volumes, double labelledDice,
                           int labelledSeries) { }

    private TargetProxies() {
    }

    public static Measures measure(OrtSegmenter seg, List<TargetImages.Series> series, int batch, Path labels) {
        double entropySum = 0;
        long pixels = 0;
        double disagreementSum = 0;
        int disagreementCount = 0;
        List<Double> volumes = new ArrayList<>();
        double diceSum = 0;
        int labelled = 0;
        for (TargetImages.Series s : series) {
            TargetImages.Images im = TargetImages.load(s);
            int w = im.width();
            int h = im.height();
            List<float[]> probs = seg.probabilityMaps(im.slices(), w, h, batch);
            List<byte[]> base = new ArrayList<>();
            long predicted = 0;
            for (float[] p : probs) {
                for (float v : p) {
                    entropySum += entropy(v);
                }
                pixels += p.length;
                byte[] m = OrtSegmenter.threshold(p);
                base.add(m);
                for (byte b : m) {
                    predicted += b;
                }
            }
            volumes.add(predicted * (256.0 * 256.0) / ((double) w * h));
            List<byte[]> flipped = seg.segment(flipAll(im.slices(), w, h), w, h, batch);
            disagreementSum += 1 - Dice.volume(flipAll(flipped, w, h), base);
            disagreementCount++;
            for (double g : TTA_GAMMAS) {
                IntensityShift gamma = IntensityShift.parse("gamma:" + g);
                List<float[]> shifted = new ArrayList<>();
                for (float[] x : im.slices()) {
                    shifted.add(gamma.apply(x, w, h, 0));
                }
                disagreementSum += 1 - Dice.volume(seg.segment(shifted, w, h, batch), base);
                disagreementCount++;
            }
            if (labels != null) {
                List<byte[]> truth = TargetLabels.load(labels, im);
                if (truth != null) {
                    diceSum += Dice.volume(base, truth);
                    labelled++;
                }
            }
        }
        return new Measures(entropySum / pixels, disagreementSum / disagreementCount, volumes,
                labelled == 0 ? Double.NaN : diceSum / labelled, labelled);
    }

    static double entropy(double p) {
        double q = Math.min(1 - 1e-7, Math.max(1e-7, p));
        return -(q * Math.log(q) + (1 - q) * Math.log(1 - q));
    }

    private static <T> List<T> flipAll(List<T> slices, int w, int h) {
        List<T> out = new ArrayList<>();
        for (T s : slices) {
            out.add(flip(s, w, h));
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static <T> T flip(T slice, int w, int h) {
        if (slice instanceof float[] f) {
            float[] o = new float[f.length];
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    o[y * w + x] = f[y * w + w - 1 - x];
                }
            }
            return (T) o;
        }
        byte[] b = (byte[]) slice;
        byte[] o = new byte[b.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                o[y * w + x] = b[y * w + w - 1 - x];
            }
        }
        return (T) o;
    }
}
