package org.imagingpipeline.retrain;

import org.imagingpipeline.shifts.AcquisitionShift;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

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
@Command(name = "shifted-copy", sortOptions = false, usageHelpAutoWidth = true,
        customSynopsis = "shifted-copy --data DIR --sites S[,S] --out DIR --site NAME [options]",
        description = {"Writes patients of an lgg-flair-layout folder through an acquisition shift (a simulated scanner) as a"
                + " new site: 16-bit PNGs of 12-bit values, masks copied unchanged. For experiments and tests; prints"
                + " {\"patients\":N,\"slices\":N}."})
public final class ShiftedCopy {

    public static final int FULL_SCALE = 4095;

    @Option(names = "--data", paramLabel = "DIR", description = "lgg-flair layout data")
    String data;

    @Option(names = "--sites", paramLabel = "S[,S]", description = "the sites whose patients are copied")
    String sites;

    @Option(names = "--out", paramLabel = "DIR", description = "where the new site's folder goes")
    String outDir;

    @Option(names = "--site", paramLabel = "NAME", description = "the new site's name (its folder under --out)")
    String site;

    @Option(names = "--profile", paramLabel = "SPEC", description = "the shift: a named profile or the AcquisitionShift"
            + " grammar (default: ${DEFAULT-VALUE} = unchanged)")
    String profile = "none";

    @Option(names = "--seed", paramLabel = "N", description = "noise seed (default: ${DEFAULT-VALUE})")
    int seed = 1;

    @Option(names = "--patient-ids", paramLabel = "A,B", description = "only these patients")
    String patientIds;

    @Option(names = "--masks", paramLabel = "copy|none", description = "copy the masks (default) or none")
    String masks = "copy";

    @Mixin
    Cli.Help help;

    private ShiftedCopy() {
    }

    public static void main(String[] argv) {
        System.exit(run(argv, System.out, System.err));
    }

    static int run(String[] argv, PrintStream out, PrintStream err) {
        ShiftedCopy c = new ShiftedCopy();
        return Cli.run("shifted-copy", c, argv, out, err, () -> c.copy(out));
    }

    private int copy(PrintStream out) throws IOException {
        List<SliceDataset.PatientRef> refs = SliceDataset.discover(Path.of(Cli.required(data, "--data")),
                Cli.list(sites, "--sites"));
        if (patientIds != null) {
            Set<String> keep = new HashSet<>(Cli.list(patientIds, "--patient-ids"));
            refs = refs.stream().filter(r -> keep.contains(r.patientId())).toList();
        }
        AcquisitionShift shift = parseShift(profile);
        int n = write(refs, shift, seed, Path.of(Cli.required(outDir, "--out")).resolve(Cli.required(site, "--site")),
                !masks.equals("none"));
        out.printf("{\"patients\":%d,\"slices\":%d}%n", refs.size(), n);
        return 0;
    }

    /** A shift spec ({@link AcquisitionShift}; {@code none} = unchanged) or a {@link DataException} naming the problem. */
    public static AcquisitionShift parseShift(String spec) {
        try {
            return AcquisitionShift.parse(spec);
        } catch (IllegalArgumentException e) {
            throw new DataException("shift: " + e.getMessage());
        }
    }

    /** Writes every patient into {@code siteDir/PATIENT/}; returns the number of slices written. */
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
