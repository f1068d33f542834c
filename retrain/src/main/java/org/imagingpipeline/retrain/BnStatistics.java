package org.imagingpipeline.retrain;

import ai.djl.ndarray.NDArray;

/**
 * Per-channel population mean and variance of a batch norm's input, accumulated over many batches. Each batch
 * contributes its own mean and centred variance (computed on the array), combined in double precision with the
 * parallel formula of Chan et al.; E[x^2] - E[x]^2 from float sums loses the variance of channels whose mean is
 * large against their spread. AdaBN replaces a layer's running statistics with these.
 */
public final class BnStatistics {

    private double[] mean;
    private double[] m2;
    private long count;

    /** Adds one N x C x H x W array. */
    public void add(NDArray x) {
        long[] s = x.getShape().getShape();
        long n = s[0] * s[2] * s[3];
        NDArray mu = x.mean(new int[] {3}, true).mean(new int[] {2}, true).mean(new int[] {0}, true);
        float[] m = mu.toFloatArray();
        float[] v = x.sub(mu).square().mean(new int[] {3}).mean(new int[] {2}).mean(new int[] {0}).toFloatArray();
        if (mean == null) {
            mean = new double[m.length];
            m2 = new double[m.length];
        }
        long total = count + n;
        for (int c = 0; c < m.length; c++) {
            double delta = m[c] - mean[c];
            mean[c] += delta * n / total;
            m2[c] += (double) v[c] * n + delta * delta * count * n / total;
        }
        count = total;
    }

    /**
     * Adds one N x C x H x W array counting only the pixels where {@code mask} (N x 1 x H x W, 0 or 1) is 1; a batch
     * without any such pixel adds nothing.
     */
    public void add(NDArray x, NDArray mask) {
        if (mask == null) {
            add(x);
            return;
        }
        double n = mask.sum().getFloat();
        if (n < 1) {
            return;
        }
        NDArray s = x.mul(mask);
        float[] m = s.sum(new int[] {3}, true).sum(new int[] {2}, true).sum(new int[] {0}, true).div((float) n).toFloatArray();
        NDArray mu = x.getManager().create(m, new ai.djl.ndarray.types.Shape(1, m.length, 1, 1));
        float[] v = x.sub(mu).square().mul(mask).sum(new int[] {3}).sum(new int[] {2}).sum(new int[] {0}).div((float) n).toFloatArray();
        if (mean == null) {
            mean = new double[m.length];
            m2 = new double[m.length];
        }
        double total = count + n;
        for (int c = 0; c < m.length; c++) {
            double delta = m[c] - mean[c];
            mean[c] += delta * n / total;
            m2[c] += (double) v[c] * n + delta * delta * count * n / total;
        }
        count = (long) total;
    }

    public long count() {
        return count;
    }

    public float[] mean() {
        float[] out = new float[mean.length];
        for (int c = 0; c < out.length; c++) {
            out[c] = (float) mean[c];
        }
        return out;
    }

    /** Population variance, never negative. */
    public float[] variance() {
        float[] out = new float[mean.length];
        for (int c = 0; c < out.length; c++) {
            out[c] = (float) Math.max(0, m2[c] / count);
        }
        return out;
    }
}
