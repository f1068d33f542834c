package org.imagingpipeline.retrain;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.pooling.Pool;

import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Where the anatomy is: pixels brighter than {@link #FRACTION} of a domain's 99th intensity percentile. Batch-norm
 * statistics over whole slices are dominated by the air around the head, which a scanner's noise floor changes far more
 * than the tissue; statistics over the foreground (the mask max-pooled to each layer's resolution) measure the shift of
 * the anatomy's appearance instead. The threshold is per domain (target or source), since scanners scale differently.
 */
public final class Foreground {

    public static final double FRACTION = 0.2;

    private final float threshold;

    private Foreground(float threshold) {
        this.threshold = threshold;
    }

    /** The threshold of a domain from (a sample of the pixels of) its slices. */
    public static Foreground of(List<float[]> slices) {
        int step = 7;
        int n = 0;
        for (float[] s : slices) {
            n += (s.length + step - 1) / step;
        }
        float[] v = new float[n];
        int k = 0;
        for (float[] s : slices) {
            for (int i = 0; i < s.length; i += step) {
                v[k++] = s[i];
            }
        }
        Arrays.sort(v);
        float p99 = v.length == 0 ? 0 : v[Math.min(v.length - 1, (int) (0.99 * v.length))];
        return new Foreground((float) (FRACTION * p99));
    }

    public float threshold() {
        return threshold;
    }

    /** Masks of a batch (N x 1 x H x W raw intensities) by height: H, H/2, ... (max-pooled: any anatomy in the cell). */
    public Map<Long, NDArray> pyramid(NDArray batch, int levels) {
        Map<Long, NDArray> m = new HashMap<>();
        NDArray mask = batch.gt(threshold).toType(DataType.FLOAT32, false);
        m.put(mask.getShape().get(2), mask);
        for (int i = 1; i < levels; i++) {
            mask = Pool.maxPool2d(mask, new Shape(2, 2), new Shape(2, 2), new Shape(0, 0), false);
            m.put(mask.getShape().get(2), mask);
        }
        return m;
    }
}
