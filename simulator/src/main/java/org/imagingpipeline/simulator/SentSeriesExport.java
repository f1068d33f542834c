package org.imagingpipeline.simulator;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * {@code send --export DIR}: writes each simulated series as it was sent (16-bit PNG, after the acquisition profile)
 * together with the expert masks of the source slices, in the lgg-flair layout
 * ({@code DIR/SITE[-PROFILE]/PATIENT/slice_NN_flair.png}, SITE replaced by {@code --export-label} when given, + {@code slice_NN_mask.png}), and appends one line per series
 * to {@code DIR/series.tsv} (SeriesInstanceUID, StudyInstanceUID, site, patient, profile, slices, folder).
 *
 * <p>This is for whoever holds the ground truth (the demo): it can evaluate models on exactly the pixels the pipeline
 * received. The pipeline itself never sees the masks.
 */
final class SentSeriesExport {
    static final String INDEX = "series.tsv";
    private final Path root;
    private final String label;

    SentSeriesExport(Path root) throws IOException {
        this(root, null);
    }

    /** @param label folder name to use instead of the site code (e.g. DU-HELDOUT), null for the site code */
    SentSeriesExport(Path root, String label) throws IOException {
        this.root = Files.createDirectories(root);
        this.label = label;
    }

    void write(ImageFolders.Patient p, String profile, String studyUid, String seriesUid, List<short[]> sent) throws IOException {
        String base = label == null ? p.site() : label;
        String siteDir = profile == null ? base : base + "-" + profile.toUpperCase(Locale.ROOT);
        Path dir = Files.createDirectories(root.resolve(siteDir).resolve(p.id()));
        for (int i = 0; i < sent.size(); i++) {
            String stem = String.format(Locale.ROOT, "slice_%02d", i + 1);
            ImageIO.write(gray16(sent.get(i), p.width(), p.height()), "png", dir.resolve(stem + "_flair.png").toFile());
            Path mask = ImageFolders.maskFor(p.files().get(i));
            if (Files.isRegularFile(mask)) {
                ImageIO.write(binaryMask(mask, p.width(), p.height()), "png", dir.resolve(stem + "_mask.png").toFile());
            }
        }
        String line = String.join("\t", seriesUid, studyUid, p.site(), p.id(), profile == null ? "" : profile,
                Integer.toString(sent.size()), root.relativize(dir).toString()) + "\n";
        try (Writer w = Files.newBufferedWriter(root.resolve(INDEX), StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.APPEND)) {
            w.write(line);
        }
    }

    private static BufferedImage gray16(short[] px, int w, int h) {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_USHORT_GRAY);
        WritableRaster r = img.getRaster();
        int[] v = new int[px.length];
        for (int k = 0; k < px.length; k++) v[k] = px[k] & 0xFFFF;
        r.setSamples(0, 0, w, h, 0, v);
        return img;
    }

    static BufferedImage binaryMask(Path mask, int w, int h) throws IOException {
        BufferedImage m = ImageIO.read(mask.toFile());
        if (m == null) throw new IOException("cannot read mask " + mask);
        if (m.getWidth() != w || m.getHeight() != h) throw new IOException("mask " + mask + " is not " + w + "x" + h);
        Raster r = m.getRaster();
        int[] v = new int[w * h];
        r.getSamples(0, 0, w, h, 0, v);
        for (int k = 0; k < v.length; k++) v[k] = v[k] > 0 ? 255 : 0;
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_BYTE_GRAY);
        out.getRaster().setSamples(0, 0, w, h, 0, v);
        return out;
    }
}
