package org.imagingpipeline.simulator;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;

/**
 * Synthetic multi-site brain-like phantoms with lesions and their masks, in the lgg-flair layout
 * ({@code OUT/SITE/PATIENT/slice_NN_flair.png} + {@code slice_NN_mask.png}, 8-bit), for a machine without
 * ../shared: the demo trains, sends, detects drift and adapts on them exactly as on the real data. None of it is
 * patient data; site and patient names start with SYNTH.
 *
 * <p>Anatomy: an elliptical head with a skull ring, a brain with smooth grey/white texture, two ventricles
 * (dark on FLAIR) and, in most patients, one irregular hyperintense lesion spanning several slices. Each site has
 * its own acquisition look: contrast (gamma), a smooth bias field, blur and noise — so the sites are different
 * domains for the drift detector and the model.
 *
 * <p>{@code PhantomDataset --out DIR [--patients A=20,B=10,C=10] [--slices 20] [--size 128] [--seed 11]}
 */
public final class PhantomDataset {
    /** A synthetic site's acquisition look. */
    record Site(String name, double gamma, double bias, double noise, double blur, double contrast) {
    }

    static final List<Site> SITES = List.of(
            new Site("SYNTHA", 1.0, 0.05, 0.02, 0.0, 1.0),
            new Site("SYNTHB", 0.7, 0.25, 0.03, 0.6, 0.8),
            new Site("SYNTHC", 1.5, 0.10, 0.06, 0.0, 1.2));

    private PhantomDataset() {
    }

    /** {@code PhantomDataset --out DIR [--patients SYNTHA=20,SYNTHB=10,SYNTHC=10] [--slices 20] [--size 128] [--seed 11]} */
    public static void main(String[] args) {
        System.exit(new picocli.CommandLine(new Cli()).execute(args));
    }

    @picocli.CommandLine.Command(name = "phantoms", mixinStandardHelpOptions = true,
            description = "Writes synthetic brain-like phantoms with lesion masks, one acquisition look per synthetic site (PNG layout).")
    static final class Cli implements java.util.concurrent.Callable<Integer> {
        @picocli.CommandLine.Option(names = "--out", required = true)
        Path out;

        @picocli.CommandLine.Option(names = "--patients", split = ",", defaultValue = "SYNTHA=20,SYNTHB=10,SYNTHC=10",
                description = "patients per synthetic site (default: ${DEFAULT-VALUE})")
        Map<String, Integer> perSite;

        @picocli.CommandLine.Option(names = "--slices", defaultValue = "20")
        int slices;

        @picocli.CommandLine.Option(names = "--size", defaultValue = "128")
        int size;

        @picocli.CommandLine.Option(names = "--seed", defaultValue = "11")
        long seed;

        @Override
        public Integer call() throws IOException {
            Map<String, Integer> sites = new java.util.LinkedHashMap<>();
            perSite.forEach((k, v) -> sites.put(k.trim().toUpperCase(Locale.ROOT), v));
            int n = generate(out, sites, slices, size, seed);
            System.out.printf("{\"generated_slices\":%d,\"sites\":%s,\"synthetic\":true}%n", n,
                    sites.keySet().stream().map(s -> "\"" + s + "\"").toList());
            return 0;
        }
    }

    /** The demo's default phantoms: SYNTHA 20 patients, SYNTHB and SYNTHC 10 each, 20 slices of 128 x 128. */
    public static int generateDefault(Path out) throws IOException {
        Map<String, Integer> perSite = new java.util.LinkedHashMap<>();
        perSite.put("SYNTHA", 20);
        perSite.put("SYNTHB", 10);
        perSite.put("SYNTHC", 10);
        return generate(out, perSite, 20, 128, 11);
    }

    static int generate(Path out, Map<String, Integer> perSite, int slices, int size, long seed) throws IOException {
        int count = 0;
        for (Map.Entry<String, Integer> e : perSite.entrySet()) {
            Site site = SITES.stream().filter(s -> s.name().equals(e.getKey())).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("unknown synthetic site " + e.getKey() + " (known: SYNTHA, SYNTHB, SYNTHC)"));
            for (int p = 1; p <= e.getValue(); p++) {
                String patient = String.format(Locale.ROOT, "%s_P%03d", site.name(), p);
                Random rnd = new Random(seed * 1_000_003L + patient.hashCode());
                Path dir = Files.createDirectories(out.resolve(site.name()).resolve(patient));
                Anatomy anatomy = Anatomy.random(rnd, slices);
                for (int z = 0; z < slices; z++) {
                    float[] img = new float[size * size];
                    byte[] mask = new byte[size * size];
                    anatomy.render(z, size, img, mask);
                    look(site, img, size, rnd);
                    String stem = String.format(Locale.ROOT, "slice_%02d", z + 1);
                    ImageIO.write(gray8(img, size, 255), "png", dir.resolve(stem + "_flair.png").toFile());
                    float[] m = new float[mask.length];
                    for (int k = 0; k < m.length; k++) m[k] = mask[k];
                    ImageIO.write(gray8(m, size, 255), "png", dir.resolve(stem + "_mask.png").toFile());
                    count++;
                }
            }
        }
        return count;
    }

    /** One phantom head: shape, texture seeds and its lesion, consistent across slices. */
    record Anatomy(double rx, double ry, double cx, double cy, double texPhase, double texFreq, boolean hasLesion,
                   double lx, double ly, double lr, int lz0, int lz1, double lobe) {
        static Anatomy random(Random r, int slices) {
            int lz0 = slices / 4 + r.nextInt(Math.max(1, slices / 4));
            return new Anatomy(0.36 + 0.05 * r.nextDouble(), 0.42 + 0.05 * r.nextDouble(), 0.5 + 0.03 * r.nextGaussian(),
                    0.5 + 0.03 * r.nextGaussian(), r.nextDouble() * 6.28, 8 + 4 * r.nextDouble(), r.nextDouble() < 0.9,
                    0.35 + 0.3 * r.nextDouble(), 0.35 + 0.3 * r.nextDouble(), 0.05 + 0.07 * r.nextDouble(), lz0,
                    Math.min(slices - 1, lz0 + 3 + r.nextInt(Math.max(1, slices / 3))), r.nextDouble() * 6.28);
        }

        void render(int z, int size, float[] img, byte[] mask) {
            double zs = 1 - Math.pow((z - 0.5 * (lz0 + lz1)) / (0.5 * (lz1 - lz0) + 1.0), 2); // lesion widest mid-span
            double shrink = 0.75 + 0.25 * Math.sin(Math.PI * (z + 1.0) / (lz1 + lz0 + 2.0));
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    double u = (x + 0.5) / size - cx, v = (y + 0.5) / size - cy;
                    double rr = Math.sqrt(Math.pow(u / (rx * shrink), 2) + Math.pow(v / (ry * shrink), 2));
                    int k = y * size + x;
                    if (rr > 1.0) continue;
                    if (rr > 0.9) {
                        img[k] = 0.35f; // skull / scalp ring
                        continue;
                    }
                    double tex = 0.5 + 0.08 * Math.sin(texFreq * u * 6.28 + texPhase) * Math.cos(texFreq * v * 6.28 - texPhase);
                    double ventricle = Math.exp(-(Math.pow((Math.abs(u) - 0.06) / 0.04, 2) + Math.pow(v / 0.12, 2)));
                    double val = tex * (1 - 0.75 * ventricle);
                    if (hasLesion && z >= lz0 && z <= lz1) {
                        double du = (x + 0.5) / size - lx, dv = (y + 0.5) / size - ly;
                        double ang = Math.atan2(dv, du);
                        double radius = lr * Math.max(0.2, zs) * (1 + 0.25 * Math.sin(3 * ang + lobe));
                        double d = Math.sqrt(du * du + dv * dv) / radius;
                        if (d < 1.0 && rr < 0.85) {
                            mask[k] = 1;
                            val = 0.85 + 0.1 * (1 - d);
                        } else if (d < 1.4 && rr < 0.85) {
                            val = Math.max(val, 0.6 * (1.4 - d) / 0.4 + val * (d - 1.0) / 0.4); // perilesional oedema fade
                        }
                    }
                    img[k] = (float) val;
                }
            }
        }
    }

    /** The site's acquisition look: contrast curve, smooth bias field, blur, Rician-like noise. */
    static void look(Site s, float[] img, int size, Random rnd) {
        double phx = rnd.nextDouble() * 6.28, phy = rnd.nextDouble() * 6.28;
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                int k = y * size + x;
                double field = 1 + s.bias() * Math.sin(Math.PI * x / size + phx) * Math.cos(Math.PI * y / size + phy);
                img[k] = (float) (Math.pow(Math.min(1.0, img[k] * s.contrast()), s.gamma()) * field);
            }
        }
        if (s.blur() > 0) org.imagingpipeline.shifts.Filters.gaussianBlur(img, size, size, s.blur(), s.blur());
        for (int k = 0; k < img.length; k++) {
            double re = img[k] + s.noise() * rnd.nextGaussian(), im = s.noise() * rnd.nextGaussian();
            img[k] = (float) Math.sqrt(re * re + im * im);
        }
    }

    private static BufferedImage gray8(float[] v, int size, int scale) {
        BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_BYTE_GRAY);
        int[] px = new int[v.length];
        for (int k = 0; k < v.length; k++) px[k] = (int) Math.max(0, Math.min(255, Math.round(v[k] * scale)));
        img.getRaster().setSamples(0, 0, size, size, 0, px);
        return img;
    }
}
