package org.imagingpipeline.retrain.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.imagingpipeline.retrain.service.data.ExpertLabels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ExpertLabelsTest {
    @TempDir
    Path tmp;

    private void slices(Path dir, String suffix, int n) throws Exception {
        Files.createDirectories(dir);
        for (int i = 0; i < n; i++) Files.writeString(dir.resolve(String.format("slice_%03d%s.png", i, suffix)), "x" + i);
    }

    @Test
    void copiesCompleteSeriesIntoTheGateLayoutAndLeavesOutIncompleteOnes() throws Exception {
        Path data = tmp.resolve("data");
        slices(data.resolve("dom-1/2.25.1"), "", 3);
        slices(data.resolve("dom-1/2.25.2"), "", 3);
        slices(data.resolve("dom-1/2.25.3"), "", 2);
        Path labels = tmp.resolve("expert");
        slices(labels.resolve("2.25.1"), "_mask", 3);
        slices(labels.resolve("2.25.2"), "_mask", 2); // one slice not corrected
        slices(labels.resolve("2.25.9"), "_mask", 3); // a series this job does not use
        Path out = tmp.resolve("labels");

        ExpertLabels.Result r = ExpertLabels.collect(labels, "dom-1", List.of("2.25.1", "2.25.2", "2.25.3"), data, out);

        assertEquals(List.of("2.25.1"), r.labelledSeriesUids());
        assertEquals(1, r.skipped().size());
        assertEquals("2.25.2", r.skipped().get(0).seriesInstanceUid());
        assertTrue(r.skipped().get(0).reason().contains("no slice_002_mask.png for slice 2 of 3"), r.skipped().toString());
        assertEquals("x2", Files.readString(out.resolve("dom-1/2.25.1/slice_002_mask.png")));
        assertFalse(Files.exists(out.resolve("dom-1/2.25.2")), "no partial volume reaches the gate");
        assertFalse(Files.exists(out.resolve("dom-1/2.25.9")));
    }

    @Test
    void noFolderMeansNoLabels() throws Exception {
        ExpertLabels.Result r = ExpertLabels.collect(tmp.resolve("missing"), "dom-1", List.of("2.25.1"), tmp, tmp.resolve("out"));
        assertTrue(r.labelledSeriesUids().isEmpty());
        assertTrue(r.skipped().isEmpty());
    }
}
