package org.imagingpipeline.simulator;

import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * A simulated new scanner: an acquisition-like shift applied to real anatomy, with its own station name and
 * field strength. Parameters (defaults in brackets) can be overridden as {@code NAME:key=value,...}:
 * <ul>
 * <li>{@code gamma} — contrast curve x^g [g=0.6]</li>
 * <li>{@code biasfield} — smooth multiplicative field 1 + a*f(x,y), f a low-frequency pattern [a=0.35]</li>
 * <li>{@code lowfield} — 0.5 T look: Gaussian blur and Rician noise [blur=1.0 px, noise=0.04]</li>
 * <li>{@code newscanner} — all of them, milder [g=0.75, a=0.25, blur=0.7, noise=0.025]</li>
 * </ul>
 * Intensities are handled on [0,1]; the result is written as 12-bit data.
 */
public record AcquisitionProfile(String name, double gamma, double bias, double blur, double noise, double fieldStrength) {

    public static AcquisitionProfile parse(String spec) {
        String[] parts = spec.split(":", 2);
        String name = parts[0].toLowerCase(Locale.ROOT);
        Map<String, Double> p = new LinkedHashMap<>();
        switch (name) {
            case "gamma" -> p.put("g", 0.6);
            case "biasfield" -> p.put("a", 0.35);
            case "lowfield" -> {
                p.put("blur", 1.0);
                p.put("noise", 0.04);
            }
            case "newscanner" -> {
                p.put("g", 0.75);
                p.put("a", 0.25);
                p.put("blur", 0.7);
                p.put("noise", 0.025);
            }
            default -> throw new IllegalArgumentException("unknown profile '" + name + "' (known: gamma, biasfield, lowfield, newscanner)");
        }
        if (parts.length == 2) {
            for (String kv : parts[1].split(",")) {
                String[] x = kv.split("=", 2);
                if (x.length != 2 || !p.containsKey(x[0].trim())) {
                    throw new IllegalArgumentException("profile " + name + " takes " + p.keySet() + ", got '" + kv + "'");
                }
                p.put(x[0].trim(), Double.parseDouble(x[1].trim()));
            }
        }
        double field = name.equals("lowfield") ? 0.5 : 3.0;
        return new AcquisitionProfile(name, p.getOrDefault("g", 1.0), p.getOrDefault("a", 0.0), p.getOrDefault("blur", 0.0),
                p.getOrDefault("noise", 0.0), field);
    }

    public String stationName() {
        return ("SIM-" + name).toUpperCase(Locale.ROOT);
    }

    /** Applies the shift to one slice of [0,1] values (in place) with a seeded generator. */
    public void apply(float[] v, int w, int h, Random rnd) {
        if (blur > 0) gaussianBlur(v, w, h, blur);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = y * w + x;
                double s = v[i];
                if (gamma != 1.0) s = Math.pow(Math.max(0, s), gamma);
                if (bias != 0) {
                    double fx = (double) x / w, fy = (double) y / h;
                    s *= 1 + bias * (0.6 * Math.sin(Math.PI * fx) * Math.cos(0.8 * Math.PI * fy) + 0.4 * (fx - 0.5));
                }
                if (noise > 0) { // Rician: magnitude of a complex signal with Gaussian noise on both channels
                    double re = s + noise * rnd.nextGaussian();
                    double im = noise * rnd.nextGaussian();
                    s = Math.sqrt(re * re + im * im);
                }
                v[i] = (float) Math.max(0, Math.min(1, s));
            }
        }
    }

    static void gaussianBlur(float[] v, int w, int h, double sigma) {
        int r = (int) Math.ceil(3 * sigma);
        double[] k = new double[2 * r + 1];
        double sum = 0;
        for (int i = -r; i <= r; i++) sum += k[i + r] = Math.exp(-i * i / (2 * sigma * sigma));
        for (int i = 0; i < k.length; i++) k[i] /= sum;
        float[] tmp = new float[v.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double a = 0;
                for (int i = -r; i <= r; i++) a += k[i + r] * v[y * w + Math.min(w - 1, Math.max(0, x + i))];
                tmp[y * w + x] = (float) a;
            }
        }
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double a = 0;
                for (int i = -r; i <= r; i++) a += k[i + r] * tmp[Math.min(h - 1, Math.max(0, y + i)) * w + x];
                v[y * w + x] = (float) a;
            }
        }
    }
}
