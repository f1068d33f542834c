package org.imagingpipeline.simulator;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.Raster;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Phantoms in the lgg-flair layout: masks where the lesions are, distinct site looks, readable by the simulator. */
class PhantomDatasetTest {
    @TempDir
    Path tmp;

    @Test
    void sitesHaveLesionsMasksAndDifferentLooks() throws Exception {
        int n = PhantomDataset.generate(tmp, Map.of("SYNTHA", 3, "SYNTHC", 3), 12, 64, 5);
        assertEquals(72, n);
        List<ImageFolders.Patient> a = ImageFolders.read(tmp, List.of("SYNTHA"), 0);
        List<ImageFolders.Patient> c = ImageFolders.read(tmp, List.of("SYNTHC"), 0);
        assertEquals(3, a.size());
        assertEquals(12, a.get(0).slices().size());
        long lesionPixels = 0;
        double lesionMean = 0, brainMean = 0;
        long brainPixels = 0;
        for (ImageFolders.Patient p : a) {
            for (int z = 0; z < p.slices().size(); z++) {
                Raster m = ImageIO.read(ImageFolders.maskFor(p.files().get(z)).toFile()).getRaster();
                int[] img = p.slices().get(z);
                for (int k = 0; k < img.length; k++) {
                    int mv = m.getSample(k % 64, k / 64, 0);
                    assertTrue(mv == 0 || mv == 255, "binary mask");
                    if (mv > 0) {
                        lesionPixels++;
                        lesionMean += img[k];
                    } else if (img[k] > 60) {
                        brainPixels++;
                        brainMean += img[k];
                    }
                }
            }
        }
        assertTrue(lesionPixels > 50, "lesions present: " + lesionPixels);
        assertTrue(lesionMean / lesionPixels > 1.3 * brainMean / brainPixels, "lesions are hyperintense on FLAIR");
        assertTrue(Math.abs(mean(a) - mean(c)) > 5, "sites look different: " + mean(a) + " vs " + mean(c));
        assertThrows(IllegalArgumentException.class, () -> PhantomDataset.generate(tmp, Map.of("NOPE", 1), 4, 32, 1));
    }

    private static double mean(List<ImageFolders.Patient> ps) {
        double s = 0;
        long n = 0;
        for (ImageFolders.Patient p : ps) for (int[] sl : p.slices()) for (int v : sl) if (v > 20) { s += v; n++; }
        return s / n;
    }
}
