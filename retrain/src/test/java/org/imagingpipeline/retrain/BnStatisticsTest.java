package org.imagingpipeline.retrain;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Per-channel population statistics accumulated over batches equal those of all the data at once. */
class BnStatisticsTest {

    @BeforeAll
    static void djl() {
        DjlRuntime.configure(DjlRuntime.defaultCacheDir(), 2);
    }

    @Test
    void batchesAddUpToThePopulationMeanAndVariance() {
        int n = 5;
        int c = 3;
        int hw = 16;
        float[] all = new float[n * c * hw];
        Random rnd = new Random(5);
        for (int i = 0; i < all.length; i++) {
            int ch = (i / hw) % c;
            all[i] = (float) (ch * 10 + rnd.nextGaussian() * (ch + 1));
        }
        BnStatistics s = new BnStatistics();
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            s.add(m.create(java.util.Arrays.copyOfRange(all, 0, 2 * c * hw), new Shape(2, c, 4, 4)));
            s.add(m.create(java.util.Arrays.copyOfRange(all, 2 * c * hw, all.length), new Shape(3, c, 4, 4)));
        }
        assertEquals(n * hw, s.count());
        for (int ch = 0; ch < c; ch++) {
            double sum = 0;
            double sq = 0;
            for (int b = 0; b < n; b++) {
                for (int k = 0; k < hw; k++) {
                    double v = all[(b * c + ch) * hw + k];
                    sum += v;
                    sq += v * v;
                }
            }
            double mean = sum / (n * hw);
            assertEquals(mean, s.mean()[ch], 1e-4);
            assertEquals(sq / (n * hw) - mean * mean, s.variance()[ch], 1e-3);
        }
    }
}
