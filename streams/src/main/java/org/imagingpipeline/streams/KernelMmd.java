package org.imagingpipeline.streams;

import java.util.List;
import java.util.SplittableRandom;

/**
 * Kernel two-sample test: squared maximum mean discrepancy (biased V-statistic) with a Gaussian kernel whose
 * bandwidth is the median pairwise distance of the pooled sample (median heuristic), and a permutation p-value
 * {@code (1 + #{permuted MMD^2 >= observed}) / (1 + permutations)}. Features are first standardised with the
 * reference sample's mean and standard deviation (a feature constant in the reference gets a unit scale), so no
 * feature dominates by its units. Permutations come from a seeded generator: the same inputs and seed give the
 * same p-value.
 */
public final class KernelMmd {
    private KernelMmd() {
    }

    /** The outcome: MMD^2, its permutation p-value, the bandwidth used and the sample sizes. */
    public record Result(double statistic, double pValue, double bandwidth, int n, int referenceSize, int permutations) {
    }

    public static Result test(List<double[]> sample, List<double[]> reference, int permutations, long seed) {
        if (sample.isEmpty() || reference.isEmpty()) throw new IllegalArgumentException("both samples must be non-empty");
        int m = sample.size(), n = reference.size(), total = m + n;
        int d = reference.get(0).length;
        double[] mean = new double[d], sd = new double[d];
        for (double[] r : reference) for (int j = 0; j < d; j++) mean[j] += r[j] / n;
        for (double[] r : reference) for (int j = 0; j < d; j++) sd[j] += (r[j] - mean[j]) * (r[j] - mean[j]) / Math.max(1, n - 1);
        for (int j = 0; j < d; j++) sd[j] = sd[j] > 1e-12 ? Math.sqrt(sd[j]) : 1;
        double[][] z = new double[total][d];
        for (int i = 0; i < total; i++) {
            double[] x = i < m ? sample.get(i) : reference.get(i - m);
            if (x.length != d) throw new IllegalArgumentException("feature vectors differ in length: " + x.length + " vs " + d);
            for (int j = 0; j < d; j++) z[i][j] = Double.isFinite(x[j]) ? (x[j] - mean[j]) / sd[j] : 0;
        }
        double[][] dist2 = new double[total][total];
        double[] pairs = new double[total * (total - 1) / 2];
        int p = 0;
        for (int i = 0; i < total; i++) {
            for (int k = i + 1; k < total; k++) {
                double s = 0;
                for (int j = 0; j < d; j++) s += (z[i][j] - z[k][j]) * (z[i][j] - z[k][j]);
                dist2[i][k] = dist2[k][i] = s;
                pairs[p++] = s;
            }
        }
        java.util.Arrays.sort(pairs);
        double median2 = pairs.length == 0 ? 1 : pairs[pairs.length / 2];
        if (!(median2 > 0)) median2 = 1;
        double[][] kernel = new double[total][total];
        for (int i = 0; i < total; i++) for (int k = 0; k < total; k++) kernel[i][k] = Math.exp(-dist2[i][k] / (2 * median2));

        int[] idx = new int[total];
        for (int i = 0; i < total; i++) idx[i] = i;
        double observed = mmd2(kernel, idx, m);
        SplittableRandom rnd = new SplittableRandom(seed);
        int atLeast = 0;
        for (int t = 0; t < permutations; t++) {
            for (int i = total - 1; i > 0; i--) { // Fisher-Yates
                int r = rnd.nextInt(i + 1);
                int tmp = idx[i];
                idx[i] = idx[r];
                idx[r] = tmp;
            }
            if (mmd2(kernel, idx, m) >= observed - 1e-12) atLeast++;
        }
        return new Result(observed, (1.0 + atLeast) / (1.0 + permutations), Math.sqrt(median2), m, n, permutations);
    }

    /** Biased MMD^2 of the first m indices against the rest. */
    private static double mmd2(double[][] k, int[] idx, int m) {
        int n = idx.length - m;
        double xx = 0, yy = 0, xy = 0;
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < m; j++) xx += k[idx[i]][idx[j]];
            for (int j = m; j < idx.length; j++) xy += k[idx[i]][idx[j]];
        }
        for (int i = m; i < idx.length; i++) for (int j = m; j < idx.length; j++) yy += k[idx[i]][idx[j]];
        return xx / ((double) m * m) + yy / ((double) n * n) - 2 * xy / ((double) m * n);
    }
}
