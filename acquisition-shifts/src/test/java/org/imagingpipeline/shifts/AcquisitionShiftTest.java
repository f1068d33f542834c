package org.imagingpipeline.shifts;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class AcquisitionShiftTest {

    static final int W = 64;
    static final int H = 48;

    static float[] ramp() {
        float[] v = new float[W * H];
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                v[y * W + x] = (float) x / (W - 1);
            }
        }
        return v;
    }

    static float[] constant(float c) {
        float[] v = new float[W * H];
        java.util.Arrays.fill(v, c);
        return v;
    }

    static double mean(float[] v) {
        double s = 0;
        for (float x : v) {
            s += x;
        }
        return s / v.length;
    }

    static double sd(float[] v) {
        double m = mean(v);
        double s = 0;
        for (float x : v) {
            s += (x - m) * (x - m);
        }
        return Math.sqrt(s / v.length);
    }

    @Test
    void contrastCurvesMapAsWritten() {
        float[] g = AcquisitionShift.parse("gamma:g=2").apply(constant(0.5f), W, H, 1, "s", 0);
        assertEquals(0.25, g[0], 1e-6);
        float[] brighter = AcquisitionShift.parse("gamma:g=0.5").apply(constant(0.25f), W, H, 1, "s", 0);
        assertEquals(0.5, brighter[7], 1e-6);
        ShiftStep.PiecewiseLinear p = (ShiftStep.PiecewiseLinear) AcquisitionShift.parse("pwl:0.3=0.55,0.7=0.8").steps().get(0);
        assertEquals(0.55, p.at(0.3), 1e-12);
        assertEquals(0.8, p.at(0.7), 1e-12);
        assertEquals(0.275, p.at(0.15), 1e-12);
        assertEquals(0.9, p.at(0.85), 1e-12);
        float[] s = AcquisitionShift.parse("sigmoid:k=8,c=0.45").apply(ramp(), W, H, 1, "s", 0);
        assertEquals(0, s[0], 1e-6);
        assertEquals(1, s[W - 1], 1e-6);
        for (int x = 1; x < W; x++) {
            assertTrue(s[x] > s[x - 1], "monotone");
        }
        assertTrue(s[W / 2 + 1] - s[W / 2] > 1.0 / (W - 1), "steeper than identity around c");
    }

    @Test
    void biasFieldsAreSmoothMultiplicativeAndOriented() {
        float[] lr = AcquisitionShift.parse("bias:a=0.5,pattern=lr").apply(constant(0.5f), W, H, 1, "s", 0);
        assertEquals(0.5 * Math.exp(-0.5), lr[0], 1e-6);
        assertEquals(Math.min(1, 0.5 * Math.exp(0.5)), lr[W - 1], 1e-6);
        float[] ap = AcquisitionShift.parse("bias:a=0.5,pattern=ap").apply(constant(0.5f), W, H, 1, "s", 0);
        assertEquals(ap[0], ap[W - 1], 1e-7, "ap does not vary left-right");
        assertTrue(ap[(H - 1) * W] > ap[0]);
        float[] edges = AcquisitionShift.parse("bias:a=-0.5,pattern=radial").apply(constant(0.5f), W, H, 1, "s", 0);
        assertTrue(edges[0] > edges[(H / 2) * W + W / 2], "negative radial: bright edges");
        float[] poly = AcquisitionShift.parse("polybias:a=0.4,c1=1,c3=0.5").apply(constant(0.5f), W, H, 1, "s", 0);
        double lo = 1;
        double hi = 0;
        for (float x : poly) {
            lo = Math.min(lo, x);
            hi = Math.max(hi, x);
        }
        assertEquals(0.5 * Math.exp(0.4), hi, 1e-3, "the polynomial field is scaled to max |f| = 1");
        assertTrue(lo >= 0.5 * Math.exp(-0.4) - 1e-6);
    }

    @Test
    void resolutionLossKeepsTheMeanAndRemovesDetail() {
        float[] checker = new float[W * H];
        for (int i = 0; i < checker.length; i++) {
            checker[i] = ((i % W + i / W) % 2 == 0) ? 0.2f : 0.8f;
        }
        for (String spec : List.of("blur:sigma=1", "blur:sx=0.5,sy=2.5", "downsample:f=2", "downsample:fx=1,fy=4", "downsample:f=2.5")) {
            float[] out = AcquisitionShift.parse(spec).apply(checker, W, H, 1, "s", 0);
            assertEquals(0.5, mean(out), 0.02, spec + " keeps the mean");
            assertTrue(sd(out) < 0.5 * sd(checker), spec + " removes the finest detail: sd " + sd(out));
        }
        float[] r = AcquisitionShift.parse("downsample:f=2").apply(ramp(), W, H, 1, "s", 0);
        for (int x = 2; x < W - 2; x++) {
            assertEquals((double) x / (W - 1), r[x], 0.02, "a smooth ramp survives a coarser matrix");
        }
        float[] c = AcquisitionShift.parse("downsample:f=3+blur:sigma=2").apply(constant(0.4f), W, H, 1, "s", 0);
        for (float x : c) {
            assertEquals(0.4, x, 1e-5);
        }
    }

    @Test
    void noiseHasTheStatedLevelAndIsSeeded() {
        float[] g = AcquisitionShift.parse("noise:sd=0.05").apply(constant(0.5f), W, H, 7, "series-a", 3);
        assertEquals(0.5, mean(g), 0.005);
        assertEquals(0.05, sd(g), 0.005);
        float[] rice = AcquisitionShift.parse("rician:sd=0.05").apply(constant(0f), W, H, 7, "series-a", 3);
        assertEquals(0.05 * Math.sqrt(Math.PI / 2), mean(rice), 0.005, "Rayleigh floor in the background");
        assertArrayEquals(g, AcquisitionShift.parse("noise:sd=0.05").apply(constant(0.5f), W, H, 7, "series-a", 3));
        assertNotEquals(g[0], AcquisitionShift.parse("noise:sd=0.05").apply(constant(0.5f), W, H, 7, "series-a", 4)[0]);
        assertNotEquals(g[0], AcquisitionShift.parse("noise:sd=0.05").apply(constant(0.5f), W, H, 8, "series-a", 3)[0]);
    }

    @Test
    void outputIsClippedToTheUnitRange() {
        float[] v = AcquisitionShift.parse("bias:a=2,pattern=lr+noise:sd=0.5").apply(ramp(), W, H, 1, "s", 0);
        for (float x : v) {
            assertTrue(x >= 0 && x <= 1);
        }
    }

    @Test
    void theSimulatorsNamedProfilesKeepTheirFormulas() {
        assertEquals("blur:sigma=0.7+gamma:g=0.75+bias:a=0.25,pattern=sin+rician:sd=0.025",
                AcquisitionShift.parse("newscanner").spec());
        assertEquals("blur:sigma=1+gamma:g=0.6+bias:a=0.35,pattern=sin+rician:sd=0.04",
                AcquisitionShift.parse("newscanner:g=0.6,a=0.35,blur=1,noise=0.04").spec());
        assertEquals("gamma:g=0.6", AcquisitionShift.parse("gamma").spec());
        assertEquals("bias:a=0.35,pattern=sin", AcquisitionShift.parse("biasfield").spec());
        assertEquals("blur:sigma=1+rician:sd=0.04", AcquisitionShift.parse("lowfield").spec());
        // the simulator's formula at one pixel: 1 + a (0.6 sin(pi x) cos(0.8 pi y) + 0.4 (x - 0.5)), x = 10/64, y = 5/48
        float[] b = AcquisitionShift.parse("biasfield").apply(constant(0.5f), W, H, 1, "s", 0);
        double fx = 10.0 / W;
        double fy = 5.0 / H;
        assertEquals(0.5 * (1 + 0.35 * (0.6 * Math.sin(Math.PI * fx) * Math.cos(0.8 * Math.PI * fy) + 0.4 * (fx - 0.5))),
                b[5 * W + 10], 1e-6);
    }

    @Test
    void specsRoundTrip() {
        for (String spec : List.of("gamma:g=0.7+bias:a=0.3,pattern=lr", "pwl:0.25=0.12,0.6=0.75",
                "bias:a=0.3,pattern=radial+blur:sx=1.5,sy=0.3+gamma:g=1.3", "downsample:fx=1,fy=4+rician:sd=0.08",
                "polybias:a=0.4,c1=1,c2=-0.5,c3=0,c4=0.25,c5=0", "none")) {
            AcquisitionShift s = AcquisitionShift.parse(spec);
            assertEquals(s.spec(), AcquisitionShift.parse(s.spec()).spec(), spec);
        }
    }

    @Test
    void badSpecsAreRefusedWithTheReason() {
        for (String[] bad : new String[][] {
            {"sepia", "unknown shift step 'sepia'"},
            {"gamma:q=2", "needs g=NUMBER"},
            {"gamma:g=2,q=1", "unknown key 'q'"},
            {"gamma:g=-1", "positive"},
            {"gamma:g=x", "expected a number"},
            {"pwl:0.5=0.6,0.4=0.7", "increasing x"},
            {"pwl:0.3=0.6,0.5=0.4", "monotone"},
            {"bias:a=0.3,pattern=swirl", "pattern must be one of"},
            {"downsample:f=0.5", ">= 1"},
            {"blur:sigma=0", "> 0 on one"},
            {"lowfield:gamma=2", "takes"},
            {"", "empty"}}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> AcquisitionShift.parse(bad[0]), bad[0]);
            assertTrue(e.getMessage().contains(bad[1]), bad[0] + ": " + e.getMessage());
        }
    }

    @Test
    void randomShiftsAreValidRepeatableAndCoverEveryFamily() {
        RandomShifts r = new RandomShifts(0.5);
        java.util.Map<String, Integer> families = new java.util.TreeMap<>();
        int empty = 0;
        Random a = new Random(3);
        Random b = new Random(3);
        for (int i = 0; i < 2000; i++) {
            AcquisitionShift s = r.draw(a);
            assertEquals(s.spec(), r.draw(b).spec(), "seeded draws repeat");
            assertEquals(s.spec(), AcquisitionShift.parse(s.spec()).spec(), "a draw is a valid spec");
            s.families().forEach(f -> families.merge(f, 1, Integer::sum));
            empty += s.steps().isEmpty() ? 1 : 0;
        }
        assertEquals(List.of("bias", "contrast", "noise", "resolution"), List.copyOf(families.keySet()));
        families.values().forEach(n -> assertEquals(1000, n, 100));
        assertEquals(2000 / 16.0, empty, 40, "all four families absent with probability 1/16");
        float[] img = ramp();
        for (int i = 0; i < img.length; i++) {
            img[i] *= 200;
        }
        float[] aug = img.clone();
        new RandomShifts(1).augment(aug, W, H, new Random(5));
        assertNotEquals(img[W / 2], aug[W / 2]);
        double max = 0;
        for (float x : aug) {
            max = Math.max(max, x);
        }
        assertTrue(max <= 200 + 1e-3, "augmentation keeps the slice's scale");
    }
}
