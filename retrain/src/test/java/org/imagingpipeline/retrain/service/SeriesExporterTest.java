package org.imagingpipeline.retrain.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.imagingpipeline.blob.LocalBlobStore;
import org.imagingpipeline.events.BlobRef;
import org.imagingpipeline.events.SeriesReady;
import org.imagingpipeline.retrain.service.data.CatalogSeries;
import org.imagingpipeline.retrain.service.data.SeriesCatalog;
import org.imagingpipeline.retrain.service.data.SeriesExporter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SeriesExporterTest {
    @TempDir
    Path tmp;

    @Test
    void writesRescaled16BitPngsInSeriesOrderAndSkipsUnusableSeriesWithReasons() throws Exception {
        LocalBlobStore blobs = new LocalBlobStore(tmp.resolve("blobs"), false);
        short[] px = new short[12];
        for (int k = 0; k < px.length; k++) px[k] = (short) (100 * k);
        px[11] = (short) 4095;
        BlobRef first = blobs.put(TestDicom.mrSlice("1.2.3", "1.2.3.1", 1, px, 3, 4, 2.0, -50.0), "application/dicom");
        BlobRef second = blobs.put(TestDicom.mrSlice("1.2.3", "1.2.3.2", 2, new short[12], 3, 4, 1.0, 7.0), "application/dicom");
        SeriesCatalog catalog = new SeriesCatalog(tmp.resolve("series"), 10);
        catalog.add(TestDicom.seriesReady("dom-a", "1.2.3", 1, List.of(
                new SeriesReady.Instance("1.2.3.1", null, 1, 0.0, "1.2.840.10008.1.2.1", first),
                new SeriesReady.Instance("1.2.3.2", null, 2, 1.0, "1.2.840.10008.1.2.1", second))));
        catalog.add(TestDicom.seriesReady("dom-a", "1.2.4", 1, List.of(
                new SeriesReady.Instance("1.2.4.1", null, 1, 0.0, "1.2.840.10008.1.2.4.50", first))));
        BlobRef absent = new BlobRef("0".repeat(64), "file:/nowhere", 1, "application/dicom");
        catalog.add(TestDicom.seriesReady("dom-a", "1.2.5", 1, List.of(
                new SeriesReady.Instance("1.2.5.1", null, 1, 0.0, "1.2.840.10008.1.2.1", absent))));

        List<CatalogSeries> series = catalog.series("dom-a", 10);
        SeriesExporter.Result r = new SeriesExporter(blobs).export("dom-a", series, tmp.resolve("data"));

        assertEquals(List.of("1.2.3"), r.exportedSeriesUids());
        assertEquals(2, r.slices());
        assertEquals(2, r.skipped().size(), r.skipped().toString());
        assertTrue(r.skipped().stream().anyMatch(s -> s.seriesInstanceUid().equals("1.2.4")
                && s.reason().contains("compressed transfer syntax 1.2.840.10008.1.2.4.50")), r.skipped().toString());
        assertTrue(r.skipped().stream().anyMatch(s -> s.seriesInstanceUid().equals("1.2.5")
                && s.reason().contains("not in the blob store")), r.skipped().toString());
        assertTrue(Files.notExists(tmp.resolve("data/dom-a/1.2.5")), "no partial series left behind");

        BufferedImage img = ImageIO.read(tmp.resolve("data/dom-a/1.2.3/slice_000.png").toFile());
        assertEquals(BufferedImage.TYPE_USHORT_GRAY, img.getType());
        assertEquals(4, img.getWidth());
        assertEquals(3, img.getHeight());
        // value = stored * 2 - 50, clamped at 0
        assertEquals(0, img.getRaster().getSample(0, 0, 0));
        assertEquals(150, img.getRaster().getSample(1, 0, 0));
        assertEquals(4095 * 2 - 50, img.getRaster().getSample(3, 2, 0));
        BufferedImage second2 = ImageIO.read(tmp.resolve("data/dom-a/1.2.3/slice_001.png").toFile());
        assertEquals(7, second2.getRaster().getSample(2, 1, 0));
    }

    @Test
    void catalogKeepsHighestRevisionBoundsDomainsAndSurvivesReopen() throws Exception {
        LocalBlobStore blobs = new LocalBlobStore(tmp.resolve("blobs"), false);
        SeriesCatalog catalog = new SeriesCatalog(tmp.resolve("series"), 2);
        catalog.add(TestDicom.storedSeries(blobs, "dom-a", "1.1", 2, 1));
        catalog.add(TestDicom.storedSeries(blobs, "dom-a", "1.1", 3, 2));
        catalog.add(TestDicom.storedSeries(blobs, "dom-a", "1.1", 1, 1)); // older revision redelivered: ignored
        Thread.sleep(5);
        catalog.add(TestDicom.storedSeries(blobs, "dom-a", "1.2", 1, 1));
        Thread.sleep(5);
        catalog.add(TestDicom.storedSeries(blobs, "dom-a", "1.3", 1, 1)); // bound 2: 1.1 (oldest) goes
        SeriesCatalog reopened = new SeriesCatalog(tmp.resolve("series"), 2);
        assertEquals(2, reopened.count("dom-a"));
        assertEquals(List.of("1.3", "1.2"), reopened.series("dom-a", 10).stream().map(CatalogSeries::seriesInstanceUid).toList());
        catalog.add(TestDicom.storedSeries(blobs, "dom-a", "1.2", 4, 3));
        assertEquals(4, new SeriesCatalog(tmp.resolve("series"), 2).series("dom-a", 10).stream()
                .filter(s -> s.seriesInstanceUid().equals("1.2")).findFirst().orElseThrow().instances().size());
    }
}
