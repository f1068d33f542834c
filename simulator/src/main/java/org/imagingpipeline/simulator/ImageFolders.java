package org.imagingpipeline.simulator;

import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import javax.imageio.ImageIO;

/**
 * Reads patients' FLAIR slices from the two layouts users have: the curated PNG layout
 * ({@code SITE/PATIENT/slice_NN_flair.png}, as in ../shared/data/lgg-flair) and the original Kaggle
 * {@code kaggle_3m} TIFF layout ({@code TCGA_SS_NNNN_DATE/TCGA_SS_NNNN_DATE_N.tif}, FLAIR = channel 1 of 3).
 * Masks are never read here: the scanner simulator sends images only.
 */
public final class ImageFolders {
    private static final Pattern PNG_SLICE = Pattern.compile("slice_(\\d+)_flair\\.png");
    private static final Pattern TIF_SLICE = Pattern.compile(".*_(\\d+)\\.tif");
    private static final Pattern KAGGLE_PATIENT = Pattern.compile("TCGA_([A-Z0-9]{2})_.*");

    private ImageFolders() {
    }

    /** One patient's slices in order, as 8-bit intensities, and the files they came from. */
    public record Patient(String site, String id, List<int[]> slices, int width, int height, List<Path> files) {
    }

    /** Patients of the given sites (all when empty), the first {@code perSite} of each (all when <= 0), sorted by id. */
    public static List<Patient> read(Path root, List<String> sites, int perSite) throws IOException {
        return read(root, sites, perSite, PatientFilter.ALL);
    }

    /**
     * Which patients to take by id: {@code include} (empty = every patient) minus {@code exclude}. Ids are folder
     * names (lgg-flair) or the kaggle_3m case folder names.
     */
    record PatientFilter(java.util.Set<String> include, java.util.Set<String> exclude) {
        static final PatientFilter ALL = new PatientFilter(java.util.Set.of(), java.util.Set.of());

        boolean accepts(String id) {
            return (include.isEmpty() || include.contains(id)) && !exclude.contains(id);
        }
    }

    /** As {@link #read(Path, List, int)}, keeping only the patients the filter accepts (before counting {@code perSite}). */
    static List<Patient> read(Path root, List<String> sites, int perSite, PatientFilter filter) throws IOException {
        List<Path[]> found = new ArrayList<>(); // {patientDir, siteName}
        try (Stream<Path> s = Files.walk(root, 3)) {
            for (Path d : s.filter(Files::isDirectory).sorted().toList()) {
                try (Stream<Path> files = Files.list(d)) {
                    List<String> names = files.map(f -> f.getFileName().toString()).toList();
                    if (names.stream().anyMatch(n -> PNG_SLICE.matcher(n).matches())) {
                        found.add(new Path[] {d, Path.of(d.getParent().getFileName().toString())});
                    } else if (names.stream().anyMatch(n -> TIF_SLICE.matcher(n).matches() && !n.contains("_mask"))) {
                        Matcher m = KAGGLE_PATIENT.matcher(d.getFileName().toString());
                        if (m.matches()) found.add(new Path[] {d, Path.of(m.group(1))});
                    }
                }
            }
        }
        if (found.isEmpty()) throw new IllegalArgumentException("no patient image folders under " + root
                + " (expected SITE/PATIENT/slice_NN_flair.png or kaggle_3m TCGA_SS_NNNN_DATE/*_N.tif)");
        List<String> wanted = sites.stream().map(x -> x.toUpperCase(Locale.ROOT)).toList();
        List<Patient> out = new ArrayList<>();
        java.util.Map<String, Integer> taken = new java.util.HashMap<>();
        for (Path[] f : found) {
            String site = f[1].toString().toUpperCase(Locale.ROOT);
            if (!wanted.isEmpty() && !wanted.contains(site)) continue;
            if (!filter.accepts(f[0].getFileName().toString())) continue;
            if (perSite > 0 && taken.getOrDefault(site, 0) >= perSite) continue;
            out.add(readPatient(f[0], site));
            taken.merge(site, 1, Integer::sum);
        }
        for (String w : wanted) {
            if (!taken.containsKey(w)) throw new IllegalArgumentException("site " + w + " has no patients under " + root
                    + (filter == PatientFilter.ALL ? "" : " that the patient filter accepts"));
        }
        return out;
    }

    private static Patient readPatient(Path dir, String site) throws IOException {
        List<Path> slices;
        try (Stream<Path> s = Files.list(dir)) {
            slices = s.filter(p -> PNG_SLICE.matcher(p.getFileName().toString()).matches()
                            || (TIF_SLICE.matcher(p.getFileName().toString()).matches() && !p.getFileName().toString().contains("_mask")))
                    .sorted(Comparator.comparingInt(ImageFolders::sliceNumber)).toList();
        }
        List<int[]> pixels = new ArrayList<>();
        int w = -1, h = -1;
        for (Path p : slices) {
            BufferedImage img = ImageIO.read(p.toFile());
            if (img == null) throw new IOException("cannot read image " + p);
            if (w < 0) {
                w = img.getWidth();
                h = img.getHeight();
            } else if (img.getWidth() != w || img.getHeight() != h) {
                throw new IOException(p + " is " + img.getWidth() + "x" + img.getHeight() + ", other slices are " + w + "x" + h);
            }
            Raster r = img.getRaster();
            int band = r.getNumBands() >= 3 ? 1 : 0; // kaggle_3m: FLAIR is channel 1 of 3
            int[] v = new int[w * h];
            r.getSamples(0, 0, w, h, band, v);
            pixels.add(v);
        }
        return new Patient(site, dir.getFileName().toString(), pixels, w, h, slices);
    }

    /** The expert mask file beside an image slice (never read by the simulator itself; only for --export). */
    static Path maskFor(Path slice) {
        String n = slice.getFileName().toString();
        if (n.endsWith("_flair.png")) return slice.resolveSibling(n.replace("_flair.png", "_mask.png"));
        int dot = n.lastIndexOf('.');
        return slice.resolveSibling(n.substring(0, dot) + "_mask" + n.substring(dot));
    }

    static int sliceNumber(Path p) {
        Matcher m = PNG_SLICE.matcher(p.getFileName().toString());
        if (m.matches()) return Integer.parseInt(m.group(1));
        Matcher t = TIF_SLICE.matcher(p.getFileName().toString());
        return t.matches() ? Integer.parseInt(t.group(1)) : Integer.MAX_VALUE;
    }
}
