package org.imagingpipeline.retrain;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Finds and reads FLAIR slices with their masks, per patient, in either layout:
 * <ul>
 *   <li>PNG ({@code ../shared/data/lgg-flair}): {@code DIR/SITE/PATIENT/slice_NN_flair.png} + {@code slice_NN_mask.png};</li>
 *   <li>Kaggle {@code kaggle_3m} TIFF: {@code DIR/TCGA_SS_NNNN_DATE/TCGA_SS_NNNN_DATE_K.tif} (3 channels, FLAIR =
 *       channel 1) + {@code ..._K_mask.tif}; the site is the institution code SS; {@code DIR} may also be the
 *       folder that holds {@code kaggle_3m}.</li>
 * </ul>
 */
public final class SliceDataset {

    private static final Pattern PNG_SLICE = Pattern.compile("slice_(\\d+)_flair\\.png");
    private static final Pattern KAGGLE_CASE = Pattern.compile("TCGA_([A-Z0-9]{2})_([A-Z0-9]+)(_\\d+)?");
    private static final Pattern KAGGLE_SLICE = Pattern.compile(".*_(\\d+)\\.tiff?");

    public enum Layout { PNG, KAGGLE_TIFF }

    /** One slice on disk. */
    public record SliceRef(int index, Path image, Path mask) { }

    /** One patient's slices on disk, in slice order. */
    public record PatientRef(String site, String patientId, List<SliceRef> slices) { }

    /** One patient's slices in memory: raw intensities and binary masks (0/1), all the same size. */
    public record Volume(PatientRef ref, int width, int height, List<float[]> images, List<byte[]> masks) {
        public long lesionVoxels() {
            long n = 0;
            for (byte[] m : masks) {
                for (byte b : m) {
                    n += b;
                }
            }
            return n;
        }
    }

    private SliceDataset() {
    }

    public static Layout detectLayout(Path data) {
        requireFolder(data);
        Path dir = kaggleRoot(data);
        try (Stream<Path> s = Files.list(dir)) {
            boolean kaggle = s.anyMatch(p -> Files.isDirectory(p)
                    && KAGGLE_CASE.matcher(p.getFileName().toString()).matches());
            return kaggle ? Layout.KAGGLE_TIFF : Layout.PNG;
        } catch (IOException e) {
            throw new DataException("cannot list data folder " + data + ": " + e.getMessage(), e);
        }
    }

    /** Patients of the given sites, sorted by site then patient id. Fails clearly on a missing/empty site. */
    public static List<PatientRef> discover(Path data, List<String> sites) {
        if (sites == null || sites.isEmpty() || sites.stream().anyMatch(String::isBlank)) {
            throw new DataException("no site given (use --sites S[,S], e.g. --sites DU)");
        }
        Layout layout = detectLayout(data);
        Map<String, List<PatientRef>> bySite = layout == Layout.PNG ? discoverPng(data) : discoverKaggle(data);
        List<PatientRef> out = new ArrayList<>();
        for (String site : sites) {
            List<PatientRef> patients = bySite.get(site);
            if (patients == null) {
                throw new DataException("site '" + site + "' not found in " + data + " (" + layout
                        + " layout; sites there: " + (bySite.isEmpty() ? "none" : String.join(", ", bySite.keySet())) + ")");
            }
            patients.removeIf(p -> p.slices().isEmpty());
            if (patients.isEmpty()) {
                throw new DataException("site '" + site + "' in " + data + " has no patients with slices");
            }
            out.addAll(patients);
        }
        return out;
    }

    /** Sites present in the folder (either layout). */
    public static List<String> sites(Path data) {
        Layout layout = detectLayout(data);
        return new ArrayList<>((layout == Layout.PNG ? discoverPng(data) : discoverKaggle(data)).keySet());
    }

    private static void requireFolder(Path data) {
        if (data == null || !Files.exists(data)) {
            throw new DataException("data folder not found: " + data);
        }
        if (!Files.isDirectory(data)) {
            throw new DataException("data path is not a folder: " + data);
        }
    }

    private static Path kaggleRoot(Path data) {
        Path inner = data.resolve("kaggle_3m");
        return Files.isDirectory(inner) ? inner : data;
    }

    private static Map<String, List<PatientRef>> discoverPng(Path data) {
        Map<String, List<PatientRef>> bySite = new TreeMap<>();
        for (Path siteDir : sortedDirs(data)) {
            String site = siteDir.getFileName().toString();
            if (site.startsWith(".")) {
                continue;
            }
            List<PatientRef> patients = new ArrayList<>();
            for (Path pDir : sortedDirs(siteDir)) {
                TreeMap<Integer, SliceRef> slices = new TreeMap<>();
                for (Path f : files(pDir)) {
                    Matcher m = PNG_SLICE.matcher(f.getFileName().toString());
                    if (m.matches()) {
                        int k = Integer.parseInt(m.group(1));
                        Path mask = pDir.resolve(f.getFileName().toString().replace("_flair.png", "_mask.png"));
                        slices.put(k, new SliceRef(k, f, mask));
                    }
                }
                patients.add(new PatientRef(site, pDir.getFileName().toString(), new ArrayList<>(slices.values())));
            }
            bySite.put(site, patients);
        }
        return bySite;
    }

    private static Map<String, List<PatientRef>> discoverKaggle(Path data) {
        Map<String, Map<String, TreeMap<Integer, SliceRef>>> acc = new TreeMap<>();
        for (Path cDir : sortedDirs(kaggleRoot(data))) {
            Matcher cm = KAGGLE_CASE.matcher(cDir.getFileName().toString());
            if (!cm.matches()) {
                continue;
            }
            String site = cm.group(1);
            String patient = "TCGA_" + site + "_" + cm.group(2);
            TreeMap<Integer, SliceRef> slices = acc.computeIfAbsent(site, s -> new TreeMap<>())
                    .computeIfAbsent(patient, p -> new TreeMap<>());
            for (Path f : files(cDir)) {
                String name = f.getFileName().toString();
                Matcher m = KAGGLE_SLICE.matcher(name);
                if (m.matches() && !name.toLowerCase(Locale.ROOT).contains("_mask")) {
                    int k = Integer.parseInt(m.group(1));
                    String ext = name.substring(name.lastIndexOf('.'));
                    Path mask = cDir.resolve(name.substring(0, name.length() - ext.length()) + "_mask" + ext);
                    slices.put(k, new SliceRef(k, f, mask));
                }
            }
        }
        Map<String, List<PatientRef>> bySite = new LinkedHashMap<>();
        acc.forEach((site, patients) -> {
            List<PatientRef> list = new ArrayList<>();
            patients.forEach((id, slices) -> list.add(new PatientRef(site, id, new ArrayList<>(slices.values()))));
            bySite.put(site, list);
        });
        return bySite;
    }

    private static List<Path> sortedDirs(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isDirectory).sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
        } catch (IOException e) {
            throw new DataException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    private static List<Path> files(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(Files::isRegularFile).sorted().toList();
        } catch (IOException e) {
            throw new DataException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Reads every slice of a patient: FLAIR intensities as floats, masks as 0/1; checks sizes agree. */
    public static Volume load(PatientRef ref) {
        List<float[]> images = new ArrayList<>();
        List<byte[]> masks = new ArrayList<>();
        int w = -1;
        int h = -1;
        for (SliceRef s : ref.slices()) {
            Raster img = read(s.image());
            int band = img.getNumBands() >= 3 ? 1 : 0; // kaggle_3m: FLAIR is channel 1 of 3
            if (!Files.isRegularFile(s.mask())) {
                throw new DataException("mask missing for " + s.image() + " (expected " + s.mask() + ")");
            }
            Raster msk = read(s.mask());
            if (msk.getWidth() != img.getWidth() || msk.getHeight() != img.getHeight()) {
                throw new DataException("mask " + s.mask() + " is " + msk.getWidth() + "x" + msk.getHeight()
                        + " but its image " + s.image() + " is " + img.getWidth() + "x" + img.getHeight());
            }
            if (w < 0) {
                w = img.getWidth();
                h = img.getHeight();
            } else if (w != img.getWidth() || h != img.getHeight()) {
                throw new DataException("slice " + s.image() + " is " + img.getWidth() + "x" + img.getHeight()
                        + " but earlier slices of patient " + ref.patientId() + " are " + w + "x" + h);
            }
            float[] pixels = new float[w * h];
            byte[] mask = new byte[w * h];
            img.getSamples(0, 0, w, h, band, pixels);
            int[] m = msk.getSamples(0, 0, w, h, 0, (int[]) null);
            for (int i = 0; i < m.length; i++) {
                mask[i] = (byte) (m[i] > 127 ? 1 : 0);
            }
            images.add(pixels);
            masks.add(mask);
        }
        return new Volume(ref, w, h, images, masks);
    }

    private static Raster read(Path file) {
        BufferedImage bi;
        try {
            bi = ImageIO.read(file.toFile());
        } catch (IOException e) {
            throw new DataException("cannot read image " + file + ": " + e.getMessage(), e);
        }
        if (bi == null) {
            throw new DataException("not a readable image (PNG/TIFF): " + file);
        }
        return bi.getRaster();
    }

    /** A stable hash of patient ids (sorted, newline-joined), for model cards. */
    public static String patientHash(List<String> patientIds) {
        return Hashing.sha256Hex(String.join("\n", new TreeSet<>(patientIds)).getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }
}
