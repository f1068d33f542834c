package org.imagingpipeline.retrain;

import ai.djl.ndarray.NDArray;

/**
 * Per-channel population mean and variance of a batch norm's input, accumulated over many batches (sums of x
 * and x^2 over batch, height and width). AdaBN replaces a layer's running statistics with these.
 */
public final class BnStatistics {

    private double[] sum;
    private double[] sumSq;
    private long count;

    /** Adds one N x C x H x W array. */
    public void add(NDArray x) {
        long[] s = x.getShape().getShape();
        float[] m = x.sum(new int[] {3}).sum(new int[] {2}).sum(new int[] {0}).toFloatArray();
        float[] q = x.square().sum(new int[] {3}).sum(new int[] {2}).sum(new int[] {0}).toFloatArray();
        if (sum == null) {
            sum = new double[m.length];
            sumSq = new double[m.length];
        }
        for (int c = 0; c < m.length; c++) {
            sum[c] += m[c];
            sumSq[c] += q[c];
        }
        count += s[0] * s[2] * s[3];
    }

    public long count() {
        return count;
    }

    public float[] mean() {
        float[] out = new float[sum.length];
        for (int c = 0; c < out.length; c++) {
            out[c] = (float) (sum[c] / count);
        }
        return out;
    }

    /** Population variance, never negative. */
    public float[] variance() {
        float[] out = new float[sum.length];
        for (int c = 0; c < out.length; c++) {
            double mu = sum[c] / count;
            out[c] = (float) Math.max(0, sumSq[c] / count - mu * mu);
        }
        return out;
    }
}
