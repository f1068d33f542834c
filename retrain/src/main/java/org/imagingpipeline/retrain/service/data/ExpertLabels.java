package org.imagingpipeline.retrain.service.data;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.stream.Stream;
import org.imagingpipeline.retrain.service.SafeNames;

/**
 * Expert-corrected masks returned for series of a domain ({@code retrain.expert-labels}): {@code DIR/<SeriesInstanceUID>/}
 * holds one mask PNG per slice, {@code slice_NNN_mask.png} (NNN from 000, in the series' slice order - the order of
 * {@code imaging.series.ready}, which is also the order {@link SeriesExporter} writes {@code slice_NNN.png}; 0 =
 * background, above half of the maximum = lesion). For a job, the masks of its exported series are copied into the
 * adapt command's {@code --target-labels} layout ({@code OUT/<domainId>/<series>/slice_NNN_mask.png}); the adapt
 * command reads them only in the gate, after adaptation, and their Dice then decides the target side. A series
 * whose folder lacks a mask for any of its slices is left out, with the reason: a partial volume would give a
 * wrong Dice.
 */
public final class ExpertLabels {

    /** The labelled series of a job and the ones left out. */
    public record Result(List<String> labelledSeriesUids, List<SeriesExporter.Skip> skipped) {
    }

    private ExpertLabels() {
    }

    public static Result collect(Path labelsRoot, String domainId, List<String> exportedSeriesUids, Path dataDir, Path out)
            throws IOException {
        List<String> labelled = new ArrayList<>();
        List<SeriesExporter.Skip> skipped = new ArrayList<>();
        if (labelsRoot == null || !Files.isDirectory(labelsRoot)) return new Result(labelled, skipped);
        for (String uid : exportedSeriesUids) {
            String folder = SafeNames.forFile(uid);
            Path masks = labelsRoot.resolve(folder);
            if (!Files.isDirectory(masks)) continue;
            Path images = dataDir.resolve(SafeNames.check(domainId)).resolve(folder);
            int slices;
            try (Stream<Path> s = Files.list(images)) {
                slices = (int) s.filter(p -> p.getFileName().toString().matches("slice_\\d{3}\\.png")).count();
            }
            List<Path> found = new ArrayList<>();
            String missing = null;
            for (int n = 0; n < slices && missing == null; n++) {
                Path m = masks.resolve(String.format(Locale.ROOT, "slice_%03d_mask.png", n));
                if (Files.isRegularFile(m)) found.add(m);
                else missing = m.getFileName().toString();
            }
            if (missing != null || slices == 0) {
                skipped.add(new SeriesExporter.Skip(uid, "expert labels incomplete: " + (slices == 0 ? "no exported slices"
                        : "no " + missing + " for slice " + found.size() + " of " + slices)));
                continue;
            }
            Path target = Files.createDirectories(out.resolve(SafeNames.check(domainId)).resolve(folder));
            for (Path m : found) Files.copy(m, target.resolve(m.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            labelled.add(uid);
        }
        return new Result(labelled, skipped);
    }
}
