package org.imagingpipeline.shifts;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * A simulated acquisition shift (a "new scanner"): {@link ShiftStep}s applied in order to a slice of intensities on
 * [0, 1], then clipped to [0, 1]. Noise is seeded per (seed, series, slice), so a (shift, seed) pair is one repeatable
 * scanner.
 *
 * <p>Spec grammar ({@link #parse}): {@code none}; steps joined by {@code +}, each {@code KIND:key=value,...}, e.g.
 * {@code gamma:g=0.7+bias:a=0.3,pattern=lr+blur:sigma=1.5+rician:sd=0.04} (kinds: {@code gamma}, {@code pwl},
 * {@code sigmoid}, {@code bias}, {@code polybias}, {@code blur}, {@code downsample}, {@code noise}, {@code rician}; see
 * {@link ShiftStep}); or one of the scanner simulator's named profiles with optional overrides,
 * {@code gamma}, {@code biasfield}, {@code lowfield}, {@code newscanner} [{@code :g=..,a=..,blur=..,noise=..}]
 * (blur, then gamma, the {@code sin} bias pattern and Rician noise: the simulator's original formulas).
 */
public record AcquisitionShift(String name, List<ShiftStep> steps) {

    public static final String NAMED = "gamma, biasfield, lowfield, newscanner";
    public static final AcquisitionShift NONE = new AcquisitionShift("none", List.of());

    public AcquisitionShift {
        steps = List.copyOf(steps);
    }

    /** Parses a spec (see the class comment); throws IllegalArgumentException naming what is wrong. */
    public static AcquisitionShift parse(String spec) {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("empty shift spec");
        }
        String s = spec.trim();
        if (s.equalsIgnoreCase("none")) {
            return NONE;
        }
        String head = s.split("[:+]", 2)[0].toLowerCase(Locale.ROOT);
        // A named profile stands alone; "gamma:g=G" reads the same either way.
        if (!s.contains("+") && (List.of("biasfield", "lowfield", "newscanner").contains(head) || s.equalsIgnoreCase("gamma"))) {
            return named(s);
        }
        List<ShiftStep> steps = new ArrayList<>();
        for (String part : s.split("\\+")) {
            steps.add(step(part.trim()));
        }
        return new AcquisitionShift(s, steps);
    }

    /** The simulator's named profiles (scanner simulator and earlier experiments), same formulas and defaults. */
    private static AcquisitionShift named(String spec) {
        String[] parts = spec.split(":", 2);
        String name = parts[0].toLowerCase(Locale.ROOT);
        Map<String, Double> p = new LinkedHashMap<>();
        p.put("g", 1.0);
        p.put("a", 0.0);
        p.put("blur", 0.0);
        p.put("noise", 0.0);
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
            default -> throw new IllegalArgumentException("unknown profile '" + name + "' (known: " + NAMED + ")");
        }
        if (parts.length == 2) {
            for (String kv : parts[1].split(",")) {
                String[] x = kv.split("=", 2);
                if (x.length != 2 || !p.containsKey(x[0].trim())) {
                    throw new IllegalArgumentException("profile " + name + " takes " + p.keySet() + ", got '" + kv + "'");
                }
                p.put(x[0].trim(), number(x[1], kv));
            }
        }
        List<ShiftStep> steps = new ArrayList<>();
        if (p.get("blur") > 0) {
            steps.add(new ShiftStep.Blur(p.get("blur"), p.get("blur")));
        }
        if (p.get("g") != 1.0) {
            steps.add(new ShiftStep.Gamma(p.get("g")));
        }
        if (p.get("a") != 0.0) {
            steps.add(new ShiftStep.BiasField(p.get("a"), "sin"));
        }
        if (p.get("noise") > 0) {
            steps.add(new ShiftStep.RicianNoise(p.get("noise")));
        }
        return new AcquisitionShift(spec, steps);
    }

    private static ShiftStep step(String part) {
        String[] kv = part.split(":", 2);
        String kind = kv[0].trim().toLowerCase(Locale.ROOT);
        Map<String, String> args = new LinkedHashMap<>();
        if (kv.length == 2 && !kv[1].isBlank()) {
            for (String a : kv[1].split(",")) {
                String[] x = a.split("=", 2);
                if (x.length != 2) {
                    throw new IllegalArgumentException("expected KEY=VALUE in '" + part + "', got '" + a + "'");
                }
                args.put(x[0].trim(), x[1].trim());
            }
        }
        Params q = new Params(kind, part, args);
        ShiftStep st = switch (kind) {
            case "gamma" -> new ShiftStep.Gamma(q.num("g", null));
            case "sigmoid" -> new ShiftStep.Sigmoid(q.num("k", null), q.num("c", 0.5));
            case "bias" -> new ShiftStep.BiasField(q.num("a", null), q.str("pattern", "lr"));
            case "blur" -> args.containsKey("sigma") ? new ShiftStep.Blur(q.num("sigma", null), q.num("sigma", null))
                    : new ShiftStep.Blur(q.num("sx", 0.0), q.num("sy", 0.0));
            case "downsample" -> args.containsKey("f") ? new ShiftStep.Downsample(q.num("f", null), q.num("f", null))
                    : new ShiftStep.Downsample(q.num("fx", 1.0), q.num("fy", 1.0));
            case "polybias" -> new ShiftStep.PolynomialField(q.num("a", null), new double[] {
                q.num("c1", 0.0), q.num("c2", 0.0), q.num("c3", 0.0), q.num("c4", 0.0), q.num("c5", 0.0)});
            case "noise" -> new ShiftStep.GaussianNoise(q.num("sd", null));
            case "rician" -> new ShiftStep.RicianNoise(q.num("sd", null));
            case "pwl" -> {
                double[] xs = new double[args.size()];
                double[] ys = new double[args.size()];
                int i = 0;
                for (Map.Entry<String, String> e : args.entrySet()) {
                    xs[i] = number(e.getKey(), part);
                    ys[i] = number(e.getValue(), part);
                    i++;
                }
                q.used.addAll(args.keySet());
                yield new ShiftStep.PiecewiseLinear(xs, ys);
            }
            default -> throw new IllegalArgumentException("unknown shift step '" + kind
                    + "' (gamma, pwl, sigmoid, bias, polybias, blur, downsample, noise, rician; or a profile: " + NAMED + ")");
        };
        q.checkAllUsed();
        return st;
    }

    /** Step arguments, each to be consumed once (unknown keys are an error). */
    private static final class Params {
        final String kind;
        final String part;
        final Map<String, String> args;
        final java.util.Set<String> used = new java.util.HashSet<>();

        Params(String kind, String part, Map<String, String> args) {
            this.kind = kind;
            this.part = part;
            this.args = args;
        }

        double num(String key, Double dflt) {
            used.add(key);
            String v = args.get(key);
            if (v == null) {
                if (dflt == null) {
                    throw new IllegalArgumentException(kind + " needs " + key + "=NUMBER in '" + part + "'");
                }
                return dflt;
            }
            return number(v, part);
        }

        String str(String key, String dflt) {
            used.add(key);
            return args.getOrDefault(key, dflt);
        }

        void checkAllUsed() {
            for (String k : args.keySet()) {
                if (!used.contains(k)) {
                    throw new IllegalArgumentException("unknown key '" + k + "' for " + kind + " in '" + part + "'");
                }
            }
        }
    }

    private static double number(String s, String context) {
        try {
            double d = Double.parseDouble(s.trim());
            if (!Double.isFinite(d)) {
                throw new NumberFormatException();
            }
            return d;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("expected a number, got '" + s + "' in '" + context + "'");
        }
    }

    /** The spec of the steps ({@code none} when there are none); parses back to the same shift. */
    public String spec() {
        if (steps.isEmpty()) {
            return "none";
        }
        StringBuilder sb = new StringBuilder();
        for (ShiftStep s : steps) {
            sb.append(sb.length() > 0 ? "+" : "").append(s.spec());
        }
        return sb.toString();
    }

    /** The families this shift touches, in order of first appearance. */
    public List<String> families() {
        return steps.stream().map(ShiftStep::family).distinct().toList();
    }

    /** A shifted copy of one slice on [0, 1]; noise seeded by (seed, series, slice). */
    public float[] apply(float[] unit, int w, int h, long seed, String series, int slice) {
        float[] v = unit.clone();
        applyInPlace(v, w, h, noiseRandom(seed, series, slice));
        return v;
    }

    /** Applies every step, then clips to [0, 1]. */
    public void applyInPlace(float[] v, int w, int h, Random rnd) {
        if (v.length != w * h) {
            throw new IllegalArgumentException("slice has " + v.length + " values, not " + w + " x " + h);
        }
        for (ShiftStep s : steps) {
            s.apply(v, w, h, rnd);
        }
        for (int i = 0; i < v.length; i++) {
            float x = v[i];
            v[i] = Float.isNaN(x) ? 0f : Math.max(0f, Math.min(1f, x));
        }
    }

    /** The noise generator of one slice of one series of a (shift, seed) scanner. */
    public static Random noiseRandom(long seed, String series, int slice) {
        return new Random(seed * 1_000_003L + series.hashCode() * 7919L + slice);
    }

    @Override
    public String toString() {
        return name;
    }
}
