package org.imagingpipeline.streams;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The drift test's statistic on synthetic feature vectors: its size under the null, its power, its evidence. */
class ShrunkHotellingTest {
    static final List<String> NAMES = ImageStatistics.DETECTOR_NAMES;
    static final int D = NAMES.size();

    /** Correlated features with heavy-ish tails (a shared "anatomy" factor, t-like noise), like one site's patients. */
    static double[] patient(Random r) {
        double anatomy = r.nextGaussian();
        double[] v = new double[D];
        for (int j = 0; j < D; j++) {
            double noise = r.nextGaussian() / Math.sqrt(Math.max(0.2, -2 * Math.log(r.nextDouble()) / 3));
            v[j] = (j % 4 == 0 ? 2 * anatomy : 0.3 * anatomy) + noise;
        }
        return v;
    }

    static List<double[]> sample(Random r, int n, int shiftedFeature, double shift) {
        List<double[]> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            double[] v = patient(r);
            if (shiftedFeature >= 0) v[shiftedFeature] += shift;
            out.add(v);
        }
        return out;
    }

    @Test
    void underTheNullRejectionsStayNearAlpha() {
        Random r = new Random(5);
        int rejections = 0, trials = 400;
        for (int t = 0; t < trials; t++) {
            ShrunkHotelling.Result res = ShrunkHotelling.test(sample(r, 3, -1, 0), sample(r, 30, -1, 0), NAMES, 499, t);
            if (res.pValue() < 0.05) rejections++;
        }
        // exact permutation test: about 20 of 400 at 0.05; a binomial 99.9% band is [7, 37]
        assertTrue(rejections >= 7 && rejections <= 37, "rejections at 0.05 under the null: " + rejections + "/" + trials);
    }

    @Test
    void aShiftInOneFeatureIsFoundAndNamed() {
        Random r = new Random(6);
        int target = 5;
        ShrunkHotelling.Result res = ShrunkHotelling.test(sample(r, 3, target, 8), sample(r, 30, -1, 0), NAMES, 9999, 1);
        assertTrue(res.pValue() < 0.005, "p " + res.pValue());
        ShrunkHotelling.FeatureShift top = res.features().get(0);
        assertEquals(NAMES.get(target), top.feature(), res.features().toString());
        assertTrue(top.shift() > 3, "shift in reference SDs: " + top.shift());
        assertEquals(ImageStatistics.family(NAMES.get(target)), top.family());
        assertTrue(top.pValue() < 0.005);
        assertEquals(3, res.n());
        assertEquals(30, res.referenceSize());
        assertEquals(D, res.features().size());
    }

    @Test
    void manySmallShiftsAddUp() {
        // every feature about one noise SD off (less against the anatomy factor's spread): together they stand out
        Random r = new Random(7);
        List<double[]> shifted = sample(r, 5, -1, 0);
        for (double[] v : shifted) for (int j = 0; j < D; j++) v[j] += j % 2 == 0 ? 1.2 : -1.2;
        assertTrue(ShrunkHotelling.test(shifted, sample(r, 30, -1, 0), NAMES, 9999, 2).pValue() < 0.005);
    }

    @Test
    void reproducibleForTheSameSeedAndNonFiniteValuesAreNeutral() {
        Random r = new Random(8);
        List<double[]> s = sample(r, 4, 2, 5), ref = sample(r, 25, -1, 0);
        ShrunkHotelling.Result a = ShrunkHotelling.test(s, ref, NAMES, 2999, 42), b = ShrunkHotelling.test(s, ref, NAMES, 2999, 42);
        assertEquals(a.pValue(), b.pValue());
        assertEquals(a.statistic(), b.statistic());
        s.get(0)[7] = Double.NaN;
        assertTrue(Double.isFinite(ShrunkHotelling.test(s, ref, NAMES, 999, 42).statistic()));
    }

    @Test
    void theSmallestReachablePIsOneOverTheNumberOfSplits() {
        assertEquals(1.0 / 37, ShrunkHotelling.smallestP(1, 36), 1e-12);
        assertEquals(1.0 / 703, ShrunkHotelling.smallestP(2, 36), 1e-12);
        assertEquals(1.0 / 9139, ShrunkHotelling.smallestP(3, 36), 1e-9);
    }
}
