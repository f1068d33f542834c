package org.imagingpipeline.streams;

import org.imagingpipeline.testsupport.SharedTestData;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/** Decoding and image statistics on the shared real vendor DICOM files. */
class ImageStatisticsTest {
    static Path vendor(String folder) {
        return SharedTestData.require("dicom-vendors/" + folder);
    }

    @Test
    void everyTransferSyntaxDecodesToTheSameValuesOrIsRecordedAsUndecodable() throws Exception {
        Path dir = vendor("transfer-syntaxes").resolve("In");
        ImageStatistics.Slice reference = PixelDecoder.decode(dir.resolve("1.dcm"));
        int decoded = 0;
        List<String> undecodable = new ArrayList<>();
        for (int i = 2; i <= 9; i++) {
            try {
                ImageStatistics.Slice s = PixelDecoder.decode(dir.resolve(i + ".dcm"));
                assertArrayEquals(reference.values(), s.values(), "file " + i + " is lossless: same values as file 1");
                decoded++;
            } catch (PixelDecoder.Undecodable e) {
                assertNotNull(e.transferSyntaxUid(), "the undecodable transfer syntax is named");
                assertFalse(e.getMessage().isBlank());
                undecodable.add(i + ":" + e.transferSyntaxUid());
            }
        }
        // implicit/explicit LE, explicit BE, RLE and JPEG lossless must decode here; JPEG-LS and JPEG 2000 need codecs PixelMed may lack
        assertTrue(decoded >= 5, "decoded " + decoded + ", undecodable " + undecodable);
        for (String u : undecodable) assertTrue(u.matches("[789]:1\\.2\\.840\\.10008\\.1\\.2\\.4\\.(80|81|90|91)"), u);
    }

    @Test
    void ctRescaleInterceptGivesHounsfieldUnits() throws Exception {
        Path f;
        try (Stream<Path> s = Files.walk(vendor("ge-ct"))) {
            f = s.filter(p -> p.toString().endsWith(".dcm")).sorted().findFirst().orElseThrow();
        }
        float[] v = PixelDecoder.decode(f).values();
        float min = Float.MAX_VALUE;
        for (float x : v) min = Math.min(min, x);
        assertTrue(min < -900, "air is about -1000 HU after rescale, min was " + min);
    }

    @Test
    void featuresAreStableAndIgnoreTheScannersGain() throws Exception {
        List<ImageStatistics.Slice> slices = series("ge-mr");
        double[] a = ImageStatistics.of(slices), b = ImageStatistics.of(series("ge-mr"));
        assertArrayEquals(a, b, "same slices, same features");
        assertTrue(Arrays.stream(a).allMatch(Double::isFinite), Arrays.toString(a));
        List<ImageStatistics.Slice> brighter = new ArrayList<>();
        for (ImageStatistics.Slice s : slices) {
            float[] v = s.values().clone();
            for (int i = 0; i < v.length; i++) v[i] *= 3;
            brighter.add(new ImageStatistics.Slice(v, s.width(), s.height()));
        }
        double[] c = ImageStatistics.of(brighter);
        for (int i = 0; i < a.length; i++) {
            String name = ImageStatistics.NAMES.get(i);
            if (name.equals("logScale")) assertEquals(a[i] + Math.log10(3), c[i], 1e-4);
            else assertEquals(a[i], c[i], 1e-4 * Math.max(1, Math.abs(a[i])), name);
        }
    }

    @Test
    void differentVendorsGiveDifferentStatistics() throws Exception {
        double[] ge = ImageStatistics.detectorFeatures(ImageStatistics.of(series("ge-mr")));
        double[] philips = ImageStatistics.detectorFeatures(ImageStatistics.of(series("philips-mr")));
        assertEquals(ImageStatistics.DETECTOR_NAMES.size(), ge.length);
        assertFalse(Arrays.equals(ge, philips));
    }

    @Test
    void aBlankImageHasNoStatistics() {
        double[] f = ImageStatistics.of(List.of(new ImageStatistics.Slice(new float[64 * 64], 64, 64)));
        assertTrue(Arrays.stream(f).allMatch(Double::isNaN));
    }

    /** The slices the extractor would pick from a vendor folder (file order). */
    private static List<ImageStatistics.Slice> series(String folder) throws Exception {
        List<Path> files;
        try (Stream<Path> s = Files.walk(vendor(folder))) {
            files = s.filter(p -> p.toString().endsWith(".dcm")).sorted().toList();
        }
        List<ImageStatistics.Slice> out = new ArrayList<>();
        for (int i : SliceSelection.pick(files.size(), 12)) out.add(PixelDecoder.decode(files.get(i)));
        return out;
    }
}
