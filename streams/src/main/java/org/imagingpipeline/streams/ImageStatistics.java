package org.imagingpipeline.streams;

import java.util.Arrays;
import java.util.List;

/**
 * The image part of a series' domain: robust intensity statistics of a few decoded slices (values after rescale
 * slope/intercept). Everything is on a normalised scale, intensities divided by the 99th percentile of the
 * foreground, so that a scanner's arbitrary gain does not matter but the shape of its intensity distribution,
 * its noise and its smoothness do:
 * <ul>
 * <li>foreground fraction (pixels above 10% of the image's 99th percentile);</li>
 * <li>foreground percentiles p05, p25, p50, p75, p95 and an 8-bin histogram on [0, 1];</li>
 * <li>noise: median absolute Laplacian in the background and in the foreground (log10), and the fraction of
 *     background pixels that are exactly at the image minimum (zero-filled backgrounds have no noise floor);</li>
 * <li>smoothness: foreground Laplacian over foreground gradient (blur lowers it), and local contrast (mean absolute
 *     difference of a pixel from its 4 neighbours' mean, foreground);</li>
 * <li>shading: log ratio of the foreground means of the left and right halves, and of the top and bottom halves
 *     (a bias field tilts them; heads are roughly symmetric), and inhomogeneity: the spread (standard deviation) of
 *     log foreground medians of 4x4 blocks of each slice relative to the slice's foreground median;</li>
 * <li>logScale: log10 of the normalising scale itself (the foreground's 99th percentile in rescaled units): a
 *     site's gain and windowing, which the normalised features deliberately ignore.</li>
 * </ul>
 * Cost is bounded: at most {@link #MAX_SAMPLES} pixels per slice are visited (a regular grid).
 */
public final class ImageStatistics {
    public static final List<String> NAMES = List.of("fgFraction", "p05", "p25", "p50", "p75", "p95",
            "h0", "h1", "h2", "h3", "h4", "h5", "h6", "h7",
            "noiseBg", "noiseFg", "zeroBg", "sharpness", "localContrast", "shadingLR", "shadingTB", "inhomogeneity", "logScale");
    /**
     * The features the drift detector tests (a subset of {@link #NAMES}, chosen on lgg-flair: docs/drift.md says how and what that
     * costs). The others are computed and kept for inspection and the benchmark.
     */
    public static final List<String> DETECTOR_NAMES = List.of("fgFraction", "p05", "p25", "noiseFg", "localContrast", "shadingLR", "shadingTB",
            "zeroBg");
    private static final int[] DETECTOR_INDEX = DETECTOR_NAMES.stream().mapToInt(NAMES::indexOf).toArray();
    static final int MAX_SAMPLES = 65536;
    private static final int BINS = 8;

    private ImageStatistics() {
    }

    /** One decoded slice: rescaled values, row by row. */
    public record Slice(float[] values, int width, int height) {
        public Slice {
            if (values.length != width * height) {
                throw new IllegalArgumentException("slice has " + values.length + " values, expected " + width + "x" + height);
            }
        }
    }

    /** The feature vector (order of {@link #NAMES}) of the given slices; empty input or a blank image gives NaNs. */
    public static double[] of(List<Slice> slices) {
        double[] out = new double[NAMES.size()];
        Arrays.fill(out, Double.NaN);
        if (slices.isEmpty()) return out;
        // Pass 1: the scale (99th percentile of everything, then of the foreground above 10% of it).
        FloatList all = new FloatList();
        for (Slice s : slices) forEachSample(s, i -> all.add(s.values[i]));
        float min = all.min();
        float p99all = all.percentile(0.99) - min;
        if (!(p99all > 0)) return out;
        float threshold = min + 0.1f * p99all;
        FloatList fgAll = new FloatList();
        for (int i = 0; i < all.size; i++) if (all.data[i] > threshold) fgAll.add(all.data[i]);
        float scale = fgAll.percentile(0.99) - min;
        if (!(scale > 0)) return out;

        FloatList fg = new FloatList();
        FloatList lapFg = new FloatList();
        FloatList gradFg = new FloatList();
        FloatList lapBg = new FloatList();
        double contrastSum = 0;
        long bg = 0, zeroBg = 0, samples = 0;
        double left = 0, right = 0, top = 0, bottom = 0;
        long nLeft = 0, nRight = 0, nTop = 0, nBottom = 0;
        for (Slice s : slices) {
            int w = s.width, h = s.height;
            float[] v = s.values;
            int step = step(s);
            for (int y = 1; y < h - 1; y += step) {
                for (int x = 1; x < w - 1; x += step) {
                    int i = y * w + x;
                    samples++;
                    float c = (v[i] - min) / scale;
                    float l = (v[i - 1] - min) / scale, r = (v[i + 1] - min) / scale;
                    float u = (v[i - w] - min) / scale, d = (v[i + w] - min) / scale;
                    float lap = 4 * c - l - r - u - d;
                    boolean inside = v[i] > threshold;
                    boolean allInside = inside && v[i - 1] > threshold && v[i + 1] > threshold && v[i - w] > threshold && v[i + w] > threshold;
                    boolean allOutside = !inside && v[i - 1] <= threshold && v[i + 1] <= threshold && v[i - w] <= threshold && v[i + w] <= threshold;
                    if (inside) {
                        fg.add(c);
                        if (x < w / 2) { left += c; nLeft++; } else { right += c; nRight++; }
                        if (y < h / 2) { top += c; nTop++; } else { bottom += c; nBottom++; }
                    } else {
                        bg++;
                        if (v[i] == min) zeroBg++;
                    }
                    if (allInside) {
                        lapFg.add(Math.abs(lap));
                        gradFg.add(Math.abs(r - l) + Math.abs(d - u));
                        contrastSum += Math.abs(lap) / 4;
                    } else if (allOutside) {
                        lapBg.add(Math.abs(lap));
                    }
                }
            }
        }
        if (fg.size == 0) return out;
        int k = 0;
        out[k++] = (double) fg.size / samples;
        for (double q : new double[] {0.05, 0.25, 0.50, 0.75, 0.95}) out[k++] = fg.percentile(q);
        double[] hist = new double[BINS];
        for (int i = 0; i < fg.size; i++) hist[Math.min(BINS - 1, (int) (fg.data[i] * BINS))]++;
        for (double b : hist) out[k++] = b / fg.size;
        out[k++] = Math.log10(lapBg.size == 0 ? 1e-4 : lapBg.percentile(0.5) + 1e-4);
        out[k++] = Math.log10(lapFg.size == 0 ? 1e-4 : lapFg.percentile(0.5) + 1e-4);
        out[k++] = bg == 0 ? 0 : (double) zeroBg / bg;
        double g = gradFg.size == 0 ? 0 : gradFg.percentile(0.5);
        out[k++] = g > 0 ? Math.log(lapFg.percentile(0.5) / g + 1e-3) : 0;
        out[k++] = lapFg.size == 0 ? 0 : contrastSum / lapFg.size;
        out[k++] = logRatio(left, nLeft, right, nRight);
        out[k++] = logRatio(top, nTop, bottom, nBottom);
        out[k++] = inhomogeneity(slices, min, threshold);
        out[k++] = Math.log10(scale);
        return out;
    }

    /** The detector's features ({@link #DETECTOR_NAMES}) of a full vector; null stays null. */
    public static double[] detectorFeatures(double[] all) {
        if (all == null) return null;
        double[] out = new double[DETECTOR_INDEX.length];
        for (int i = 0; i < out.length; i++) out[i] = all[DETECTOR_INDEX[i]];
        return out;
    }

    /** Standard deviation of log(block foreground median / slice foreground median) over 4x4 blocks with >= 25% foreground. */
    private static double inhomogeneity(List<Slice> slices, float min, float threshold) {
        double sum = 0, sum2 = 0;
        int n = 0;
        for (Slice s : slices) {
            int step = step(s);
            FloatList all = new FloatList();
            FloatList[] blocks = new FloatList[16];
            int[] visited = new int[16];
            for (int b = 0; b < 16; b++) blocks[b] = new FloatList();
            for (int y = 0; y < s.height; y += step) {
                for (int x = 0; x < s.width; x += step) {
                    int b = (y * 4 / s.height) * 4 + x * 4 / s.width;
                    visited[b]++;
                    float v = s.values[y * s.width + x];
                    if (v > threshold) {
                        blocks[b].add(v - min);
                        all.add(v - min);
                    }
                }
            }
            if (all.size == 0) continue;
            double median = all.percentile(0.5);
            for (int b = 0; b < 16; b++) {
                if (blocks[b].size < 0.25 * visited[b] || blocks[b].size < 8) continue;
                double l = Math.log(blocks[b].percentile(0.5) / median);
                sum += l;
                sum2 += l * l;
                n++;
            }
        }
        if (n < 2) return 0;
        double mean = sum / n;
        return Math.sqrt(Math.max(0, sum2 / n - mean * mean));
    }

    private static double logRatio(double a, long na, double b, long nb) {
        if (na == 0 || nb == 0 || a <= 0 || b <= 0) return 0;
        return Math.log((a / na) / (b / nb));
    }

    private static int step(Slice s) {
        return Math.max(1, (int) Math.ceil(Math.sqrt((double) s.width * s.height / MAX_SAMPLES)));
    }

    private static void forEachSample(Slice s, java.util.function.IntConsumer c) {
        int step = step(s);
        for (int y = 1; y < s.height - 1; y += step) for (int x = 1; x < s.width - 1; x += step) c.accept(y * s.width + x);
    }

    /** A growable float array with a percentile by partial sort. */
    private static final class FloatList {
        float[] data = new float[1024];
        int size;
        private boolean sorted;

        void add(float f) {
            if (size == data.length) data = Arrays.copyOf(data, size * 2);
            data[size++] = f;
            sorted = false;
        }

        float min() {
            float m = Float.POSITIVE_INFINITY;
            for (int i = 0; i < size; i++) m = Math.min(m, data[i]);
            return m;
        }

        float percentile(double q) {
            if (!sorted) {
                Arrays.sort(data, 0, size);
                sorted = true;
            }
            return data[Math.min(size - 1, (int) Math.floor(q * (size - 1)))];
        }
    }
}
