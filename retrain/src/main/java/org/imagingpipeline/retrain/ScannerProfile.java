package org.imagingpipeline.retrain;

import java.util.Locale;
import java.util.Random;

/**
 * The scanner simulator's acquisition-like shifts (deploy's AcquisitionProfile, same formulas and defaults;
 * services may not share code, so the math is repeated here for paired offline experiments): on intensities
 * scaled to [0,1], Gaussian blur, then per pixel gamma, a smooth multiplicative bias field and Rician noise,
 * clipped to [0,1].
 * <ul>
 *   <li>{@code gamma}: x^0.6</li>
 *   <li>{@code biasfield}: x (1 + 0.35 f(x,y)), f a low-frequency pattern</li>
 *   <li>{@code lowfield}: blur 1.0 px, Rician noise 0.04</li>
 *   <li>{@code newscanner}: gamma 0.75, bias 0.25, blur 0.7 px, noise 0.025</li>
 * </ul>
 * Parameters can be overridden as in the simulator, {@code NAME:g=0.6,a=0.35,blur=1,noise=0.04}.
 * Noise is seeded by (seed, series, slice), so a (profile, seed) pair is one repeatable "scanner".
 */
public record ScannerProfile(String name, double gamma, double bias, double blur, double noise) {

    public static final String KNOWN = "gamma, biasfield, lowfield, newscanner";

    public static ScannerProfile named(String spec) {
        String[] parts = spec.split(":", 2);
        ScannerProfile p = defaults(parts[0]);
        if (parts.length == 2) {
            double g = p.gamma();
            double a = p.bias();
            double blur = p.blur();
            double noise = p.noise();
            for (String kv : parts[1].split(",")) {
                String[] x = kv.split("=", 2);
                double v;
                try {
                    v = Double.parseDouble(x.length == 2 ? x[1].trim() : "");
                } catch (NumberFormatException e) {
                    throw new DataException("scanner profile: expected KEY=NUMBER (g, a, blur, noise), got '" + kv + "'");
                }
                switch (x[0].trim()) {
                    case "g" -> g = v;
                    case "a" -> a = v;
                    case "blur" -> blur = v;
                    case "noise" -> noise = v;
                    default -> throw new DataException("scanner profile: unknown key '" + x[0] + "' (g, a, blur, noise)");
                }
            }
            p = new ScannerProfile(spec, g, a, blur, noise);
        }
        return p;
    }

    private static ScannerProfile defaults(String name) {
        return switch (name.toLowerCase(Locale.ROOT)) {
            case "gamma" -> new ScannerProfile("gamma", 0.6, 0, 0, 0);
            case "biasfield" -> new ScannerProfile("biasfield", 1, 0.35, 0, 0);
            case "lowfield" -> new ScannerProfile("lowfield", 1, 0, 1.0, 0.04);
            case "newscanner" -> new ScannerProfile("newscanner", 0.75, 0.25, 0.7, 0.025);
            default -> throw new DataException("unknown scanner profile '" + name + "' (known: " + KNOWN + ")");
        };
    }

    /** A shifted copy of one slice with values in [0, 1] (input already scaled to [0, 1]). */
    public float[] apply(float[] unit, int w, int h, long seed, String series, int slice) {
        float[] v = unit.clone();
        if (blur > 0) {
            Augmenter.gaussianBlur(v, w, h, blur);
        }
        Random rnd = new Random(seed * 1_000_003L + series.hashCode() * 7919L + slice);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = y * w + x;
                double s = v[i];
                if (gamma != 1.0) {
                    s = Math.pow(Math.max(0, s), gamma);
                }
                if (bias != 0) {
                    double fx = (double) x / w;
                    double fy = (double) y / h;
                    s *= 1 + bias * (0.6 * Math.sin(Math.PI * fx) * Math.cos(0.8 * Math.PI * fy) + 0.4 * (fx - 0.5));
                }
                if (noise > 0) {
                    double re = s + noise * rnd.nextGaussian();
                    double im = noise * rnd.nextGaussian();
                    s = Math.sqrt(re * re + im * im);
                }
                v[i] = (float) Math.max(0, Math.min(1, s));
            }
        }
        return v;
    }
}
