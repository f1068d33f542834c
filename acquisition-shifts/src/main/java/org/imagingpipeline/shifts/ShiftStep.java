package org.imagingpipeline.shifts;

import java.util.Locale;
import java.util.Random;

/**
 * One step of a simulated acquisition shift, applied in place to a slice of intensities on [0, 1] (row-major,
 * {@code w} x {@code h}). Values may leave [0, 1] between steps; {@link AcquisitionShift} clips at the end.
 * Each step has a family: {@code contrast} (a monotone intensity curve), {@code bias} (a smooth multiplicative
 * field), {@code resolution} (point-spread or sampling loss) or {@code noise}.
 */
public sealed interface ShiftStep {

    void apply(float[] v, int w, int h, Random rnd);

    /** The step as the spec grammar writes it, e.g. {@code gamma:g=0.6}. */
    String spec();

    String family();

    /** x -> x^g (g < 1 brightens the mid-tones, g > 1 darkens them). */
    record Gamma(double g) implements ShiftStep {
        public Gamma {
            positive("gamma g", g);
        }

        @Override
        public void apply(float[] v, int w, int h, Random rnd) {
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) Math.pow(Math.max(0f, v[i]), g);
            }
        }

        @Override
        public String spec() {
            return "gamma:g=" + num(g);
        }

        @Override
        public String family() {
            return "contrast";
        }
    }

    /**
     * A monotone piecewise-linear curve through (0,0), the interior knots (x_i, y_i) and (1,1): a histogram remap
     * such as another scanner's or protocol's intensity mapping. Spec {@code pwl:0.3=0.55,0.7=0.8}.
     */
    record PiecewiseLinear(double[] xs, double[] ys) implements ShiftStep {
        public PiecewiseLinear {
            if (xs.length == 0 || xs.length != ys.length) {
                throw new IllegalArgumentException("pwl needs at least one knot X=Y");
            }
            double px = 0;
            double py = 0;
            for (int i = 0; i < xs.length; i++) {
                if (!(xs[i] > px && xs[i] < 1)) {
                    throw new IllegalArgumentException("pwl knots need increasing x inside (0, 1), got " + xs[i]);
                }
                if (!(ys[i] >= py && ys[i] <= 1)) {
                    throw new IllegalArgumentException("pwl knots need non-decreasing y inside [0, 1] (a monotone curve), got " + ys[i]);
                }
                px = xs[i];
                py = ys[i];
            }
            xs = xs.clone();
            ys = ys.clone();
        }

        /** The curve at x (identity outside [0, 1]'s knots' span handled by the end points (0,0) and (1,1)). */
        public double at(double x) {
            double x0 = 0;
            double y0 = 0;
            for (int i = 0; i <= xs.length; i++) {
                double x1 = i < xs.length ? xs[i] : 1;
                double y1 = i < xs.length ? ys[i] : 1;
                if (x <= x1 || i == xs.length) {
                    return y0 + (x - x0) * (y1 - y0) / (x1 - x0);
                }
                x0 = x1;
                y0 = y1;
            }
            throw new AssertionError();
        }

        @Override
        public void apply(float[] v, int w, int h, Random rnd) {
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) at(v[i]);
            }
        }

        @Override
        public String spec() {
            StringBuilder sb = new StringBuilder("pwl:");
            for (int i = 0; i < xs.length; i++) {
                sb.append(i > 0 ? "," : "").append(num(xs[i])).append('=').append(num(ys[i]));
            }
            return sb.toString();
        }

        @Override
        public String family() {
            return "contrast";
        }
    }

    /**
     * An S-shaped contrast curve (k > 0: steeper around c), scaled so that 0 -> 0 and 1 -> 1. Spec
     * {@code sigmoid:k=8,c=0.45}.
     */
    record Sigmoid(double k, double c) implements ShiftStep {
        public Sigmoid {
            positive("sigmoid k", k);
            if (!(c > 0 && c < 1)) {
                throw new IllegalArgumentException("sigmoid c must be inside (0, 1), got " + c);
            }
        }

        @Override
        public void apply(float[] v, int w, int h, Random rnd) {
            double lo = s(0);
            double hi = s(1);
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) ((s(Math.max(0, Math.min(1, v[i]))) - lo) / (hi - lo));
            }
        }

        private double s(double x) {
            return 1 / (1 + Math.exp(-k * (x - c)));
        }

        @Override
        public String spec() {
            return "sigmoid:k=" + num(k) + ",c=" + num(c);
        }

        @Override
        public String family() {
            return "contrast";
        }
    }

    /**
     * A smooth multiplicative field (receive-coil sensitivity): {@code exp(a f(u, v))} with u, v in [-1, 1] across
     * the image and f in [-1, 1]: {@code lr} = u (left-right ramp), {@code ap} = v, {@code diag} = (u + v) / 2,
     * {@code radial} = 1 - (u^2 + v^2) (bright centre for a > 0, bright edges for a < 0), {@code saddle} = u v.
     * {@code sin} is the scanner simulator's original pattern, {@code 1 + a (0.6 sin(pi x) cos(0.8 pi y) + 0.4 (x - 0.5))}
     * with x, y in [0, 1).
     */
    record BiasField(double a, String pattern) implements ShiftStep {
        public static final java.util.List<String> PATTERNS = java.util.List.of("lr", "ap", "diag", "radial", "saddle", "sin");

        public BiasField {
            if (!Double.isFinite(a)) {
                throw new IllegalArgumentException("bias a must be a number");
            }
            if (!PATTERNS.contains(pattern)) {
                throw new IllegalArgumentException("bias pattern must be one of " + PATTERNS + ", got '" + pattern + "'");
            }
        }

        /** The field's value at pixel (x, y). */
        public double gain(int x, int y, int w, int h) {
            if (pattern.equals("sin")) {
                double fx = (double) x / w;
                double fy = (double) y / h;
                return 1 + a * (0.6 * Math.sin(Math.PI * fx) * Math.cos(0.8 * Math.PI * fy) + 0.4 * (fx - 0.5));
            }
            double u = w > 1 ? 2.0 * x / (w - 1) - 1 : 0;
            double v = h > 1 ? 2.0 * y / (h - 1) - 1 : 0;
            double f = switch (pattern) {
                case "lr" -> u;
                case "ap" -> v;
                case "diag" -> (u + v) / 2;
                case "radial" -> 1 - (u * u + v * v);
                case "saddle" -> u * v;
                default -> throw new AssertionError(pattern);
            };
            return Math.exp(a * f);
        }

        @Override
        public void apply(float[] v, int w, int h, Random rnd) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    v[y * w + x] *= (float) gain(x, y, w, h);
                }
            }
        }

        @Override
        public String spec() {
            return "bias:a=" + num(a) + ",pattern=" + pattern;
        }

        @Override
        public String family() {
            return "bias";
        }
    }

    /**
     * A random-looking smooth field {@code exp(a f)}, f = c . (u, v, uv, u^2 - 1/3, v^2 - 1/3) scaled so that max |f| = 1
     * over the image (u, v in [-1, 1]). Spec {@code polybias:a=0.4,c1=..,c2=..,c3=..,c4=..,c5=..}.
     */
    record PolynomialField(double a, double[] c) implements ShiftStep {
        public PolynomialField {
            if (c.length != 5 || !Double.isFinite(a)) {
                throw new IllegalArgumentException("polybias needs a and five coefficients c1..c5");
            }
            c = c.clone();
        }

        @Override
        public void apply(float[] v, int w, int h, Random rnd) {
            double[] f = new double[w * h];
            double m = 1e-9;
            for (int y = 0; y < h; y++) {
                double vv = h > 1 ? 2.0 * y / (h - 1) - 1 : 0;
                for (int x = 0; x < w; x++) {
                    double uu = w > 1 ? 2.0 * x / (w - 1) - 1 : 0;
                    double val = c[0] * uu + c[1] * vv + c[2] * uu * vv + c[3] * (uu * uu - 1 / 3.0) + c[4] * (vv * vv - 1 / 3.0);
                    f[y * w + x] = val;
                    m = Math.max(m, Math.abs(val));
                }
            }
            for (int i = 0; i < v.length; i++) {
                v[i] *= (float) Math.exp(a * f[i] / m);
            }
        }

        @Override
        public String spec() {
            StringBuilder sb = new StringBuilder("polybias:a=").append(num(a));
            for (int i = 0; i < c.length; i++) {
                sb.append(",c").append(i + 1).append('=').append(num(c[i]));
            }
            return sb.toString();
        }

        @Override
        public String family() {
            return "bias";
        }
    }

    /** Gaussian point-spread blur, standard deviations in pixels along x and y. Spec {@code blur:sigma=1.5} or {@code blur:sx=0.5,sy=2}. */
    record Blur(double sx, double sy) implements ShiftStep {
        public Blur {
            if (!(sx >= 0 && sy >= 0) || sx + sy == 0) {
                throw new IllegalArgumentException("blur needs sigma >= 0 on both axes and > 0 on one");
            }
        }

        @Override
        public void apply(float[] v, int w, int h, Random rnd) {
            Filters.gaussianBlur(v, w, h, sx, sy);
        }

        @Override
        public String spec() {
            return sx == sy ? "blur:sigma=" + num(sx) : "blur:sx=" + num(sx) + ",sy=" + num(sy);
        }

        @Override
        public String family() {
            return "resolution";
        }
    }

    /**
     * Acquisition at a coarser matrix: area-averaged down by fx, fy (>= 1) and bilinearly interpolated back to the
     * original size, as a scanner with a smaller acquisition matrix (or thicker reformatted slices, anisotropic) would
     * deliver it. Spec {@code downsample:f=3} or {@code downsample:fx=1,fy=4}.
     */
    record Downsample(double fx, double fy) implements ShiftStep {
        public Downsample {
            if (!(fx >= 1 && fy >= 1) || fx * fy == 1) {
                throw new IllegalArgumentException("downsample needs factors >= 1 and > 1 on one axis");
            }
        }

        @Override
        public void apply(float[] v, int w, int h, Random rnd) {
            Filters.downUp(v, w, h, fx, fy);
        }

        @Override
        public String spec() {
            return fx == fy ? "downsample:f=" + num(fx) : "downsample:fx=" + num(fx) + ",fy=" + num(fy);
        }

        @Override
        public String family() {
            return "resolution";
        }
    }

    /** Additive Gaussian noise, sd on the [0, 1] scale. Spec {@code noise:sd=0.05}. */
    record GaussianNoise(double sd) implements ShiftStep {
        public GaussianNoise {
            positive("noise sd", sd);
        }

        @Override
        public void apply(float[] v, int w, int h, Random rnd) {
            for (int i = 0; i < v.length; i++) {
                v[i] += (float) (sd * rnd.nextGaussian());
            }
        }

        @Override
        public String spec() {
            return "noise:sd=" + num(sd);
        }

        @Override
        public String family() {
            return "noise";
        }
    }

    /**
     * Rician noise: the magnitude of a complex signal with Gaussian noise of this sd on both channels (MR magnitude
     * images; the background becomes a Rayleigh-distributed floor). Spec {@code rician:sd=0.04}.
     */
    record RicianNoise(double sd) implements ShiftStep {
        public RicianNoise {
            positive("rician sd", sd);
        }

        @Override
        public void apply(float[] v, int w, int h, Random rnd) {
            for (int i = 0; i < v.length; i++) {
                double re = v[i] + sd * rnd.nextGaussian();
                double im = sd * rnd.nextGaussian();
                v[i] = (float) Math.sqrt(re * re + im * im);
            }
        }

        @Override
        public String spec() {
            return "rician:sd=" + num(sd);
        }

        @Override
        public String family() {
            return "noise";
        }
    }

    private static void positive(String what, double x) {
        if (!(x > 0) || !Double.isFinite(x)) {
            throw new IllegalArgumentException(what + " must be a positive number, got " + x);
        }
    }

    /** Shortest decimal form of a parameter (spec strings round-trip). */
    static String num(double x) {
        if (x == Math.rint(x) && Math.abs(x) < 1e9) {
            return Long.toString((long) x);
        }
        String s = String.format(Locale.ROOT, "%.6f", x).replaceAll("0+$", "");
        return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
    }
}
