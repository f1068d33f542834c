package org.imagingpipeline.retrain;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

import java.util.Random;

/** Small U-Nets with random weights and non-trivial batch-norm statistics, for parity and round-trip tests. */
final class RandomNets {
    private RandomNets() {
    }

    static UNet create(NDManager manager, int baseFilters, int depth, Random rnd) {
        UNet net = new UNet(baseFilters, depth);
        int m = 1 << depth;
        net.initialize(manager, DataType.FLOAT32, new Shape(1, 1, m, m));
        for (var pair : net.getParameters()) {
            String name = pair.getKey();
            NDArray a = pair.getValue().getArray();
            float[] v = a.toFloatArray();
            for (int i = 0; i < v.length; i++) {
                if (name.endsWith("runningVar")) {
                    v[i] = 0.5f + rnd.nextFloat();
                } else if (name.endsWith("runningMean") || name.endsWith("beta")) {
                    v[i] = (float) rnd.nextGaussian() * 0.3f;
                } else if (name.endsWith("gamma")) {
                    v[i] = 0.5f + rnd.nextFloat();
                }
            }
            a.set(v);
        }
        return net;
    }

    static java.util.List<float[]> images(int n, int h, int w, Random rnd) {
        java.util.List<float[]> out = new java.util.ArrayList<>();
        for (int b = 0; b < n; b++) {
            float[] im = new float[h * w];
            for (int i = 0; i < im.length; i++) {
                im[i] = rnd.nextInt(256);
            }
            out.add(im);
        }
        return out;
    }
}
