package org.imagingpipeline.retrain;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * A fixed, named acquisition-like intensity shift applied to evaluation slices (paired comparisons: the same
 * patients clean and shifted). Syntax: comma-separated {@code gamma:G}, {@code bias:A}, {@code noise:SD},
 * {@code blur:SIGMA}, e.g. {@code gamma:1.5,blur:1}. Noise is seeded per slice, so runs repeat exactly.
 * <ul>
 *   <li>{@code gamma:G}: x -> max * (x / max)^G (slice maximum)</li>
 *   <li>{@code bias:A}: multiplicative left-right field exp(A * u), u in [-1, 1]</li>
 *   <li>{@code noise:SD}: additive Gaussian noise, sd = SD * slice maximum, clipped at 0</li>
 *   <li>{@code blur:SIGMA}: Gaussian blur, sigma in pixels</li>
 * </ul>
 */
public final class IntensityShift {

    private record Step(String kind, double value) { }

    private final List<Step> steps;
    private final String spec;

    private IntensityShift(String spec, List<Step> steps) {
        this.spec = spec;
        this.steps = steps;
    }

    public static IntensityShift parse(String spec) {
        List<Step> steps = new ArrayList<>();
        for (String part : spec.split(",")) {
            String[] kv = part.trim().split(":");
            if (kv.length != 2) {
                throw new DataException("--shift: expected NAME:VALUE (gamma, bias, noise, blur), got '" + part + "'");
            }
            String kind = kv[0].trim().toLowerCase(Locale.ROOT);
            if (!List.of("gamma", "bias", "noise", "blur").contains(kind)) {
                throw new DataException("--shift: unknown shift '" + kind + "' (known: gamma, bias, noise, blur)");
            }
            double v;
            try {
                v = Double.parseDouble(kv[1].trim());
            } catch (NumberFormatException e) {
                throw new DataException("--shift: '" + kv[1] + "' is not a number");
            }
            if (kind.equals("gamma") && v <= 0 || (kind.equals("blur") || kind.equals("noise")) && v < 0) {
                throw new DataException("--shift: value out of range in '" + part + "'");
            }
            steps.add(new Step(kind, v));
        }
        return new IntensityShift(spec, steps);
    }

    public String spec() {
        return spec;
    }

    /** Returns a shifted copy; {@code seed} makes the noise repeatable (e.g. slice number). */
    public float[] apply(float[] image, int w, int h, long seed) {
        float[] img = image.clone();
        float max = 0;
        for (float v : img) {
            max = Math.max(max, v);
        }
        if (max <= 0) {
            return img;
        }
        for (Step s : steps) {
            switch (s.kind()) {
                case "gamma" -> {
                    for (int i = 0; i < img.length; i++) {
                        img[i] = (float) (Math.pow(Math.max(0f, img[i]) / max, s.value()) * max);
                    }
                }
                case "bias" -> {
                    for (int y = 0; y < h; y++) {
                        for (int x = 0; x < w; x++) {
                            double u = 2.0 * x / (w - 1) - 1;
                            img[y * w + x] *= (float) Math.exp(s.value() * u);
                        }
                    }
                }
                case "noise" -> {
                    Random rnd = new Random(seed * 31 + 17);
                    for (int i = 0; i < img.length; i++) {
                        img[i] = (float) Math.max(0, img[i] + rnd.nextGaussian() * s.value() * max);
                    }
                }
                case "blur" -> {
                    if (s.value() > 0) {
                        Augmenter.gaussianBlur(img, w, h, s.value());
                    }
                }
                default -> throw new IllegalStateException(s.kind());
            }
        }
        return img;
    }
}
