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

    @Test
    void maskedBatchesCountOnlyTheMaskedPixels() {
        int n = 4;
        int c = 2;
        int hw = 16;
        float[] all = new float[n * c * hw];
        float[] mask = new float[n * hw];
        Random rnd = new Random(8);
        for (int i = 0; i < all.length; i++) {
            all[i] = (float) (rnd.nextGaussian() * 3 + (i / hw) % c);
        }
        for (int i = 0; i < mask.length; i++) {
            mask[i] = rnd.nextInt(3) == 0 ? 1 : 0;
        }
        BnStatistics s = new BnStatistics();
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            for (int b = 0; b < n; b += 2) {
                s.add(m.create(java.util.Arrays.copyOfRange(all, b * c * hw, (b + 2) * c * hw), new Shape(2, c, 4, 4)),
                        m.create(java.util.Arrays.copyOfRange(mask, b * hw, (b + 2) * hw), new Shape(2, 1, 4, 4)));
            }
        }
        for (int ch = 0; ch < c; ch++) {
            double sum = 0;
            double sq = 0;
            int k = 0;
            for (int b = 0; b < n; b++) {
                for (int p = 0; p < hw; p++) {
                    if (mask[b * hw + p] == 1) {
                        double v = all[(b * c + ch) * hw + p];
                        sum += v;
                        sq += v * v;
                        k++;
                    }
                }
            }
            assertEquals(k, s.count());
            double mean = sum / k;
            assertEquals(mean, s.mean()[ch], 1e-4);
            assertEquals(sq / k - mean * mean, s.variance()[ch], 1e-3);
        }
    }

    @Test
    void foregroundIsTheAnatomyNotTheAir() {
        float[] slice = new float[64];
        for (int i = 0; i < 64; i++) {
            slice[i] = i < 40 ? 2f : 200f; // air with a little noise level, then tissue
        }
        Foreground fg = Foreground.of(java.util.List.of(slice));
        assertEquals(0.2 * 200, fg.threshold(), 1e-3);
        try (NDManager m = NDManager.newBaseManager("PyTorch")) {
            var masks = fg.pyramid(m.create(slice, new Shape(1, 1, 8, 8)), 3);
            assertEquals(24f, masks.get(8L).sum().getFloat());
            assertEquals(4L, masks.get(4L).getShape().get(2));
            assertEquals(2L, masks.get(2L).getShape().get(2));
        }
    }
}
