package org.imagingpipeline.retrain;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The same weights and input through DJL and through the exported ONNX graph in ONNX Runtime. */
class OnnxParityTest {

    @BeforeAll
    static void djl() {
        DjlRuntime.configure(DjlRuntime.defaultCacheDir(), 2);
    }

    @Test
    void djlAndOnnxRuntimeAgreeOnRandomWeightsAndDynamicShapes(@TempDir Path dir) throws Exception {
        Random rnd = new Random(7);
        try (NDManager manager = NDManager.newBaseManager()) {
            // Non-trivial batch-norm statistics and affine parameters, so the inference form is exercised.
            UNet net = RandomNets.create(manager, 4, 3, rnd);
            Path onnx = dir.resolve("parity.onnx");
            OnnxExporter.export(net, Map.of("input_size", "0"), onnx);

            try (OrtSegmenter ort = new OrtSegmenter(onnx, 2)) {
                ParameterStore ps = new ParameterStore(manager, false);
                for (int[] nhw : new int[][] {{2, 64, 64}, {1, 48, 96}}) {
                    int n = nhw[0];
                    int h = nhw[1];
                    int w = nhw[2];
                    List<float[]> images = RandomNets.images(n, h, w, rnd);
                    float[] flat = new float[n * h * w];
                    for (int b = 0; b < n; b++) {
                        System.arraycopy(images.get(b), 0, flat, b * h * w, h * w);
                    }
                    float[] djl;
                    try (NDManager batch = manager.newSubManager()) {
                        NDArray x = batch.create(flat, new Shape(n, 1, h, w));
                        NDArray logits = net.forward(ps, new NDList(x), false).singletonOrThrow();
                        djl = ai.djl.nn.Activation.sigmoid(logits).toFloatArray();
                    }
                    float[][] ortOut = ort.probabilities(images, w, h);
                    double maxDiff = 0;
                    double spread = 0;
                    for (int b = 0; b < n; b++) {
                        assertEquals(h * w, ortOut[b].length);
                        for (int i = 0; i < h * w; i++) {
                            maxDiff = Math.max(maxDiff, Math.abs(djl[b * h * w + i] - ortOut[b][i]));
                            spread = Math.max(spread, Math.abs(ortOut[b][i] - ortOut[0][0]));
                        }
                    }
                    System.out.printf("parity %dx1x%dx%d: max abs diff %.3g%n", n, h, w, maxDiff);
                    assertTrue(spread > 1e-3, "output should vary over the image, else the test proves little");
                    assertTrue(maxDiff <= 1e-4, "DJL vs ORT max abs diff " + maxDiff);
                }
            }
        }
    }
}
