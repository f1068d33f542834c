package org.imagingpipeline.retrain;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Expert-corrected target masks for the promotion gate ({@code --target-labels DIR}), never for adaptation:
 * {@code DIR/SITE/SERIES/} holds, for each image {@code NAME_flair.png} or {@code NAME.png} of the target series,
 * a mask {@code NAME_mask.png} (0 = background, > 127 = lesion). A series without a folder there is unlabelled.
 */
public final class TargetLabels {

    private TargetLabels() {
    }

    /** The masks of one series, slice for slice, or null when DIR has no folder for it. */
    public static List<byte[]> load(Path dir, TargetImages.Images images) {
        TargetImages.Series s = images.series();
        Path folder = dir.resolve(s.site()).resolve(s.id());
        if (!Files.isDirectory(folder)) {
            return null;
        }
        List<byte[]> masks = new ArrayList<>();
        for (Path image : s.images()) {
            String name = image.getFileName().toString();
            int dot = name.lastIndexOf('.');
            String stem = (dot < 0 ? name : name.substring(0, dot)).replaceFirst("_flair$", "");
            Path mask = folder.resolve(stem + "_mask" + (dot < 0 ? "" : name.substring(dot)));
            if (!Files.isRegularFile(mask)) {
                throw new DataException("--target-labels: no mask " + mask + " for image " + image);
            }
            BufferedImage bi;
            try {
                bi = ImageIO.read(mask.toFile());
            } catch (IOException e) {
                throw new DataException("cannot read mask " + mask + ": " + e.getMessage(), e);
            }
            if (bi == null || bi.getWidth() != images.width() || bi.getHeight() != images.height()) {
                throw new DataException("mask " + mask + " is not a " + images.width() + "x" + images.height() + " image");
            }
            int[] v = bi.getRaster().getSamples(0, 0, images.width(), images.height(), 0, (int[]) null);
            int max = (1 << bi.getColorModel().getComponentSize(0)) - 1;
            byte[] m = new byte[v.length];
            for (int i = 0; i < v.length; i++) {
                m[i] = (byte) (v[i] > max / 2 ? 1 : 0);
            }
            masks.add(m);
        }
        return masks;
    }
}
