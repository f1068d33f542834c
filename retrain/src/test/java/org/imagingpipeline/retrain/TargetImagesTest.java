package org.imagingpipeline.retrain;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Target images are found without ever naming a mask; 16-bit PNGs keep their range; order is by slice number. */
class TargetImagesTest {

    @TempDir
    Path dir;

    private static void png16(Path file, int w, int h, int value) throws Exception {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_USHORT_GRAY);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.getRaster().setSample(x, y, 0, value + x);
            }
        }
        ImageIO.write(img, "png", file.toFile());
    }

    @Test
    void listsImagesInSliceOrderAndNeverAMask() throws Exception {
        Path series = Files.createDirectories(dir.resolve("dom-1/1.2.3.4"));
        png16(series.resolve("img_10.png"), 8, 4, 40000);
        png16(series.resolve("img_2.png"), 8, 4, 20000);
        png16(series.resolve("img_1.png"), 8, 4, 10000);
        Files.writeString(series.resolve("img_1_mask.png"), "not even an image: reading it would fail");
        Files.writeString(series.resolve("IMG_2_MASK.png"), "neither");
        Files.writeString(series.resolve("notes.txt"), "ignored");
        List<TargetImages.Series> found = TargetImages.discover(dir, List.of("dom-1"));
        assertEquals(1, found.size());
        assertEquals("1.2.3.4", found.get(0).id());
        assertEquals(List.of("img_1.png", "img_2.png", "img_10.png"),
                found.get(0).images().stream().map(p -> p.getFileName().toString()).toList());
        TargetImages.Images im = TargetImages.load(found.get(0));
        assertEquals(8, im.width());
        assertEquals(4, im.height());
        assertEquals(10000f, im.slices().get(0)[0]);
        assertEquals(40007f, im.slices().get(2)[7], "16-bit values are read as they are");
    }

    @Test
    void aSiteWithOnlyMasksHasNoImages() throws Exception {
        Path series = Files.createDirectories(dir.resolve("X/P1"));
        Files.writeString(series.resolve("slice_01_mask.png"), "x");
        DataException e = assertThrows(DataException.class, () -> TargetImages.discover(dir, List.of("X")));
        assertTrue(e.getMessage().contains("has no image series"), e.getMessage());
        e = assertThrows(DataException.class, () -> TargetImages.discover(dir, List.of("Y")));
        assertTrue(e.getMessage().contains("site 'Y' not found"), e.getMessage());
    }

    @Test
    void seriesHashDependsOnTheSetOfFoldersOnly() {
        var a = new TargetImages.Series("S", "b", List.of());
        var b = new TargetImages.Series("S", "a", List.of());
        assertEquals(TargetImages.seriesHash(List.of(a, b)), TargetImages.seriesHash(List.of(b, a)));
        assertTrue(!TargetImages.seriesHash(List.of(a)).equals(TargetImages.seriesHash(List.of(a, b))));
    }
}
