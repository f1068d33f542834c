package org.imagingpipeline.deploy;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;

/**
 * Synthetic MR series for a machine without the shared data set: brain-like elliptical phantoms with a
 * bright lesion, one series per patient, several simulated scanners that differ in vendor headers, field
 * strength, intensity scale, contrast and noise. Every file says SYNTHETIC in its series description and
 * institution; none is patient data.
 *
 * <p>{@code SyntheticDicom --out DIR [--patients-per-site 2] [--slices 16] [--seed 7]}
 */
public final class SyntheticDicom {
    /** A simulated scanner: headers and the acquisition-like look of its images. */
    record Scanner(String site, String manufacturer, String model, double fieldStrength, double scale, double gamma, double noise) {
    }

    static final List<Scanner> SCANNERS = List.of(
            new Scanner("SYNTH-A", "SYNTHETIC GE", "Signa (simulated)", 1.5, 900, 1.0, 0.03),
            new Scanner("SYNTH-B", "SYNTHETIC SIEMENS", "Skyra (simulated)", 3.0, 1800, 0.8, 0.02),
            new Scanner("SYNTH-C", "SYNTHETIC PHILIPS", "Ingenia (simulated)", 3.0, 4000, 1.3, 0.06));

    private SyntheticDicom() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = Args.parse(args);
        Path out = Path.of(Args.required(a, "out"));
        int patients = Integer.parseInt(a.getOrDefault("patients-per-site", "2"));
        int slices = Integer.parseInt(a.getOrDefault("slices", "16"));
        int n = generate(out, patients, slices, Long.parseLong(a.getOrDefault("seed", "7")));
        System.out.printf("{\"generated_instances\":%d,\"sites\":%d,\"patients_per_site\":%d,\"synthetic\":true}%n", n, SCANNERS.size(), patients);
    }

    static int generate(Path out, int patientsPerSite, int slices, long seed) throws Exception {
        Random rnd = new Random(seed);
        int count = 0;
        int size = 128;
        for (Scanner s : SCANNERS) {
            for (int p = 1; p <= patientsPerSite; p++) {
                String patient = s.site() + "-" + p;
                String study = uid();
                String series = uid();
                String frame = uid();
                double lx = 0.3 + 0.4 * rnd.nextDouble();
                double ly = 0.3 + 0.4 * rnd.nextDouble();
                double lr = 0.05 + 0.07 * rnd.nextDouble();
                Path dir = Files.createDirectories(out.resolve(s.site()).resolve(patient));
                for (int z = 0; z < slices; z++) {
                    double zc = (z - slices / 2.0) / (slices / 2.0);
                    short[] px = new short[size * size];
                    for (int y = 0; y < size; y++) {
                        for (int x = 0; x < size; x++) {
                            double u = (x - size / 2.0) / (size * 0.38);
                            double v = (y - size / 2.0) / (size * 0.45);
                            double r2 = u * u + v * v + zc * zc * 0.6;
                            double val = r2 < 1 ? 0.45 + 0.1 * Math.cos(6 * u) * Math.sin(5 * v) : 0;
                            if (r2 < 1 && r2 > 0.85) val = 0.8; // skull-like rim
                            double dx = x / (double) size - lx;
                            double dy = y / (double) size - ly;
                            if (Math.abs(zc) < 0.4 && dx * dx + dy * dy < lr * lr) val = 0.95; // lesion
                            val = Math.pow(Math.max(0, val), s.gamma()) + s.noise() * rnd.nextGaussian();
                            px[y * size + x] = (short) Math.max(0, Math.min(32000, Math.round(val * s.scale())));
                        }
                    }
                    MrImage.Series ser = new MrImage.Series(patient, "SYNTHETIC^" + patient, study, series, frame, "20000101",
                            s.manufacturer(), s.model(), s.site() + " (SYNTHETIC)", s.site() + "-MR1", s.fieldStrength(),
                            "SYNTHETIC AX FLAIR", "AX FLAIR", "SYNTHETIC phantom, not patient data");
                    Files.write(dir.resolve(String.format("slice_%02d.dcm", z + 1)),
                            MrImage.build(ser, uid(), z + 1, z * 5.0, px, size, size, 16, 1.0, 5.0));
                    count++;
                }
            }
        }
        return count;
    }

    /** UIDs under 2.25 (UUID as decimal), as the architecture asks. */
    static String uid() {
        UUID u = UUID.randomUUID();
        byte[] b = ByteBuffer.allocate(16).putLong(u.getMostSignificantBits()).putLong(u.getLeastSignificantBits()).array();
        return "2.25." + new BigInteger(1, b);
    }
}
