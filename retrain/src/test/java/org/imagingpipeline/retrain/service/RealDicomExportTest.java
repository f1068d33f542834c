package org.imagingpipeline.retrain.service;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferUShort;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.imagingpipeline.blob.LocalBlobStore;
import org.imagingpipeline.events.BlobRef;
import org.imagingpipeline.events.SeriesReady;
import org.imagingpipeline.retrain.service.data.SeriesCatalog;
import org.imagingpipeline.retrain.service.data.SeriesExporter;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real vendor DICOM (../shared/data/dicom-vendors/transfer-syntaxes: one Siemens MR image in nine transfer syntaxes):
 * explicit little, implicit little and explicit big endian decode to the same 16-bit PNG; the compressed ones
 * (the transfer syntax found in the file, since the event did not say) are skipped with the reason.
 */
class RealDicomExportTest {
    @TempDir
    Path tmp;

    @Test
    void sameImageInEveryUncompressedSyntaxAndCompressedOnesSkipped() throws Exception {
        Path dir = vendorData().resolve("transfer-syntaxes/In");
        LocalBlobStore blobs = new LocalBlobStore(tmp.resolve("blobs"), false);
        SeriesCatalog catalog = new SeriesCatalog(tmp.resolve("series"), 20);
        for (int i = 1; i <= 9; i++) {
            BlobRef ref = blobs.put(Files.readAllBytes(dir.resolve(i + ".dcm")), "application/dicom");
            catalog.add(TestDicom.seriesReady("dom-ts", "9." + i, 1, List.of(new SeriesReady.Instance("9." + i + ".1", null, 1, 0.0, null, ref))));
        }
        SeriesExporter.Result r = new SeriesExporter(blobs).export("dom-ts", catalog.series("dom-ts", 20), tmp.resolve("data"));

        assertEquals(List.of("9.1", "9.2", "9.3"), r.exportedSeriesUids().stream().sorted().toList());
        assertEquals(6, r.skipped().size(), r.skipped().toString());
        assertTrue(r.skipped().stream().allMatch(s -> s.reason().contains("compressed transfer syntax 1.2.840.10008.1.2.")), r.skipped().toString());
        short[] explicitLe = pixels(tmp.resolve("data/dom-ts/9.1/slice_000.png"));
        assertArrayEquals(explicitLe, pixels(tmp.resolve("data/dom-ts/9.2/slice_000.png")), "implicit VR little endian");
        assertArrayEquals(explicitLe, pixels(tmp.resolve("data/dom-ts/9.3/slice_000.png")), "explicit VR big endian");
        int max = 0;
        for (short s : explicitLe) max = Math.max(max, s & 0xffff);
        assertTrue(max > 100, "an image, not a blank: max " + max);
    }

    private static short[] pixels(Path png) throws Exception {
        BufferedImage img = ImageIO.read(png.toFile());
        assertEquals(BufferedImage.TYPE_USHORT_GRAY, img.getType());
        return ((DataBufferUShort) img.getRaster().getDataBuffer()).getData();
    }

    /** ../shared/data/dicom-vendors; missing data fails under CI=true and skips (with the reason) otherwise. */
    private static Path vendorData() {
        String shared = System.getenv("SHARED_DATA");
        Path base = shared != null && !shared.isBlank() ? Path.of(shared)
                : Path.of(System.getProperty("pipeline.repo.root", "..")).resolve("../shared/data");
        Path d = base.resolve("dicom-vendors").toAbsolutePath().normalize();
        if (!Files.isDirectory(d.resolve("transfer-syntaxes"))) {
            String reason = "real DICOM not found at " + d + " (set SHARED_DATA to the folder holding dicom-vendors)";
            if ("true".equalsIgnoreCase(System.getenv("CI"))) Assertions.fail(reason + "; CI=true, so this is a failure, not a skip");
            System.out.println("SKIP: " + reason);
            Assumptions.abort(reason);
        }
        return d;
    }
}
