package org.imagingpipeline.inference;

import ai.onnxruntime.OrtException;
import java.util.ArrayList;
import java.util.List;

/**
 * Segments a slice stack with one model: each slice resized to the model's input size, batches of slices through
 * ONNX Runtime, each probability map resized back to the source size, thresholded at 0.5, optionally cleaned up.
 */
public final class SeriesSegmenter {
    public static final float THRESHOLD = 0.5f;

    private final int batchSize;
    private final ComponentCleanup cleanup;

    public SeriesSegmenter(int batchSize, ComponentCleanup cleanup) {
        if (batchSize < 1) throw new IllegalArgumentException("inference.batch-size must be >= 1");
        this.batchSize = batchSize;
        this.cleanup = cleanup;
    }

    public Segmentation segment(SliceStack stack, LoadedModel model) throws InferenceFailure {
        int w = stack.columns();
        int h = stack.rows();
        int s = model.inputSize();
        int plane = s * s;
        List<byte[]> masks = new ArrayList<>(stack.size());
        long fg = 0;
        int withLesion = 0;
        double probSum = 0;
        double entropySum = 0;
        for (int start = 0; start < stack.size(); start += batchSize) {
            int n = Math.min(batchSize, stack.size() - start);
            float[] batch = new float[n * plane];
            for (int i = 0; i < n; i++) {
                System.arraycopy(Resampler.resize(stack.slices().get(start + i), w, h, s, s), 0, batch, i * plane, plane);
            }
            float[] probs;
            try {
                probs = model.run(batch, n);
            } catch (OrtException | RuntimeException e) {
                throw new InferenceFailure(InferenceFailure.Kind.MODEL_ERROR, "model " + model.sha256()
                        + " failed on slices " + start + ".." + (start + n - 1) + ": " + e.getMessage(), e);
            }
            for (int i = 0; i < n; i++) {
                float[] p = new float[plane];
                System.arraycopy(probs, i * plane, p, 0, plane);
                float[] back = Resampler.resize(p, s, s, w, h);
                byte[] mask = new byte[back.length];
                for (int k = 0; k < back.length; k++) {
                    float q = back[k];
                    if (q >= THRESHOLD) mask[k] = 1;
                    entropySum += entropy(q);
                }
                cleanup.apply(mask, w, h);
                long here = 0;
                for (int k = 0; k < mask.length; k++) {
                    if (mask[k] != 0) {
                        here++;
                        probSum += back[k];
                    }
                }
                fg += here;
                if (here > 0) withLesion++;
                masks.add(mask);
            }
        }
        return new Segmentation(masks, fg, withLesion, probSum, entropySum, (long) w * h * stack.size());
    }

    static double entropy(double p) {
        double q = Math.min(1 - 1e-7, Math.max(1e-7, p));
        return -(q * Math.log(q) + (1 - q) * Math.log(1 - q));
    }
}
