package org.imagingpipeline.retrain;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * The unlabelled images of a target domain, for adaptation. By construction it never opens, lists or names a
 * mask: it keeps only image files whose name does not contain {@code _mask}, and its types have no mask field.
 * <ul>
 *   <li>PNG layout: {@code DIR/SITE/SERIES/*.png} (the lgg-flair layout, where SERIES is a patient, or the
 *       retrain service's export, one folder per DICOM series, SITE = domain id); 8- or 16-bit grayscale;</li>
 *   <li>kaggle_3m TIFF layout: {@code DIR[/kaggle_3m]/TCGA_SS_NNNN_DATE/*.tif}, FLAIR = channel 1 of 3.</li>
 * </ul>
 * Slices are ordered by the last number in the file name, then by name.
 */
public final class TargetImages {

    private static final Pattern KAGGLE_CASE = Pattern.compile("TCGA_([A-Z0-9]{2})_([A-Z0-9]+)(_\\d+)?");
    private static final Pattern LAST_NUMBER = Pattern.compile("(\\d+)(?!.*\\d)");

    /** One series (or patient) folder: its image files in slice order. */
    public record Series(String site, String id, List<Path> images) { }

    /** One series in memory: raw intensities, all slices the same size. */
    public record Images(Series series, int width, int height, List<float[]> slices) { }

    private TargetImages() {
    }

    public static boolean isMask(Path file) {
        return file.getFileName().toString().toLowerCase(Locale.ROOT).contains("_mask");
    }

    /** Series of the given sites, sorted by site then id; a missing or empty site is a clear error. */
    public static List<Series> discover(Path data, List<String> sites) {
        if (sites == null || sites.isEmpty() || sites.stream().anyMatch(String::isBlank)) {
            throw new DataException("no site given (use --sites S[,S])");
        }
        boolean kaggle = SliceDataset.detectLayout(data) == SliceDataset.Layout.KAGGLE_TIFF;
        TreeMap<String, List<Series>> bySite = kaggle ? kaggle(data) : png(data);
        List<Series> out = new ArrayList<>();
        for (String site : sites) {
            List<Series> s = bySite.get(site);
            if (s == null) {
                throw new DataException("site '" + site + "' not found in " + data + " (sites there: "
                        + (bySite.isEmpty() ? "none" : String.join(", ", bySite.keySet())) + ")");
            }
            List<Series> nonEmpty = s.stream().filter(x -> !x.images().isEmpty()).toList();
            if (nonEmpty.isEmpty()) {
                throw new DataException("site '" + site + "' in " + data + " has no image series");
            }
            out.addAll(nonEmpty);
        }
        return out;
    }

    private static TreeMap<String, List<Series>> png(Path data) {
        TreeMap<String, List<Series>> bySite = new TreeMap<>();
        for (Path siteDir : dirs(data)) {
            String site = siteDir.getFileName().toString();
            if (site.startsWith(".")) {
                continue;
            }
            List<Series> series = new ArrayList<>();
            for (Path s : dirs(siteDir)) {
                series.add(new Series(site, s.getFileName().toString(), images(s, ".png")));
            }
            bySite.put(site, series);
        }
        return bySite;
    }

    private static TreeMap<String, List<Series>> kaggle(Path data) {
        Path root = Files.isDirectory(data.resolve("kaggle_3m")) ? data.resolve("kaggle_3m") : data;
        TreeMap<String, List<Series>> bySite = new TreeMap<>();
        for (Path c : dirs(root)) {
            Matcher m = KAGGLE_CASE.matcher(c.getFileName().toString());
            if (m.matches()) {
                String site = m.group(1);
                List<Path> files = images(c, ".tif");
                files = files.isEmpty() ? images(c, ".tiff") : files;
                bySite.computeIfAbsent(site, k -> new ArrayList<>())
                        .add(new Series(site, "TCGA_" + site + "_" + m.group(2), files));
            }
        }
        return bySite;
    }

    private static List<Path> images(Path dir, String ext) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile)
                    .filter(f -> f.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(ext))
                    .filter(f -> !isMask(f))
                    .sorted(Comparator.comparingLong(TargetImages::sliceNumber)
                            .thenComparing(f -> f.getFileName().toString()))
                    .toList();
        } catch (IOException e) {
            throw new DataException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    private static long sliceNumber(Path f) {
        Matcher m = LAST_NUMBER.matcher(f.getFileName().toString());
        return m.find() ? Long.parseLong(m.group(1).length() > 18 ? m.group(1).substring(0, 18) : m.group(1)) : -1;
    }

    private static List<Path> dirs(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isDirectory).sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
        } catch (IOException e) {
            throw new DataException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Reads every slice (grey value as float; 16-bit PNGs keep their full range). */
    public static Images load(Series series) {
        List<float[]> slices = new ArrayList<>();
        int w = -1;
        int h = -1;
        for (Path f : series.images()) {
            BufferedImage bi;
            try {
                bi = ImageIO.read(f.toFile());
            } catch (IOException e) {
                throw new DataException("cannot read image " + f + ": " + e.getMessage(), e);
            }
            if (bi == null) {
                throw new DataException("not a readable image (PNG/TIFF): " + f);
            }
            Raster r = bi.getRaster();
            if (w < 0) {
                w = r.getWidth();
                h = r.getHeight();
            } else if (w != r.getWidth() || h != r.getHeight()) {
                throw new DataException("slice " + f + " is " + r.getWidth() + "x" + r.getHeight()
                        + " but earlier slices of series " + series.id() + " are " + w + "x" + h);
            }
            float[] px = new float[w * h];
            r.getSamples(0, 0, w, h, r.getNumBands() >= 3 ? 1 : 0, px);
            slices.add(px);
        }
        return new Images(series, w, h, slices);
    }

    /** sha256 of the sorted, newline-joined series folder names (the model card's record of what was used). */
    public static String seriesHash(List<Series> series) {
        return SliceDataset.patientHash(series.stream().map(Series::id).toList());
    }
}
