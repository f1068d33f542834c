package org.imagingpipeline.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.imagingpipeline.shifts.AcquisitionShift;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Each feature family moves under its kind of acquisition shift, by several times the spread between phantom patients
 * (their standard deviation), and the features a shift does not touch stay within one. Phantoms: {@link PhantomImages} (12 patients); shifts: the
 * acquisition-shifts grammar.
 */
class FeatureFamiliesTest {
    static final int PATIENTS = 12;
    static final double MOVES = 3;
    static List<double[]> clean;
    static double[] median, spread;

    @BeforeAll
    static void reference() {
        clean = new ArrayList<>();
        for (int p = 0; p < PATIENTS; p++) clean.add(PhantomImages.features(p, AcquisitionShift.NONE));
        int d = ImageStatistics.NAMES.size();
        median = new double[d];
        spread = new double[d];
        for (int j = 0; j < d; j++) {
            double[] c = new double[PATIENTS];
            for (int p = 0; p < PATIENTS; p++) c[p] = clean.get(p)[j];
            Arrays.sort(c);
            median[j] = (c[PATIENTS / 2 - 1] + c[PATIENTS / 2]) / 2;
            double mean = Arrays.stream(c).average().orElse(0), ss = 0;
            for (double v : c) ss += (v - mean) * (v - mean);
            spread[j] = Math.max(Math.sqrt(ss / (PATIENTS - 1)), 1e-6); // the standard deviation between patients
        }
    }

    /** Mean change of each named feature under the shift (paired, same patients), in between-patient standard deviations. */
    static Map<String, Double> moved(String spec) {
        AcquisitionShift shift = AcquisitionShift.parse(spec);
        Map<String, Double> out = new TreeMap<>();
        double[] sum = new double[ImageStatistics.NAMES.size()];
        for (int p = 0; p < PATIENTS; p++) {
            double[] f = PhantomImages.features(p, shift);
            for (int j = 0; j < sum.length; j++) sum[j] += (f[j] - clean.get(p)[j]) / PATIENTS;
        }
        for (int j = 0; j < sum.length; j++) out.put(ImageStatistics.NAMES.get(j), sum[j] / spread[j]);
        return out;
    }

    static double raw(String spec, String feature) {
        AcquisitionShift shift = AcquisitionShift.parse(spec);
        int j = ImageStatistics.index(feature);
        double s = 0;
        for (int p = 0; p < PATIENTS; p++) s += (PhantomImages.features(p, shift)[j] - clean.get(p)[j]) / PATIENTS;
        return s;
    }

    static void assertMoves(Map<String, Double> m, String feature, double sign) {
        double v = m.get(feature);
        assertTrue(v * sign > MOVES, feature + " should move " + (sign > 0 ? "up" : "down") + " by more than " + MOVES + " SD, moved " + v + " " + m);
    }

    static void assertStill(Map<String, Double> m, String feature) {
        assertTrue(Math.abs(m.get(feature)) < 1, feature + " should stay within 1 SD, moved " + m.get(feature));
    }

    @Test
    void contrastCurvesMoveTheQuantileLandmarksAndTheModelsView() {
        Map<String, Double> brighter = moved("gamma:g=0.6");
        assertMoves(brighter, "q50", 1);
        assertMoves(brighter, "q25", 1);
        assertTrue(brighter.get("zq25") > 1.5, "the model's view of the landmarks moves too");
        assertStill(brighter, "fieldU");
        Map<String, Double> darker = moved("gamma:g=1.6");
        assertMoves(darker, "q50", -1);
        assertStill(darker, "fieldV");
    }

    @Test
    void blurAndCoarserMatricesLowerTheFineDetailAndAnisotropicOnesTiltIt() {
        Map<String, Double> blur = moved("blur:sigma=1.2");
        assertMoves(blur, "fine1x", -1);
        assertMoves(blur, "fine1y", -1);
        assertMoves(blur, "lapRatio", -1);
        Map<String, Double> thick = moved("downsample:fx=1,fy=3");
        assertMoves(thick, "fine1y", -1);
        assertMoves(thick, "anisotropy", 1);
        Map<String, Double> aniso = moved("blur:sx=0.3,sy=2");
        assertMoves(aniso, "anisotropy", 1);
    }

    @Test
    void noiseRaisesTheBackgroundFloorAndTheFlatRegionsLocalSpread() {
        Map<String, Double> rician = moved("rician:sd=0.04");
        assertMoves(rician, "bgMean", 1);
        assertMoves(rician, "bgSd", 1);
        assertMoves(rician, "flatSd", 1);
        assertMoves(rician, "localSd", 1);
        Map<String, Double> gaussian = moved("noise:sd=0.03");
        assertMoves(gaussian, "flatSd", 1);
        assertMoves(gaussian, "bgLap", 1);
    }

    @Test
    void aSmoothFieldIsRecoveredByTheGradientDomainFit() {
        // log field a u (lr), a v (ap), a uv (saddle): the fit's coefficient should come back close to a
        assertEquals(0.3, raw("bias:a=0.3,pattern=lr", "fieldU"), 0.08);
        assertEquals(0.4, raw("bias:a=0.4,pattern=ap", "fieldV"), 0.1);
        assertEquals(0.5, raw("bias:a=0.5,pattern=saddle", "fieldUV"), 0.15);
        Map<String, Double> lr = moved("bias:a=0.3,pattern=lr");
        assertMoves(lr, "fieldU", 1);
        assertStill(lr, "fieldV");
        assertStill(lr, "fine1x");
        assertStill(lr, "anisotropy");
        Map<String, Double> saddle = moved("bias:a=0.5,pattern=saddle");
        assertMoves(saddle, "fieldUV", 1);
        assertStill(saddle, "fieldU");
    }

    @Test
    void theScannersGainChangesNothingButTheScale() {
        List<ImageStatistics.Slice> slices = PhantomImages.patient(3, AcquisitionShift.NONE, 8);
        List<ImageStatistics.Slice> brighter = new ArrayList<>();
        for (ImageStatistics.Slice s : slices) {
            float[] v = s.values().clone();
            for (int i = 0; i < v.length; i++) v[i] *= 3;
            brighter.add(new ImageStatistics.Slice(v, s.width(), s.height()));
        }
        double[] a = ImageStatistics.of(slices), b = ImageStatistics.of(brighter);
        for (int j = 0; j < a.length; j++) {
            String name = ImageStatistics.NAMES.get(j);
            if (name.equals("logScale")) assertEquals(a[j] + Math.log10(3), b[j], 1e-4);
            else assertEquals(a[j], b[j], 1e-3 * Math.max(1, Math.abs(a[j])), name);
        }
    }
}
