package org.imagingpipeline.retrain;

import org.imagingpipeline.shifts.AcquisitionShift;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Writes patients of an lgg-flair-layout folder through an {@link AcquisitionShift} (a simulated scanner) as a new site: 16-bit PNG
 * images holding 12-bit values (as the retrain service exports DICOM series), masks copied unchanged (for paired
 * evaluation; adaptation never reads them). For experiments and tests:
 * {@code java -cp ... ShiftedCopy --data DIR --sites DU --profile lowfield --seed 1 --out DIR2 --site NAME
 * [--patient-ids A,B] [--masks copy|none]}.
 */
public final class ShiftedCopy {

    public static final int FULL_SCALE = 4095;

    private ShiftedCopy() {
    }

    public static void main(String[] argv) {
        System.exit(run(argv, System.out, System.err));
    }

    static int run(String[] argv, PrintStream out, PrintStream err) {
        try {
            Args a = new Args(argv, Set.of("--data", "--sites", "--profile", "--seed", "--out", "--site",
                    "--patient-ids", "--masks"), Set.of());
            List<SliceDataset.PatientRef> refs = SliceDataset.discover(Path.of(a.required("--data")), a.list("--sites"));
            if (a.get("--patient-ids", null) != null) {
                Set<String> keep = new HashSet<>(a.list("--patient-ids"));
                refs = refs.stream().filter(r -> keep.contains(r.patientId())).toList();
            }
            AcquisitionShift profile = parseShift(a.get("--profile", "none"));
            int n = write(refs, profile, a.intValue("--seed", 1), Path.of(a.required("--out")).resolve(a.required("--site")),
                    !a.get("--masks", "copy").equals("none"));
            out.printf("{\"patients\":%d,\"slices\":%d}%n", refs.size(), n);
            return 0;
        } catch (DataException e) {
            err.println("shifted-copy: error: " + e.getMessage());
            return 2;
        } catch (IOException e) {
            err.println("shifted-copy: failed: " + e);
            return 1;
        }
    }

    /** Writes every patient into {@code siteDir/PATIENT/}; returns the number of slices written. */
    /** A shift spec ({@link AcquisitionShift}; {@code none} = unchanged) or a {@link DataException} naming the problem. */
    public static AcquisitionShift parseShift(String spec) {
        try {
            return AcquisitionShift.parse(spec);
        } catch (IllegalArgumentException e) {
            throw new DataException("shift: " + e.getMessage());
        }
    }

    public static int write(List<SliceDataset.PatientRef> refs, AcquisitionShift profile, long seed, Path siteDir,
                            boolean masks) throws IOException {
        int n = 0;
        for (SliceDataset.PatientRef p : refs) {
            Path dir = Files.createDirectories(siteDir.resolve(p.patientId()));
            for (SliceDataset.SliceRef s : p.slices()) {
                BufferedImage src = ImageIO.read(s.image().toFile());
                int w = src.getWidth();
                int h = src.getHeight();
                int max = (1 << src.getColorModel().getComponentSize(0)) - 1;
                float[] unit = new float[w * h];
                src.getRaster().getSamples(0, 0, w, h, 0, unit);
                for (int i = 0; i < unit.length; i++) {
                    unit[i] /= max;
                }
                float[] shifted = profile == null || profile.steps().isEmpty() ? unit : profile.apply(unit, w, h, seed, p.patientId(), s.index());
                BufferedImage dst = new BufferedImage(w, h, BufferedImage.TYPE_USHORT_GRAY);
                for (int i = 0; i < shifted.length; i++) {
                    dst.getRaster().setSample(i % w, i / w, 0, Math.round(shifted[i] * FULL_SCALE));
                }
                if (!ImageIO.write(dst, "png", dir.resolve(s.image().getFileName()).toFile())) {
                    throw new IOException("no PNG writer");
                }
                if (masks) {
                    Files.copy(s.mask(), dir.resolve(s.mask().getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
                n++;
            }
        }
        return n;
    }
}
