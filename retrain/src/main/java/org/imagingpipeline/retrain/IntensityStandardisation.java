package org.imagingpipeline.retrain;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Intensity standardisation of a domain to the source reference, the landmark method of Nyul and Udupa (1999; Nyul,
 * Udupa and Zhang 2000) applied where the network sees intensities: after its per-image z-score. The landmarks are
 * percentiles (1, 10, 20, ..., 90, 99) of the z-scored foreground ({@link Foreground}: the anatomy, not the air) pooled
 * over every slice of a domain; the domain's map is the monotone piecewise-linear curve that sends the target's
 * landmarks onto the source's, with slope 1 below the first and above the last landmark (a constant offset there,
 * so air and the brightest lesion pixels are moved, never stretched). A scanner's contrast curve (gamma, a remapped
 * window, a different echo's grey-level ordering kept monotone) is undone up to the difference between the two
 * domains' anatomy; bias fields, blur and noise are not (the map is global and pointwise).
 *
 * <p>It needs no optimisation and no labels, and changes nothing in the segmenter: the map is written into an
 * {@link InputNormaliser} (which can represent any continuous piecewise-linear curve with up to
 * {@link InputNormaliser#CHANNELS} breakpoints: c1 puts {@code z - L_k} in channel k, c2 passes it through, c3 sums
 * the slope changes), so the adapted model is the parent with a domain-specific input stage, exported and served like
 * the {@code normaliser} candidate.
 */
public final class IntensityStandardisation {

    /** Nyul's landmark percentiles of the foreground. */
    static final double[] PERCENTILES = {1, 10, 20, 30, 40, 50, 60, 70, 80, 90, 99};
    /** The map's slope is kept in [1/4, 4]: a stronger stretch would amplify noise more than it restores contrast. */
    static final double MIN_SLOPE = 0.25;
    static final double MAX_SLOPE = 4;
    /** Landmarks closer than this (in z units) are merged. */
    static final double MIN_GAP = 1e-3;
    /** Every third pixel of every slice is enough for percentiles and bounds the memory (a 15-series domain: ~1M values). */
    static final int SAMPLE_STEP = 3;

    /**
     * A fitted map: it sends {@code target[i]} to {@code mapped[i]} (the source's landmarks, unless a slope was clamped)
     * and is linear between them.
     */
    public record Mapping(double[] target, double[] source, double[] mapped) {

        /** The map at one z-scored intensity. */
        public double apply(double z) {
            int n = target.length;
            if (z <= target[0]) {
                return z + mapped[0] - target[0];
            }
            if (z >= target[n - 1]) {
                return z + mapped[n - 1] - target[n - 1];
            }
            int i = 0;
            while (z > target[i + 1]) {
                i++;
            }
            return mapped[i] + slope(i) * (z - target[i]);
        }

        double slope(int i) {
            return (mapped[i + 1] - mapped[i]) / (target[i + 1] - target[i]);
        }

        /** What the model card records. */
        public Map<String, Object> details() {
            Map<String, Object> d = new LinkedHashMap<>();
            d.put("standardisation", "Nyul-Udupa landmarks on the z-scored foreground, percentiles " + Arrays.toString(PERCENTILES));
            d.put("target_landmarks", round(target));
            d.put("source_landmarks", round(source));
            d.put("mapped_landmarks", round(mapped));
            return d;
        }
    }

    private IntensityStandardisation() {
    }

    /** The map of a target domain's slices onto the source's (both at the model's input size, raw intensities). */
    public static Mapping fit(List<float[]> target, List<float[]> source) {
        Sample src = Sample.of(source, "source");
        double fraction = src.shareAbove(Foreground.of(source).threshold());
        double[] s = src.landmarksOfBrightest(fraction);
        double[] t = Sample.of(target, "target").landmarksOfBrightest(fraction);
        List<Integer> keep = new ArrayList<>();
        for (int i = 0; i < t.length; i++) {
            if (keep.isEmpty() || t[i] - t[keep.get(keep.size() - 1)] >= MIN_GAP) {
                keep.add(i);
            }
        }
        if (keep.size() < 2) {
            throw new DataException("the target's foreground has no intensity spread to standardise (landmarks "
                    + Arrays.toString(round(t)) + ")");
        }
        double[] tt = new double[keep.size()];
        double[] ss = new double[keep.size()];
        double[] mm = new double[keep.size()];
        for (int k = 0; k < keep.size(); k++) {
            tt[k] = t[keep.get(k)];
            ss[k] = s[keep.get(k)];
        }
        mm[0] = ss[0];
        for (int k = 1; k < tt.length; k++) {
            double slope = (ss[k] - ss[k - 1]) / (tt[k] - tt[k - 1]);
            slope = Math.max(MIN_SLOPE, Math.min(MAX_SLOPE, slope));
            mm[k] = mm[k - 1] + slope * (tt[k] - tt[k - 1]);
        }
        return new Mapping(tt, ss, mm);
    }

    /** Landmarks of a domain's foreground as {@link Foreground} defines it (for the tests). */
    static double[] landmarks(List<float[]> slices, String which) {
        Sample sample = Sample.of(slices, which);
        return sample.landmarksOfBrightest(sample.shareAbove(Foreground.of(slices).threshold()));
    }

    /**
     * Every {@link #SAMPLE_STEP}th pixel of a domain: its raw intensity and its value after the graph's per-image
     * z-score. The foreground is chosen by rank: the brightest share of the pixels, the share the source's anatomy
     * covers. A threshold relative to the domain's own intensities (as {@link Foreground} sets it) would keep a
     * different part of the anatomy once a contrast curve has darkened the tissue towards the air; ranks are what a
     * monotone curve leaves alone.
     */
    record Sample(float[] raw, float[] z, String which) {

        static Sample of(List<float[]> slices, String which) {
            int n = 0;
            for (float[] x : slices) {
                n += (x.length + SAMPLE_STEP - 1) / SAMPLE_STEP;
            }
            float[] raw = new float[n];
            float[] z = new float[n];
            int k = 0;
            for (float[] x : slices) {
                double sum = 0;
                for (float f : x) {
                    sum += f;
                }
                double mean = sum / x.length;
                double sq = 0;
                for (float f : x) {
                    sq += (f - mean) * (f - mean);
                }
                // The graph's z-score (UNet.normalise): (x - mean) / sqrt(var + floor) over the whole image.
                double sd = Math.sqrt(sq / x.length + UNet.NORM_VARIANCE_FLOOR);
                for (int i = 0; i < x.length; i += SAMPLE_STEP) {
                    raw[k] = Math.max(0f, x[i]);
                    z[k++] = (float) ((x[i] - mean) / sd);
                }
            }
            return new Sample(raw, z, which);
        }

        double shareAbove(float threshold) {
            int above = 0;
            for (float r : raw) {
                above += r > threshold ? 1 : 0;
            }
            return raw.length == 0 ? 0 : (double) above / raw.length;
        }

        /** Percentiles {@link #PERCENTILES} of the z-values of the brightest {@code share} of the pixels. */
        double[] landmarksOfBrightest(double share) {
            int take = (int) Math.round(share * raw.length);
            if (take < 1000) {
                throw new DataException("the " + which + " slices have too little foreground to standardise (" + take
                        + " sampled pixels of " + raw.length + ")");
            }
            // Non-negative floats order as their bit patterns: sort (intensity, index) pairs packed in one long.
            long[] order = new long[raw.length];
            for (int i = 0; i < raw.length; i++) {
                order[i] = ((long) Float.floatToIntBits(raw[i]) << 32) | i;
            }
            Arrays.sort(order);
            // A domain whose anatomy covers less of the image than the source's (a wider field of view, black
            // padding) would reach into black air: its foreground is then every pixel that is not black.
            int positive = 0;
            while (positive < order.length && raw[(int) order[order.length - 1 - positive]] > 0) {
                positive++;
            }
            take = Math.min(take, positive);
            if (take < 1000) {
                throw new DataException("the " + which + " slices have too little foreground to standardise (" + take
                        + " non-black sampled pixels of " + raw.length + ")");
            }
            float[] f = new float[take];
            for (int i = 0; i < take; i++) {
                f[i] = z[(int) order[order.length - 1 - i]];
            }
            Arrays.sort(f);
            double[] out = new double[PERCENTILES.length];
            for (int i = 0; i < out.length; i++) {
                out[i] = f[(int) Math.min(take - 1, Math.round(PERCENTILES[i] / 100 * (take - 1)))];
            }
            return out;
        }
    }

    /**
     * Writes the map into a network's input normaliser: channel k of c1 is {@code z - L_k} (centre tap 1, bias -L_k),
     * c2 passes each channel through, c3 weighs channel k by the change of the map's slope at L_k and adds the offset
     * below the first landmark; unused channels stay zero.
     */
    public static void install(Mapping m, InputNormaliser n) {
        int ch = InputNormaliser.CHANNELS;
        int l = m.target().length;
        if (l > ch) {
            throw new IllegalArgumentException(l + " landmarks need more than the normaliser's " + ch + " channels");
        }
        float[] w1 = new float[ch * 9];
        float[] b1 = new float[ch];
        float[] w2 = new float[ch * ch * 9];
        float[] b2 = new float[ch];
        float[] w3 = new float[ch];
        for (int k = 0; k < l; k++) {
            w1[k * 9 + 4] = 1;
            b1[k] = (float) -m.target()[k];
            w2[(k * ch + k) * 9 + 4] = 1;
            double before = k == 0 ? 1 : m.slope(k - 1);
            double after = k == l - 1 ? 1 : m.slope(k);
            w3[k] = (float) (after - before);
        }
        float[] b3 = {(float) (m.mapped()[0] - m.target()[0])};
        set(n.c1().getParameters().get("weight").getArray(), w1, new Shape(ch, 1, 3, 3));
        set(n.c1().getParameters().get("bias").getArray(), b1, new Shape(ch));
        set(n.c2().getParameters().get("weight").getArray(), w2, new Shape(ch, ch, 3, 3));
        set(n.c2().getParameters().get("bias").getArray(), b2, new Shape(ch));
        set(n.c3().getParameters().get("weight").getArray(), w3, new Shape(1, ch, 1, 1));
        set(n.c3().getParameters().get("bias").getArray(), b3, new Shape(1));
    }

    private static void set(NDArray a, float[] values, Shape expected) {
        if (!a.getShape().equals(expected)) {
            throw new IllegalStateException("input normaliser parameter has shape " + a.getShape() + ", expected " + expected);
        }
        a.set(values);
    }

    static double[] round(double[] v) {
        double[] r = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            r[i] = Math.round(v[i] * 1e4) / 1e4;
        }
        return r;
    }
}
