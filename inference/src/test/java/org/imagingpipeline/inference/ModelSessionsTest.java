package org.imagingpipeline.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Provider choice, the sha256-keyed cache and refusals. This machine has no GPU and the CPU build of ONNX Runtime. */
class ModelSessionsTest {
    @TempDir
    Path dir;

    @Test
    void cudaRequestedButAbsentFallsBackToCpuAndRuns() throws Exception {
        Path m = dir.resolve("m.onnx");
        String sha = TinyModels.write(m, 1f, -150f, 4);
        try (ModelSessions s = new ModelSessions("cuda", 1, 128, 0)) {
            assertEquals("cpu", s.provider());
            LoadedModel model = s.load(m.toString(), sha);
            assertEquals("cpu", model.provider());
            float[] probs = model.run(new float[] {200, 100, 200, 100, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 1);
            assertTrue(probs[0] > 0.99f && probs[1] < 0.01f);
        }
    }

    @Test
    void sessionsAreCachedBySha256AndReleased() throws Exception {
        Path a = dir.resolve("a.onnx");
        Path copy = dir.resolve("copy-of-a.onnx");
        String sha = TinyModels.write(a, 1f, -150f, 4);
        Files.copy(a, copy);
        try (ModelSessions s = new ModelSessions("cpu", 1, 128, 0)) {
            LoadedModel first = s.load(a.toUri().toString(), sha);
            assertSame(first, s.load(copy.toString(), sha.toUpperCase()));
            assertEquals(1, s.cachedSessions());
            s.retainOnly(Set.of());
            assertEquals(0, s.cachedSessions());
        }
    }

    @Test
    void mismatchingMissingAndUnloadableModelsAreRefused() throws Exception {
        Path a = dir.resolve("a.onnx");
        TinyModels.write(a, 1f, -150f, 4);
        Path junk = dir.resolve("junk.onnx");
        Files.write(junk, "this is not an onnx model".getBytes());
        String junkSha = ModelSessions.sha256(Files.readAllBytes(junk));
        try (ModelSessions s = new ModelSessions("cpu", 1, 128, 0)) {
            assertEquals("sha256_mismatch", assertThrows(ModelRefusedException.class,
                    () -> s.load(a.toString(), "0".repeat(64))).reason());
            assertEquals("missing", assertThrows(ModelRefusedException.class,
                    () -> s.load(dir.resolve("gone.onnx").toString(), "0".repeat(64))).reason());
            assertEquals("unloadable", assertThrows(ModelRefusedException.class,
                    () -> s.load(junk.toString(), junkSha)).reason());
        }
        assertThrows(IllegalArgumentException.class, () -> new ModelSessions("tpu", 1, 128, 0));
    }
}
