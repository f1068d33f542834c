package org.imagingpipeline.streams;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The drift detector's two-sample test: do the new series' features differ from a reference's? A permutation test
 * of a shrunk Hotelling (Mahalanobis) distance between the two means, on robustly standardised features.
 * <ol>
 * <li>Each feature is standardised with the median and the median absolute deviation (x 1.4826) of the pooled sample
 *     (new series and reference together) and clipped to +-{@link #CLIP}: one unusual patient cannot dominate.</li>
 * <li>The pooled covariance of those values is shrunk towards its diagonal, {@code (1 - rho) S + rho diag(S)}
 *     ({@link #SHRINKAGE}; 33 features against a few dozen series need it), and whitens them: features that vary
 *     together with anatomy (the quantile landmarks, say) count once, and a shift that moves features in a
 *     combination anatomy does not is amplified.</li>
 * <li>Statistic: the squared distance between the whitened means of the new series and of the reference.</li>
 * <li>p = (1 + #{relabellings with a statistic >= the observed one}) / (1 + permutations). Everything above is
 *     computed from the pooled sample once, so every relabelling is scored by the same function and the test is
 *     exact; with the pooled rather than the within-group covariance the statistic is (up to the shrinkage) a
 *     monotone function of the classical two-sample Hotelling T^2, so the ordering of relabellings is the same.</li>
 * </ol>
 * Evidence per feature ({@link FeatureShift}): the new series' mean against the reference median, in units and in
 * reference robust standard deviations, and a marginal permutation p-value from the same relabellings. Non-finite
 * values count as the pooled median (neutral). Permutations come from a seeded generator: the same inputs and seed
 * give the same p-value.
 */
public final class ShrunkHotelling {
    /** Standardised values are clipped to +-CLIP robust standard deviations. */
    public static final double CLIP = 4.0;
    /** Shrinkage of the pooled covariance towards its diagonal. */
    public static final double SHRINKAGE = 0.1;
    public static final String NAME = "shrunk-hotelling-permutation";

    private ShrunkHotelling() {
    }

    /**
     * One feature's movement: the new series' mean against the reference median, in the feature's units and in
     * reference robust standard deviations ({@code shift}), with its marginal permutation p-value.
     */
    public record FeatureShift(String feature, String family, double seriesMean, double referenceMedian, double referenceScale,
                               double shift, double pValue) {
    }

    /** The outcome: the statistic, its p-value, the sizes, and every feature's movement (smallest p, then largest shift, first). */
    public record Result(double statistic, double pValue, int n, int referenceSize, int permutations, List<FeatureShift> features) {
        /** The features with a marginal p-value below {@code alpha}, at least {@code atLeast} of them (the top ones). */
        public List<FeatureShift> moved(double alpha, int atLeast) {
            List<FeatureShift> out = new ArrayList<>();
            for (FeatureShift f : features) if (f.pValue() < alpha || out.size() < atLeast) out.add(f);
            return out;
        }
    }

    /** Tests {@code sample} against {@code reference}; {@code names} name the columns. */
    public static Result test(List<double[]> sample, List<double[]> reference, List<String> names, int permutations, long seed) {
        if (sample.isEmpty() || reference.isEmpty()) throw new IllegalArgumentException("both samples must be non-empty");
        int n = sample.size(), m = reference.size(), total = n + m, d = names.size();
        double[][] x = new double[total][];
        for (int i = 0; i < total; i++) {
            x[i] = i < n ? sample.get(i) : reference.get(i - n);
            if (x[i].length != d) throw new IllegalArgumentException("feature vectors have " + x[i].length + " values, expected " + d);
        }
        // Robust standardisation (pooled), clipped.
        double[][] z = new double[total][d];
        double[] refMedian = new double[d], refScale = new double[d], seriesMean = new double[d];
        double[] column = new double[total], refColumn = new double[m];
        for (int j = 0; j < d; j++) {
            for (int i = 0; i < total; i++) column[i] = x[i][j];
            double med = median(column, total);
            double scale = scale(column, total, med);
            for (int i = 0; i < total; i++) {
                double v = scale > 0 && Double.isFinite(x[i][j]) ? (x[i][j] - med) / scale : 0;
                z[i][j] = Math.max(-CLIP, Math.min(CLIP, v));
            }
            for (int i = 0; i < m; i++) refColumn[i] = x[n + i][j];
            refMedian[j] = median(refColumn, m);
            refScale[j] = scale(refColumn, m, refMedian[j]);
            double s = 0;
            int k = 0;
            for (int i = 0; i < n; i++) if (Double.isFinite(x[i][j])) { s += x[i][j]; k++; }
            seriesMean[j] = k == 0 ? Double.NaN : s / k;
        }
        double[][] w = whiten(z);
        double[] totW = new double[d], totZ = new double[d];
        for (int i = 0; i < total; i++) for (int j = 0; j < d; j++) { totW[j] += w[i][j]; totZ[j] += z[i][j]; }
        int[] idx = new int[total];
        for (int i = 0; i < total; i++) idx[i] = i;
        double[] sw = new double[d], sz = new double[d], observedZ = new double[d];
        double observed = score(w, z, idx, n, m, totW, totZ, sw, sz);
        for (int j = 0; j < d; j++) observedZ[j] = Math.abs(sz[j] / n - (totZ[j] - sz[j]) / m);
        int atLeast = 0;
        int[] marginal = new int[d];
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int t = 0; t < permutations; t++) {
            // the first n of a partial Fisher-Yates shuffle are a uniform random n-subset
            for (int i = 0; i < n; i++) {
                int r = i + rnd.nextInt(total - i);
                int tmp = idx[i];
                idx[i] = idx[r];
                idx[r] = tmp;
            }
            if (score(w, z, idx, n, m, totW, totZ, sw, sz) >= observed - 1e-9 * Math.max(1, observed)) atLeast++;
            for (int j = 0; j < d; j++) if (Math.abs(sz[j] / n - (totZ[j] - sz[j]) / m) >= observedZ[j] - 1e-12) marginal[j]++;
        }
        List<FeatureShift> features = new ArrayList<>();
        for (int j = 0; j < d; j++) {
            String name = names.get(j);
            double shift = refScale[j] > 0 ? (seriesMean[j] - refMedian[j]) / refScale[j] : 0;
            features.add(new FeatureShift(name, ImageStatistics.NAMES.contains(name) ? ImageStatistics.family(name) : "", seriesMean[j],
                    refMedian[j], refScale[j], shift, (1.0 + marginal[j]) / (1.0 + permutations)));
        }
        features.sort(Comparator.comparingDouble(FeatureShift::pValue).thenComparing(f -> -Math.abs(f.shift())));
        return new Result(observed, (1.0 + atLeast) / (1.0 + permutations), n, m, permutations, List.copyOf(features));
    }

    /** Squared distance of the whitened means of the first n indices and the rest; leaves the standardised sums of the first n in sz. */
    private static double score(double[][] w, double[][] z, int[] idx, int n, int m, double[] totW, double[] totZ, double[] sw, double[] sz) {
        Arrays.fill(sw, 0);
        Arrays.fill(sz, 0);
        int d = sw.length;
        for (int i = 0; i < n; i++) {
            double[] rw = w[idx[i]], rz = z[idx[i]];
            for (int j = 0; j < d; j++) {
                sw[j] += rw[j];
                sz[j] += rz[j];
            }
        }
        double s = 0;
        for (int j = 0; j < d; j++) {
            double diff = sw[j] / n - (totW[j] - sw[j]) / m;
            s += diff * diff;
        }
        return s;
    }

    /** Centres z and multiplies by the inverse Cholesky factor of its shrunk covariance: rows whose covariance is the identity. */
    static double[][] whiten(double[][] z) {
        int total = z.length, d = z[0].length;
        double[] mean = new double[d];
        for (double[] r : z) for (int j = 0; j < d; j++) mean[j] += r[j] / total;
        double[][] c = new double[total][d];
        for (int i = 0; i < total; i++) for (int j = 0; j < d; j++) c[i][j] = z[i][j] - mean[j];
        double[][] s = new double[d][d];
        for (double[] r : c) for (int a = 0; a < d; a++) for (int b = a; b < d; b++) s[a][b] += r[a] * r[b];
        for (int a = 0; a < d; a++) {
            for (int b = a; b < d; b++) {
                double v = s[a][b] / Math.max(1, total - 1) * (a == b ? 1 : 1 - SHRINKAGE);
                s[a][b] = s[b][a] = v;
            }
            // a feature constant in the pooled sample: unit variance (its values are all 0 and stay 0)
            if (s[a][a] < 1e-9) s[a][a] = 1;
        }
        double[][] l = cholesky(s);
        double[][] out = new double[total][d];
        for (int i = 0; i < total; i++) {
            // forward substitution: L y = c_i
            for (int j = 0; j < d; j++) {
                double v = c[i][j];
                for (int k = 0; k < j; k++) v -= l[j][k] * out[i][k];
                out[i][j] = v / l[j][j];
            }
        }
        return out;
    }

    /** Lower Cholesky factor of a symmetric positive-definite matrix (the shrunk covariance always is, its diagonal being >= rho of itself). */
    static double[][] cholesky(double[][] a) {
        int d = a.length;
        double[][] l = new double[d][d];
        for (int i = 0; i < d; i++) {
            for (int j = 0; j <= i; j++) {
                double s = a[i][j];
                for (int k = 0; k < j; k++) s -= l[i][k] * l[j][k];
                if (i == j) l[i][i] = Math.sqrt(Math.max(s, 1e-12 * a[i][i]));
                else l[i][j] = s / l[j][j];
            }
        }
        return l;
    }

    /**
     * The smallest p-value an exact permutation test of n new series against m reference series can give:
     * 1 / C(n + m, n). A reference too small for alpha cannot reject anything.
     */
    public static double smallestP(int n, int m) {
        double logC = 0;
        for (int i = 1; i <= n; i++) logC += Math.log(m + i) - Math.log(i);
        return Math.exp(-logC);
    }

    private static double median(double[] v, int len) {
        double[] c = new double[len];
        int k = 0;
        for (int i = 0; i < len; i++) if (Double.isFinite(v[i])) c[k++] = v[i];
        if (k == 0) return 0;
        Arrays.sort(c, 0, k);
        return k % 2 == 1 ? c[k / 2] : (c[k / 2 - 1] + c[k / 2]) / 2;
    }

    /** 1.4826 x MAD; when more than half the values are equal, 1.2533 x the mean absolute deviation; 0 for a constant. */
    private static double scale(double[] v, int len, double med) {
        double[] dev = new double[len];
        double sum = 0;
        int k = 0;
        for (int i = 0; i < len; i++) {
            if (!Double.isFinite(v[i])) continue;
            dev[k] = Math.abs(v[i] - med);
            sum += dev[k++];
        }
        if (k == 0) return 0;
        double mad = 1.4826 * median(dev, k);
        if (mad > 1e-12) return mad;
        double meanAbs = 1.2533 * sum / k;
        return meanAbs > 1e-12 ? meanAbs : 0;
    }
}
