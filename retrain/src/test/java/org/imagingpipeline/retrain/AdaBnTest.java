package org.imagingpipeline.retrain;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The arithmetic of source-referenced AdaBN and the batch-norm scopes. */
class AdaBnTest {

    @BeforeAll
    static void djl() {
        DjlRuntime.configure(DjlRuntime.defaultCacheDir(), 2);
    }

    /** One channel with values {@code mean +- sd} (population variance sd^2). */
    private static BnStatistics stats(NDManager m, float mean, float sd) {
        BnStatistics s = new BnStatistics();
        s.add(m.create(new float[] {mean - sd, mean + sd, mean - sd, mean + sd}, new Shape(1, 1, 2, 2)));
        return s;
    }

    @Test
    void referencedStatisticsMoveTheParentsByTheTargetMinusSourceDifference() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            float[] rm = {0.3f};
            float[] rv = {2.0f};
            // A target that looks like the source leaves the parent's statistics as they are, whatever they are.
            float[][] same = AdaBn.referenced(rm, rv, stats(m, 5f, 3f), stats(m, 5f, 3f), 1.0);
            assertEquals(0.3f, same[0][0], 1e-6);
            assertEquals(2.0f, same[1][0], 1e-5);
            // Mean +1 and variance x4 on the target: the parent's move by exactly that.
            float[][] moved = AdaBn.referenced(rm, rv, stats(m, 6f, 6f), stats(m, 5f, 3f), 1.0);
            assertEquals(1.3f, moved[0][0], 1e-5);
            assertEquals(8.0f, moved[1][0], 1e-3);
            // Half weight: half the mean shift, the square root of the variance ratio.
            float[][] half = AdaBn.referenced(rm, rv, stats(m, 6f, 6f), stats(m, 5f, 3f), 0.5);
            assertEquals(0.8f, half[0][0], 1e-5);
            assertEquals(4.0f, half[1][0], 1e-3);
        }
    }

    @Test
    void scopesSayWhichBatchNormsChange() {
        AdaBn.Scope two = AdaBn.Scope.parse("levels:2");
        assertTrue(two.covers("enc0a") && two.covers("enc1b"));
        assertFalse(two.covers("enc2a") || two.covers("mida") || two.covers("dec0a") || two.covers("up1"));
        AdaBn.Scope enc = AdaBn.Scope.parse("encoder");
        assertTrue(enc.covers("enc3b") && enc.covers("midb"));
        assertFalse(enc.covers("dec3a") || enc.covers("up0"));
        assertTrue(AdaBn.Scope.parse("ALL").covers("dec0b"));
        assertEquals("levels:2", two.toString());
        assertThrows(DataException.class, () -> AdaBn.Scope.parse("levels:0"));
        assertThrows(DataException.class, () -> AdaBn.Scope.parse("levels:x"));
        assertThrows(DataException.class, () -> AdaBn.Scope.parse("decoder"));
    }

    @Test
    void batchNormsOutsideTheScopeKeepTheParentsStatistics() {
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            java.util.Random rnd = new java.util.Random(11);
            UNet net = RandomNets.create(m, 4, 2, rnd);
            java.util.List<float[]> target = RandomNets.images(12, 32, 32, rnd);
            for (float[] x : target) {
                for (int i = 0; i < x.length; i++) x[i] = x[i] * 3 + 1; // a shifted "domain"
            }
            BnSnapshot parent = BnSnapshot.of(net);
            // Plain AdaBN: its first pass runs in training mode, which moves every layer's running statistics.
            AdaBn.reestimate(net, m, target, 32, 4, 1, AdaBn.Scope.levels(1), 1.0, new ProgressBar(new java.io.PrintStream(
                    java.io.OutputStream.nullOutputStream()), 60));
            BnSnapshot after = BnSnapshot.of(net);
            net.namedUnits().keySet().forEach(unit -> {
                boolean changed = !java.util.Arrays.equals(parent.mean(unit), after.mean(unit));
                assertEquals(unit.startsWith("enc0"), changed, unit + (changed ? " changed" : " kept"));
                if (!unit.startsWith("enc0")) {
                    assertTrue(java.util.Arrays.equals(parent.variance(unit), after.variance(unit)), unit);
                }
            });
        }
    }
}
