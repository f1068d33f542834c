package org.imagingpipeline.simulator;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * {@code send --expert-labels DIR [--expert-series N]}: plays the radiologist who returns corrected masks for the first
 * N series a new scanner sends (an acceptance check of a new domain). Before those series are sent, their expert masks
 * are written as {@code DIR/<SeriesInstanceUID>/slice_NNN_mask.png} (NNN from 000 in instance order), the layout the
 * retrain service reads from {@code retrain.expert-labels}; the promotion gate then decides on their Dice. A series
 * with a slice lacking a mask gets no folder (a partial volume would give a wrong Dice).
 */
final class ExpertCorrections {
    private final Path root;
    private final int series;
    private int written;

    /** @param series how many series get corrections; 0 or less = every series */
    ExpertCorrections(Path root, int series) throws IOException {
        this.root = Files.createDirectories(root);
        this.series = series;
    }

    /** Writes the series' masks if it is among the first N; returns whether it did. */
    boolean write(ImageFolders.Patient p, String seriesUid) throws IOException {
        if (series > 0 && written >= series) return false;
        for (Path f : p.files()) {
            if (!Files.isRegularFile(ImageFolders.maskFor(f))) {
                System.err.println("send: no expert mask for " + f + ": series " + seriesUid + " gets no corrections");
                return false;
            }
        }
        Path tmp = Files.createDirectories(root.resolve(".tmp-" + seriesUid));
        for (int i = 0; i < p.files().size(); i++) {
            ImageIO.write(SentSeriesExport.binaryMask(ImageFolders.maskFor(p.files().get(i)), p.width(), p.height()), "png",
                    tmp.resolve(String.format(Locale.ROOT, "slice_%03d_mask.png", i)).toFile());
        }
        Path dir = root.resolve(seriesUid);
        if (Files.exists(dir)) {
            try (var s = Files.list(dir)) {
                for (Path old : s.toList()) Files.delete(old);
            }
            Files.delete(dir);
        }
        Files.move(tmp, dir); // whole series at once: the service never sees half of it
        written++;
        return true;
    }
}
