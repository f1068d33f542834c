package org.imagingpipeline.retrain;

import ai.djl.ndarray.NDManager;
import ai.onnx.proto.OnnxMl;
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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** export -> import -> export: the same weights, the same graph, the same outputs in ONNX Runtime. */
class OnnxImportRoundTripTest {

    @BeforeAll
    static void djl() {
        DjlRuntime.configure(DjlRuntime.defaultCacheDir(), 2);
    }

    @Test
    void importedModelExportsToTheSameGraphAndOutputs(@TempDir Path dir) throws Exception {
        Random rnd = new Random(11);
        Path first = dir.resolve("first.onnx");
        Path second = dir.resolve("second.onnx");
        try (NDManager manager = NDManager.newBaseManager()) {
            UNet net = RandomNets.create(manager, 4, 3, rnd);
            OnnxExporter.export(net, Map.of("input_size", "64", "training_sites", "DU"), first);
        }
        OnnxImporter.Imported imported;
        try (NDManager manager = NDManager.newBaseManager()) {
            imported = OnnxImporter.read(first, manager);
            assertEquals(4, imported.net().baseFilters());
            assertEquals(3, imported.net().depth());
            assertEquals(64, imported.inputSize());
            assertEquals(Hashing.sha256Hex(first), imported.sha256());
            OnnxExporter.export(imported.net(), imported.metadata(), second);
        }
        OnnxMl.ModelProto a = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(first));
        OnnxMl.ModelProto b = OnnxMl.ModelProto.parseFrom(Files.readAllBytes(second));
        assertEquals(a.getGraph().getInitializerCount(), b.getGraph().getInitializerCount());
        for (int i = 0; i < a.getGraph().getInitializerCount(); i++) {
            assertEquals(a.getGraph().getInitializer(i), b.getGraph().getInitializer(i),
                    "initializer " + a.getGraph().getInitializer(i).getName());
        }
        assertArrayEquals(Files.readAllBytes(first), Files.readAllBytes(second), "the whole model, byte for byte");

        List<float[]> images = RandomNets.images(2, 64, 64, rnd);
        try (OrtSegmenter x = new OrtSegmenter(first, 2); OrtSegmenter y = new OrtSegmenter(second, 2)) {
            float[][] p = x.probabilities(images, 64, 64);
            float[][] q = y.probabilities(images, 64, 64);
            double spread = 0;
            for (int k = 0; k < p.length; k++) {
                assertArrayEquals(p[k], q[k], 0f);
                for (float v : p[k]) {
                    spread = Math.max(spread, Math.abs(v - p[0][0]));
                }
            }
            assertTrue(spread > 1e-3, "outputs should vary, else the comparison proves little");
        }
    }

    @Test
    void aModelFromElsewhereIsRefusedClearly(@TempDir Path dir) throws Exception {
        Path text = dir.resolve("text.onnx");
        Files.writeString(text, "not a model");
        try (NDManager manager = NDManager.newBaseManager()) {
            DataException e = assertThrows(DataException.class, () -> OnnxImporter.read(text, manager));
            assertTrue(e.getMessage().contains("not an ONNX model") || e.getMessage().contains("not written by"),
                    e.getMessage());
            Path foreign = dir.resolve("foreign.onnx");
            Files.write(foreign, OnnxMl.ModelProto.newBuilder().setIrVersion(8).build().toByteArray());
            e = assertThrows(DataException.class, () -> OnnxImporter.read(foreign, manager));
            assertTrue(e.getMessage().contains("not written by this project's exporter"), e.getMessage());
        }
    }
}
