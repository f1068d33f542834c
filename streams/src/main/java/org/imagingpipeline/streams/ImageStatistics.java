package org.imagingpipeline.streams;

import java.util.Arrays;
import java.util.List;

/**
 * The image part of a series' domain: statistics of a few decoded slices (values after rescale slope/intercept) in
 * five families, one per kind of acquisition shift (docs/drift.md has the table). Intensities are first put on a
 * normalised scale: {@code x = (value - min) / scale}, scale = the 99th percentile of the foreground above the minimum
 * (foreground = above 10% of the 99th percentile of everything), so a scanner's arbitrary gain does not matter but the
 * shape of its intensity curve, its noise, its resolution and its shading do.
 * <ul>
 * <li><b>contrast</b>: foreground fraction and quantile landmarks q05 ... q95 of x; the same landmarks after the
 *     segmentation model's own in-graph normalisation (per-slice z-score over the whole slice), and the background's
 *     level in those units;</li>
 * <li><b>resolution</b>: fine-detail energy per axis relative to coarser detail (mean |lag-1 difference| over mean
 *     |lag-2 difference|, and lag 2 over lag 4: a cheap spectral fall-off), the anisotropy of fine detail (x over y),
 *     and the Laplacian relative to the gradient, all in the foreground's interior;</li>
 * <li><b>noise</b>: the noise floor of the background (mean, spread, share exactly at the minimum, mean |Laplacian|)
 *     and the local standard deviation of 3x3 neighbourhoods in the foreground's flattest regions (10th percentile)
 *     and overall (median);</li>
 * <li><b>field</b>: a least-squares fit of the <em>gradient</em> of log x in homogeneous tissue (both neighbour log
 *     ratios below {@link #GRAD_LIMIT}: there the gradient is the field's, not the anatomy's) to the gradient of a
 *     second-order polynomial b1 u + b2 v + b3 uv + b4 u^2 + b5 v^2 of the image coordinates u, v in [-1, 1], pooled
 *     over the slices: b1, b2, b3, b4 + b5 and b4 - b5 (a smooth multiplicative field adds to them), and the
 *     left/right and top/bottom log ratios of the foreground means;</li>
 * <li><b>scale</b>: log10 of the normalising scale (gain and windowing, deliberately not tested).</li>
 * </ul>
 * Cost is bounded: slices larger than {@link #MAX_SAMPLES} pixels are visited on a regular grid; quantiles come from
 * histograms, nothing is sorted.
 */
public final class ImageStatistics {

    /** One feature: its name, its family and what it measures (for evidence and docs). */
    public record Feature(String name, String family, String meaning) {
    }

    public static final List<Feature> FEATURES = List.of(
            new Feature("fgFraction", "contrast", "share of pixels above the foreground threshold"),
            new Feature("q05", "contrast", "foreground 5th percentile (normalised)"),
            new Feature("q10", "contrast", "foreground 10th percentile (normalised)"),
            new Feature("q25", "contrast", "foreground 25th percentile (normalised)"),
            new Feature("q50", "contrast", "foreground median (normalised)"),
            new Feature("q75", "contrast", "foreground 75th percentile (normalised)"),
            new Feature("q90", "contrast", "foreground 90th percentile (normalised)"),
            new Feature("zq10", "contrast", "foreground 10th percentile after the model's per-slice z-score"),
            new Feature("zq25", "contrast", "foreground 25th percentile after the model's per-slice z-score"),
            new Feature("zq50", "contrast", "foreground median after the model's per-slice z-score"),
            new Feature("zq75", "contrast", "foreground 75th percentile after the model's per-slice z-score"),
            new Feature("zq90", "contrast", "foreground 90th percentile after the model's per-slice z-score"),
            new Feature("zBg", "contrast", "background mean after the model's per-slice z-score"),
            new Feature("fine1x", "resolution", "log mean |lag-1 difference| / mean |lag-2 difference|, along x (rows)"),
            new Feature("fine1y", "resolution", "log mean |lag-1 difference| / mean |lag-2 difference|, along y (columns)"),
            new Feature("fine2x", "resolution", "log mean |lag-2 difference| / mean |lag-4 difference|, along x"),
            new Feature("fine2y", "resolution", "log mean |lag-2 difference| / mean |lag-4 difference|, along y"),
            new Feature("anisotropy", "resolution", "log mean |lag-1 difference| along x / along y"),
            new Feature("lapRatio", "resolution", "log mean |Laplacian| / mean |lag-2 gradient|"),
            new Feature("gradient", "resolution", "log10 mean |lag-2 gradient| (normalised intensities)"),
            new Feature("bgMean", "noise", "background mean (normalised): the noise floor of magnitude images"),
            new Feature("bgSd", "noise", "log10 background standard deviation (normalised)"),
            new Feature("bgZero", "noise", "share of background pixels exactly at the minimum"),
            new Feature("bgLap", "noise", "log10 mean |Laplacian| in the background"),
            new Feature("flatSd", "noise", "log10 10th percentile of the 3x3 local standard deviation in the foreground"),
            new Feature("localSd", "noise", "log10 median 3x3 local standard deviation in the foreground"),
            new Feature("fieldU", "field", "left-right slope of log intensity over the tissue band"),
            new Feature("fieldV", "field", "top-bottom slope of log intensity over the tissue band"),
            new Feature("fieldUV", "field", "saddle (uv) term of the log-intensity fit"),
            new Feature("fieldR", "field", "radial (u^2 + v^2) term of the log-intensity fit"),
            new Feature("fieldA", "field", "u^2 - v^2 term of the log-intensity fit"),
            new Feature("shadingLR", "field", "log ratio of foreground means, left / right half"),
            new Feature("shadingTB", "field", "log ratio of foreground means, top / bottom half"),
            new Feature("logScale", "scale", "log10 of the normalising scale (gain, windowing; not tested)"));
    public static final List<String> NAMES = FEATURES.stream().map(Feature::name).toList();

    /**
     * The features the drift detector tests: all but logScale (gain and windowing are a site's habit, not a shift the
     * model sees: it normalises them away) and bgZero (bimodal among one site's own patients: zero-filled or not). Chosen
     * on the tuning half of the shift suite (docs/drift.md).
     */
    public static final List<String> DETECTOR_NAMES = NAMES.stream().filter(n -> !n.equals("bgZero") && !n.equals("logScale")).toList();
    private static final int[] DETECTOR_INDEX = DETECTOR_NAMES.stream().mapToInt(NAMES::indexOf).toArray();
    static final int MAX_SAMPLES = 65536;
    private static final int BINS = 4096;
    private static final double[] LANDMARKS = {0.10, 0.25, 0.50, 0.75, 0.90};
    /** A pixel is in homogeneous tissue (its gradient is the field's) when |log(right/left)| and |log(below/above)| are below this. */
    private static final double GRAD_LIMIT = 0.15;

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

    public static int index(String name) {
        int i = NAMES.indexOf(name);
        if (i < 0) throw new IllegalArgumentException("no feature " + name);
        return i;
    }

    /** The family of a feature name. */
    public static String family(String name) {
        return FEATURES.get(index(name)).family();
    }

    /** The feature vector (order of {@link #NAMES}) of the given slices; empty input or a blank image gives NaNs. */
    public static double[] of(List<Slice> slices) {
        double[] out = new double[NAMES.size()];
        Arrays.fill(out, Double.NaN);
        if (slices.isEmpty()) return out;
        // The scale: min, 99th percentile of everything, foreground threshold, 99th percentile of the foreground.
        float min = Float.POSITIVE_INFINITY, max = Float.NEGATIVE_INFINITY;
        for (Slice s : slices) {
            int step = step(s);
            for (int y = 0; y < s.height; y += step) {
                for (int x = 0, o = y * s.width; x < s.width; x += step) {
                    float v = s.values[o + x];
                    if (v < min) min = v;
                    if (v > max) max = v;
                }
            }
        }
        if (!(max > min)) return out;
        Histogram all = new Histogram(min, max);
        for (Slice s : slices) {
            int step = step(s);
            for (int y = 0; y < s.height; y += step) for (int x = 0, o = y * s.width; x < s.width; x += step) all.add(s.values[o + x]);
        }
        float threshold = (float) (min + 0.1 * (all.quantile(0.99) - min));
        Histogram fg = new Histogram(min, max);
        for (Slice s : slices) {
            int step = step(s);
            for (int y = 0; y < s.height; y += step) {
                for (int x = 0, o = y * s.width; x < s.width; x += step) {
                    float v = s.values[o + x];
                    if (v > threshold) fg.add(v);
                }
            }
        }
        if (fg.count == 0) return out;
        double scale = fg.quantile(0.99) - min;
        if (!(scale > 0)) return out;

        Accumulator a = new Accumulator();
        for (Slice s : slices) a.slice(s, min, scale, (threshold - min) / scale);
        if (a.fg == 0) return out;

        int k = 0;
        out[k++] = (double) a.fg / a.samples;
        out[k++] = (fg.quantile(0.05) - min) / scale;
        for (double q : LANDMARKS) out[k++] = (fg.quantile(q) - min) / scale;
        for (int j = 0; j < LANDMARKS.length; j++) out[k++] = a.zq[j] / a.slicesWithFg;
        out[k++] = a.zBg / a.slicesWithFg;
        out[k++] = logRatio(a.d1x, a.d2x);
        out[k++] = logRatio(a.d1y, a.d2y);
        out[k++] = logRatio(a.d2x, a.d4x);
        out[k++] = logRatio(a.d2y, a.d4y);
        out[k++] = logRatio(a.d1x, a.d1y);
        out[k++] = logRatio(a.lap, a.d2x + a.d2y);
        out[k++] = Math.log10((a.d2x + a.d2y) / Math.max(1, a.interior) + 1e-6);
        double bgMean = a.bgN == 0 ? 0 : a.bgSum / a.bgN;
        out[k++] = bgMean;
        out[k++] = Math.log10(Math.sqrt(a.bgN == 0 ? 0 : Math.max(0, a.bgSum2 / a.bgN - bgMean * bgMean)) + 1e-4);
        out[k++] = a.bgAll == 0 ? 0 : (double) a.bgAtMin / a.bgAll;
        out[k++] = Math.log10((a.bgN == 0 ? 0 : a.bgLap / a.bgN) + 1e-4);
        out[k++] = Math.log10(a.localSd.quantile(0.10) + 1e-4);
        out[k++] = Math.log10(a.localSd.quantile(0.50) + 1e-4);
        double[] field = a.field();
        out[k++] = field[0];
        out[k++] = field[1];
        out[k++] = field[2];
        out[k++] = field[3] + field[4];
        out[k++] = field[3] - field[4];
        out[k++] = a.nLeft == 0 || a.nRight == 0 ? 0 : logRatio(a.left / a.nLeft, a.right / a.nRight);
        out[k++] = a.nTop == 0 || a.nBottom == 0 ? 0 : logRatio(a.top / a.nTop, a.bottom / a.nBottom);
        out[k++] = Math.log10(scale);
        if (k != out.length) throw new AssertionError(k);
        return out;
    }

    /** The detector's features ({@link #DETECTOR_NAMES}) of a full vector; null stays null. */
    public static double[] detectorFeatures(double[] all) {
        if (all == null) return null;
        double[] out = new double[DETECTOR_INDEX.length];
        for (int i = 0; i < out.length; i++) out[i] = all[DETECTOR_INDEX[i]];
        return out;
    }

    private static double logRatio(double a, double b) {
        return a > 0 && b > 0 ? Math.log(a / b) : 0;
    }

    private static int step(Slice s) {
        return Math.max(1, (int) Math.ceil(Math.sqrt((double) s.width * s.height / MAX_SAMPLES)));
    }

    /** Per-slice sums over one pass (normalised intensities x). */
    private static final class Accumulator {
        long samples, fg, interior, bgN, bgAll, bgAtMin, nLeft, nRight, nTop, nBottom;
        int slicesWithFg;
        double d1x, d2x, d4x, d1y, d2y, d4y, lap, bgSum, bgSum2, bgLap, left, right, top, bottom, zBg;
        final double[] zq = new double[LANDMARKS.length];
        final Histogram localSd = new Histogram(0, 0.5f);
        /** Normal equations of the gradient-domain field fit (5 x 5 upper triangle, packed by rows), pooled over slices. */
        final double[] ata = new double[15];
        final double[] aty = new double[5];
        long band;

        void slice(Slice s, float min, double scale, double t) {
            int w = s.width, h = s.height, step = step(s);
            float[] raw = s.values;
            // The slice on the normalised scale, sampled on the grid (step 1 for <= 256 x 256).
            int gw = (w + step - 1) / step, gh = (h + step - 1) / step;
            float[] x = new float[gw * gh];
            double sum = 0, sum2 = 0;
            for (int gy = 0; gy < gh; gy++) {
                for (int gx = 0; gx < gw; gx++) {
                    float v = (float) ((raw[gy * step * w + gx * step] - min) / scale);
                    x[gy * gw + gx] = v;
                    sum += v;
                    sum2 += (double) v * v;
                }
            }
            int n = gw * gh;
            double mean = sum / n, sd = Math.sqrt(Math.max(1e-12, sum2 / n - mean * mean));
            Histogram fgHist = new Histogram(0, 1.5f);
            double bgSliceSum = 0;
            long bgSliceN = 0;
            float tf = (float) t;
            for (int y = 2; y < gh - 2; y++) {
                double vv = gh > 1 ? 2.0 * y / (gh - 1) - 1 : 0;
                for (int xx = 2; xx < gw - 2; xx++) {
                    int i = y * gw + xx;
                    float c = x[i];
                    samples++;
                    boolean inside = c > tf;
                    if (inside) {
                        fg++;
                        fgHist.add(c);
                        if (xx < gw / 2) { left += c; nLeft++; } else { right += c; nRight++; }
                        if (y < gh / 2) { top += c; nTop++; } else { bottom += c; nBottom++; }
                    } else {
                        bgAll++;
                        bgSliceSum += c;
                        bgSliceN++;
                        if (c == 0f) bgAtMin++;
                    }
                    float l = x[i - 1], r = x[i + 1], u = x[i - gw], d = x[i + gw];
                    float l2 = x[i - 2], r2 = x[i + 2], u2 = x[i - 2 * gw], d2 = x[i + 2 * gw];
                    if (inside) {
                        if (l2 > tf && r2 > tf && u2 > tf && d2 > tf && l > tf && r > tf && u > tf && d > tf) {
                            interior++;
                            d1x += Math.abs(r - c);
                            d1y += Math.abs(d - c);
                            d2x += Math.abs(r - l);
                            d2y += Math.abs(d - u);
                            d4x += Math.abs(r2 - l2);
                            d4y += Math.abs(d2 - u2);
                            lap += Math.abs(4 * c - l - r - u - d);
                            float ul = x[i - gw - 1], ur = x[i - gw + 1], dl = x[i + gw - 1], dr = x[i + gw + 1];
                            double s1 = c + l + r + u + d + ul + ur + dl + dr;
                            double s2 = c * c + l * l + r * r + u * u + d * d + ul * ul + ur * ur + dl * dl + dr * dr;
                            localSd.add((float) Math.sqrt(Math.max(0, s2 / 9 - (s1 / 9) * (s1 / 9))));
                            // Gradient-domain field fit: in homogeneous tissue the log-intensity gradient is the field's.
                            double gu = Math.log(r / l) * (gw - 1) / 4, gv = Math.log(d / u) * (gh - 1) / 4;
                            if (Math.abs(gu) < GRAD_LIMIT * (gw - 1) / 4 && Math.abs(gv) < GRAD_LIMIT * (gh - 1) / 4) {
                                double uu = 2.0 * xx / (gw - 1) - 1;
                                // gu = b1 + b3 v + 2 b4 u ; gv = b2 + b3 u + 2 b5 v
                                ata[0] += 1; ata[2] += vv; ata[3] += 2 * uu;
                                ata[5] += 1; ata[6] += uu; ata[8] += 2 * vv;
                                ata[9] += vv * vv + uu * uu; ata[10] += 2 * uu * vv; ata[11] += 2 * uu * vv;
                                ata[12] += 4 * uu * uu;
                                ata[14] += 4 * vv * vv;
                                aty[0] += gu; aty[1] += gv; aty[2] += gu * vv + gv * uu; aty[3] += 2 * uu * gu; aty[4] += 2 * vv * gv;
                                band++;
                            }
                        }
                    } else if (l <= tf && r <= tf && u <= tf && d <= tf) {
                        bgN++;
                        bgSum += c;
                        bgSum2 += (double) c * c;
                        bgLap += Math.abs(4 * c - l - r - u - d);
                    }
                }
            }
            if (fgHist.count == 0) return;
            slicesWithFg++;
            for (int j = 0; j < LANDMARKS.length; j++) zq[j] += (fgHist.quantile(LANDMARKS[j]) - mean) / sd;
            zBg += bgSliceN == 0 ? (0 - mean) / sd : (bgSliceSum / bgSliceN - mean) / sd;
        }

        /** b1 .. b5 of the log field b1 u + b2 v + b3 uv + b4 u^2 + b5 v^2 (zeros when too few homogeneous pixels). */
        double[] field() {
            double[] f = band < 256 ? null : solve(ata, aty);
            return f == null ? new double[5] : f;
        }
    }

    /** Solves symmetric normal equations (upper triangle packed row by row); null when singular. */
    static double[] solve(double[] packed, double[] rhs) {
        int n = rhs.length;
        double[][] m = new double[n][n + 1];
        int p = 0;
        for (int i = 0; i < n; i++) {
            for (int j = i; j < n; j++) m[i][j] = m[j][i] = packed[p++];
            m[i][n] = rhs[i];
        }
        for (int c = 0; c < n; c++) {
            int piv = c;
            for (int r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[piv][c])) piv = r;
            if (Math.abs(m[piv][c]) < 1e-9) return null;
            double[] tmp = m[c];
            m[c] = m[piv];
            m[piv] = tmp;
            for (int r = 0; r < n; r++) {
                if (r == c) continue;
                double f = m[r][c] / m[c][c];
                if (f != 0) for (int k = c; k <= n; k++) m[r][k] -= f * m[c][k];
            }
        }
        double[] x = new double[n];
        for (int i = 0; i < n; i++) x[i] = m[i][n] / m[i][i];
        return x;
    }

    /** A fixed-range histogram (4096 bins) with interpolated quantiles; values outside the range go to the end bins. */
    static final class Histogram {
        final float lo, hi;
        final long[] bins = new long[BINS];
        long count;

        Histogram(float lo, float hi) {
            this.lo = lo;
            this.hi = hi;
        }

        void add(float v) {
            int b = (int) ((v - lo) / (hi - lo) * BINS);
            bins[b < 0 ? 0 : b >= BINS ? BINS - 1 : b]++;
            count++;
        }

        /** The q-quantile (lower bin edge plus the linear share of the bin); lo when empty. */
        double quantile(double q) {
            if (count == 0) return lo;
            double target = q * (count - 1);
            long seen = 0;
            for (int b = 0; b < BINS; b++) {
                if (bins[b] > 0 && seen + bins[b] > target) {
                    double frac = (target - seen + 0.5) / bins[b];
                    return lo + (hi - lo) * (b + Math.min(1, frac)) / BINS;
                }
                seen += bins[b];
            }
            return hi;
        }
    }
}
