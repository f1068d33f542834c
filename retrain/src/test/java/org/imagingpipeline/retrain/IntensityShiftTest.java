package org.imagingpipeline.retrain;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class IntensityShiftTest {

    private static float[] ramp(int w, int h) {
        float[] img = new float[w * h];
        for (int i = 0; i < img.length; i++) {
            img[i] = (i * 37) % 256;
        }
        return img;
    }

    @Test
    void gammaOneAndBlurZeroAreIdentityOthersChangeTheImage() {
        float[] img = ramp(16, 8);
        assertArrayEquals(img, IntensityShift.parse("gamma:1,blur:0").apply(img, 16, 8, 0), 1e-3f);
        float[] g = IntensityShift.parse("gamma:2").apply(img, 16, 8, 0);
        float max = 0;
        for (float v : img) {
            max = Math.max(max, v);
        }
        assertEquals(max * Math.pow(img[5] / max, 2), g[5], 1e-3);
        float[] bias = IntensityShift.parse("bias:0.5").apply(img, 16, 8, 0);
        assertTrue(img[15] > 0 && img[16] > 0, "test pixels must not be black");
        assertTrue(bias[15] > img[15] && bias[16] < img[16], "right side brighter, left darker");
    }

    @Test
    void noiseRepeatsForTheSameSeedOnly() {
        float[] img = ramp(16, 8);
        IntensityShift s = IntensityShift.parse("noise:0.05");
        assertArrayEquals(s.apply(img, 16, 8, 3), s.apply(img, 16, 8, 3));
        assertNotEquals(s.apply(img, 16, 8, 3)[7], s.apply(img, 16, 8, 4)[7]);
    }

    @Test
    void badSpecsAreRejectedClearly() {
        assertTrue(assertThrows(DataException.class, () -> IntensityShift.parse("warp:1")).getMessage()
                .contains("unknown shift 'warp'"));
        assertTrue(assertThrows(DataException.class, () -> IntensityShift.parse("gamma")).getMessage()
                .contains("expected NAME:VALUE"));
        assertTrue(assertThrows(DataException.class, () -> IntensityShift.parse("gamma:0")).getMessage()
                .contains("out of range"));
    }
}
