package org.imagingpipeline.retrain;

import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The landmark map of {@link IntensityStandardisation} and its exact form in the input normaliser. */
class IntensityStandardisationTest {

    static final int W = 64;

    @BeforeAll
    static void djl() {
        DjlRuntime.configure(DjlRuntime.defaultCacheDir(), 2);
    }

    /** Head-like slices: a disc of tissue (grey levels 40-220 in patches) on black air, a bright lesion in some. */
    static List<float[]> heads(int n, long seed) {
        Random rnd = new Random(seed);
        List<float[]> out = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            float[] img = new float[W * W];
            double r = 18 + rnd.nextInt(10);
            double base = 90 + rnd.nextGaussian() * 10;
            for (int y = 0; y < W; y++) {
                for (int x = 0; x < W; x++) {
                    double d = Math.hypot(x - W / 2.0, y - W / 2.0);
                    if (d < r) {
                        double patch = 60 * Math.sin(x / 5.0 + k) * Math.cos(y / 7.0);
                        img[y * W + x] = (float) Math.max(40, Math.min(220, base + patch + rnd.nextGaussian() * 8));
                    }
                }
            }
            if (k % 3 == 0) {
                for (int y = 28; y < 34; y++) {
                    for (int x = 30; x < 38; x++) {
                        img[y * W + x] = 250;
                    }
                }
            }
            out.add(img);
        }
        return out;
    }

    static List<float[]> shifted(List<float[]> slices, String shift) {
        IntensityShift s = IntensityShift.parse(shift);
        List<float[]> out = new ArrayList<>();
        for (int i = 0; i < slices.size(); i++) {
            out.add(s.apply(slices.get(i), W, W, i));
        }
        return out;
    }

    static double maxLandmarkGap(double[] a, double[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs(a[i] - b[i]));
        }
        return m;
    }

    @Test
    void theMapUndoesAContrastCurveFittedAgainstAnotherDomainsAnatomy() {
        List<float[]> anatomy = heads(60, 2);
        // The same patients through a scanner's contrast curve: what each pixel should read after the map is known.
        List<float[]> target = shifted(anatomy, "gamma:2.5");
        // The reference is other patients (another seed), as the source is in adaptation.
        IntensityStandardisation.Mapping map = IntensityStandardisation.fit(target, heads(60, 1));
        IntensityStandardisation.Sample truth = IntensityStandardisation.Sample.of(anatomy, "truth");
        IntensityStandardisation.Sample seen = IntensityStandardisation.Sample.of(target, "target");
        float threshold = Foreground.of(anatomy).threshold();
        double before = 0;
        double after = 0;
        int n = 0;
        for (int i = 0; i < truth.raw().length; i++) {
            if (truth.raw()[i] > threshold) {
                before += Math.abs(seen.z()[i] - truth.z()[i]);
                after += Math.abs(map.apply(seen.z()[i]) - truth.z()[i]);
                n++;
            }
        }
        before /= n;
        after /= n;
        System.out.printf("gamma 2.5: mean |z error| over the anatomy %.3f before the map, %.3f after%n", before, after);
        assertTrue(before > 0.3, "the curve must move the anatomy's intensities, else the test proves nothing: " + before);
        assertTrue(after < 0.25 * before, "the map restores the anatomy's z-scored intensities: " + before + " -> " + after);
        for (double z = -3; z < 8; z += 0.01) {
            assertTrue(map.apply(z + 0.01) >= map.apply(z), "monotone at " + z);
        }
        double lo = map.target()[0] - 1;
        double hi = map.target()[map.target().length - 1] + 1;
        assertEquals(0.5, map.apply(lo) - map.apply(lo - 0.5), 1e-9, "slope 1 below the first landmark");
        assertEquals(0.5, map.apply(hi + 0.5) - map.apply(hi), 1e-9, "slope 1 above the last landmark");
        for (int i = 0; i < map.target().length; i++) {
            assertEquals(map.mapped()[i], map.apply(map.target()[i]), 1e-9);
        }
    }

    @Test
    void aDomainWhoseAnatomyCoversLessOfTheImageStillGetsAMap() {
        // The same heads on a canvas four times larger (a wider field of view): the source's anatomy share would reach
        // into black air; the target's foreground is then its non-black pixels.
        List<float[]> padded = new ArrayList<>();
        for (float[] h : shifted(heads(60, 2), "gamma:2.5")) {
            float[] big = new float[4 * W * W];
            for (int y = 0; y < W; y++) {
                System.arraycopy(h, y * W, big, (y + W / 2) * 2 * W + W / 2, W);
            }
            padded.add(big);
        }
        IntensityStandardisation.Mapping map = IntensityStandardisation.fit(padded, heads(60, 1));
        assertTrue(map.target().length >= 2, "a map with landmarks: " + Arrays.toString(map.target()));
        for (int i = 1; i < map.target().length; i++) {
            assertTrue(map.mapped()[i] > map.mapped()[i - 1], "monotone: " + Arrays.toString(map.mapped()));
        }
    }

    @Test
    void theSameDomainGetsTheIdentity() {
        List<float[]> source = heads(60, 1);
        IntensityStandardisation.Mapping map = IntensityStandardisation.fit(source, source);
        for (double z = -3; z < 4; z += 0.1) {
            assertEquals(z, map.apply(z), 1e-9);
        }
    }

    @Test
    void theInputNormaliserComputesTheMapExactly(@TempDir Path dir) throws Exception {
        IntensityStandardisation.Mapping map = IntensityStandardisation.fit(shifted(heads(40, 2), "gamma:0.4"), heads(40, 1));
        Random rnd = new Random(3);
        Path parent = dir.resolve("parent.onnx");
        try (NDManager m = NDManager.newBaseManager()) {
            OnnxExporter.export(RandomNets.create(m, 4, 3, rnd), Map.of("input_size", "32"), parent);
        }
        try (NDManager m = NDManager.newBaseManager()) {
            UNet net = OnnxImporter.read(parent, m, true).net();
            IntensityStandardisation.install(map, net.normaliser());
            float[] z = new float[32 * 32];
            for (int i = 0; i < z.length; i++) {
                z[i] = -4f + 9f * i / z.length;
            }
            float[] y = net.normaliser().forward(new ParameterStore(m, false),
                    new NDList(m.create(z, new Shape(1, 1, 32, 32))), false).singletonOrThrow().toFloatArray();
            double worst = 0;
            double moved = 0;
            for (int i = 0; i < z.length; i++) {
                worst = Math.max(worst, Math.abs(y[i] - map.apply(z[i])));
                moved = Math.max(moved, Math.abs(y[i] - z[i]));
            }
            assertTrue(worst < 1e-4, "the module is the map: worst difference " + worst);
            assertTrue(moved > 0.1, "the map is not the identity here, else the comparison proves little: " + moved);
        }
    }

    @Test
    void aDomainWithoutAnatomyIsRefused() {
        List<float[]> black = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            black.add(new float[W * W]);
        }
        assertThrows(DataException.class, () -> IntensityStandardisation.fit(black, heads(10, 1)));
    }
}
