package org.imagingpipeline.dicomnet;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class PixelDataLimitsTest {
    private static final PixelDataLimits LIMITS = PixelDataLimits.DEFAULT;

    private static PixelDataLimits.Claim claim(Integer rows, Integer cols, Integer spp, Integer bits, Integer frames) {
        return new PixelDataLimits.Claim(rows, cols, spp, bits, frames);
    }

    private static String refused(PixelDataLimits.Claim c, long pixelDataLength, long fileSize) {
        return assertThrows(PixelDataLimits.Refused.class, () -> LIMITS.check(c, pixelDataLength, fileSize)).getMessage();
    }

    @Test
    void anOrdinarySliceIsAcceptedWithItsDecodedSize() throws Exception {
        assertEquals(256L * 256 * 2, LIMITS.check(claim(256, 256, 1, 16, null), 256 * 256 * 2, 200_000));
        // odd length padded to even
        assertEquals(3L * 3, LIMITS.check(claim(3, 3, 1, 8, 1), 10, 1000));
        assertEquals(4L * 4 * 3 * 5, LIMITS.check(claim(4, 4, 3, 8, 5), -1, -1));
        // a 1-bit overlay-like frame: bits round up to bytes
        assertEquals(2L, LIMITS.check(claim(3, 5, 1, 1, 1), 2, -1));
    }

    @Test
    void aHugeClaimIsRefusedBeforeAnythingIsAllocated() {
        String r = refused(claim(30000, 30000, 1, 16, null), -1, 40_000);
        assertEquals("Rows 30000 exceeds the limit 16384 (max-rows)", r);
        r = refused(claim(8000, 8000, 1, 16, null), -1, -1);
        assertTrue(r.contains("8000 x 8000 = 64000000 pixels") && r.contains("max-pixels"), r);
        assertTrue(refused(claim(20000, 10, 1, 16, 1), -1, -1).contains("Rows 20000 exceeds"));
        assertTrue(refused(claim(10, 20000, 1, 16, 1), -1, -1).contains("Columns 20000 exceeds"));
        assertTrue(refused(claim(4096, 4096, 1, 16, 9000), -1, -1).contains("max-bytes"));
        assertTrue(refused(claim(16, 16, 1, 16, 20000), -1, -1).contains("max-frames"));
    }

    @Test
    void aProductThatOverflowsIsRefused() {
        PixelDataLimits wide = new PixelDataLimits(Integer.MAX_VALUE, Integer.MAX_VALUE, Long.MAX_VALUE, Integer.MAX_VALUE, Long.MAX_VALUE);
        String r = assertThrows(PixelDataLimits.Refused.class,
                () -> wide.check(claim(65535, 65535, 4, 64, Integer.MAX_VALUE), -1, -1)).getMessage();
        assertTrue(r.contains("overflows"), r);
    }

    @Test
    void pixelDataThatDisagreesWithTheClaimIsRefused() {
        assertTrue(refused(claim(256, 256, 1, 16, 1), 64 * 64 * 2, 10_000).contains("whole object has 10000 bytes"));
        assertTrue(refused(claim(256, 256, 1, 16, 1), 64 * 64 * 2, -1).contains("PixelData holds 8192 bytes"));
        assertTrue(refused(claim(8, 8, 1, 16, 1), 8 * 8 * 2 + 2, -1).contains("needs 128"));
    }

    @Test
    void missingOrNonsenseAttributesAreRefused() {
        assertTrue(refused(claim(null, 8, 1, 16, 1), -1, -1).contains("Rows is missing"));
        assertTrue(refused(claim(8, 0, 1, 16, 1), -1, -1).contains("Columns 0"));
        assertTrue(refused(claim(8, 8, 7, 16, 1), -1, -1).contains("SamplesPerPixel 7"));
        assertTrue(refused(claim(8, 8, 1, 12, 1), -1, -1).contains("BitsAllocated 12"));
        assertTrue(refused(claim(8, 8, 1, null, 1), -1, -1).contains("BitsAllocated is missing"));
        assertTrue(refused(claim(8, 8, 1, 16, 0), -1, -1).contains("NumberOfFrames 0"));
    }
}
