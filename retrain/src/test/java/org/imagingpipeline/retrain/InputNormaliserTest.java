package org.imagingpipeline.retrain;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.training.ParameterStore;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The adapted models' input normaliser: the identity when new, and the same in DJL, in the ONNX graph and after import. */
class InputNormaliserTest {

    @BeforeAll
    static void djl() {
        DjlRuntime.configure(DjlRuntime.defaultCacheDir(), 2);
    }

    @Test
    void aNewNormaliserLeavesTheParentsOutputsExactlyAsTheyWere(@TempDir Path dir) throws Exception {
        Random rnd = new Random(5);
        Path parent = dir.resolve("parent.onnx");
        try (NDManager m = NDManager.newBaseManager()) {
            OnnxExporter.export(RandomNets.create(m, 4, 3, rnd), Map.of("input_size", "32"), parent);
        }
        Path withModule = dir.resolve("with-normaliser.onnx");
        try (NDManager m = NDManager.newBaseManager()) {
            OnnxImporter.Imported imp = OnnxImporter.read(parent, m, true);
            assertTrue(imp.net().normaliser() != null);
            OnnxExporter.export(imp.net(), imp.metadata(), withModule);
        }
        List<float[]> images = RandomNets.images(2, 32, 32, rnd);
        try (OrtSegmenter a = new OrtSegmenter(parent, 1); OrtSegmenter b = new OrtSegmenter(withModule, 1)) {
            float[][] p = a.probabilities(images, 32, 32);
            float[][] q = b.probabilities(images, 32, 32);
            for (int k = 0; k < p.length; k++) {
                assertArrayEquals(p[k], q[k], 1e-6f);
            }
            assertTrue(b.metadata().containsKey(OnnxExporter.INPUT_NORMALISER));
            assertFalse(a.metadata().containsKey(OnnxExporter.INPUT_NORMALISER));
        }
    }

    @Test
    void aTrainedNormaliserIsTheSameInDjlAndOnnxRuntimeAndSurvivesTheRoundTrip(@TempDir Path dir) throws Exception {
        Random rnd = new Random(9);
        Path first = dir.resolve("first.onnx");
        Path second = dir.resolve("second.onnx");
        List<float[]> images = RandomNets.images(2, 32, 32, rnd);
        float[] djl;
        try (NDManager m = NDManager.newBaseManager()) {
            Path parent = dir.resolve("parent.onnx");
            OnnxExporter.export(RandomNets.create(m, 4, 3, rnd), Map.of("input_size", "32"), parent);
            UNet net = OnnxImporter.read(parent, m, true).net();
            // give the module non-trivial weights, as adaptation would
            for (var pair : net.getParameters()) {
                if (pair.getKey().contains("normaliser")) {
                    NDArray a = pair.getValue().getArray();
                    float[] v = a.toFloatArray();
                    for (int i = 0; i < v.length; i++) {
                        v[i] = (float) rnd.nextGaussian() * 0.2f;
                    }
                    a.set(v);
                }
            }
            OnnxExporter.export(net, Map.of("input_size", "32"), first);
            float[] x = new float[2 * 32 * 32];
            System.arraycopy(images.get(0), 0, x, 0, 1024);
            System.arraycopy(images.get(1), 0, x, 1024, 1024);
            NDArray logits = net.forward(new ParameterStore(m, false), new NDList(m.create(x, new Shape(2, 1, 32, 32))), false)
                    .singletonOrThrow();
            djl = Activation.sigmoid(logits).toFloatArray();
        }
        try (NDManager m = NDManager.newBaseManager()) {
            OnnxImporter.Imported imp = OnnxImporter.read(second.resolveSibling("first.onnx"), m);
            assertTrue(imp.net().normaliser() != null, "a file with a normaliser imports with it");
            OnnxExporter.export(imp.net(), imp.metadata(), second);
        }
        assertArrayEquals(Files.readAllBytes(first), Files.readAllBytes(second), "export -> import -> export, byte for byte");
        try (OrtSegmenter ort = new OrtSegmenter(first, 1)) {
            float[][] p = ort.probabilities(images, 32, 32);
            double max = 0;
            for (int k = 0; k < 2; k++) {
                for (int i = 0; i < 1024; i++) {
                    max = Math.max(max, Math.abs(p[k][i] - djl[k * 1024 + i]));
                }
            }
            assertTrue(max < 1e-4, "DJL and ONNX Runtime agree: max difference " + max);
            double spread = 0;
            for (float v : p[0]) {
                spread = Math.max(spread, Math.abs(v - p[0][0]));
            }
            assertTrue(spread > 1e-3, "outputs vary, else the comparison proves little");
        }
        assertEquals(Hashing.sha256Hex(first), Hashing.sha256Hex(second));
    }
}
