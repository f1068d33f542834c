package org.imagingpipeline.shifts;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Random acquisition shifts for training-time augmentation (the domain-generalisation route of stacked
 * transformations, Zhang et al. 2020 "BigAug"): each family is drawn independently with probability {@code p} from
 * broad ranges, in the physical order contrast, bias field, resolution, noise. The ranges were fixed from the
 * families a new scanner brings, not fitted to any suite entry; they are wider than the suite's shifts on purpose.
 * Parameters are for slices at the model's input size (128 x 128 for the default U-Net, i.e. half the data's 256:
 * a blur of sigma 1 here is about 2 pixels of the original).
 * <ul>
 *   <li>contrast: one of gamma e^U(-0.9, 0.9) (0.41 - 2.46); a monotone piecewise-linear curve with knots near 0.3
 *       and 0.7, each moved by up to +-0.2; a sigmoid with k U(3, 10), c U(0.3, 0.6);</li>
 *   <li>bias: exp(a f) with f a random combination of u, v, uv, u^2, v^2 scaled to max |f| = 1, a U(0.1, 0.7);</li>
 *   <li>resolution: one of an isotropic blur sigma U(0.3, 1.5), an anisotropic blur (sigma U(0, 1.5) per axis),
 *       a coarser matrix (factor U(1.3, 2.5), on one axis or both);</li>
 *   <li>noise: Gaussian or Rician, sd U(0.005, 0.06).</li>
 * </ul>
 */
public final class RandomShifts {

    private final double p;

    public RandomShifts(double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("probability must be in [0, 1], got " + p);
        }
        this.p = p;
    }

    public double probability() {
        return p;
    }

    public String describe() {
        return String.format(java.util.Locale.ROOT, "acquisition shifts (each family p%.2f): contrast gamma e^U(-0.9,0.9) | "
                + "monotone pwl | sigmoid; bias exp(a quadratic), a U(0.1,0.7); resolution blur U(0.3,1.5) | anisotropic "
                + "| matrix 1.3-2.5x; noise Gaussian|Rician sd U(0.005,0.06)", p);
    }

    /** Draws one random shift. */
    public AcquisitionShift draw(Random rnd) {
        List<ShiftStep> steps = new ArrayList<>();
        if (rnd.nextDouble() < p) {
            steps.add(switch (rnd.nextInt(3)) {
                case 0 -> new ShiftStep.Gamma(Math.exp(u(rnd, -0.9, 0.9)));
                case 1 -> {
                    double x1 = u(rnd, 0.2, 0.4);
                    double x2 = u(rnd, 0.6, 0.8);
                    double y1 = clamp(x1 + u(rnd, -0.2, 0.2), 0.02, 0.9);
                    double y2 = clamp(x2 + u(rnd, -0.2, 0.2), y1, 0.98);
                    yield new ShiftStep.PiecewiseLinear(new double[] {x1, x2}, new double[] {y1, y2});
                }
                default -> new ShiftStep.Sigmoid(u(rnd, 3, 10), u(rnd, 0.3, 0.6));
            });
        }
        if (rnd.nextDouble() < p) {
            steps.add(new ShiftStep.PolynomialField(u(rnd, 0.1, 0.7), new double[] {
                u(rnd, -1, 1), u(rnd, -1, 1), u(rnd, -1, 1), u(rnd, -1, 1), u(rnd, -1, 1)}));
        }
        if (rnd.nextDouble() < p) {
            steps.add(switch (rnd.nextInt(3)) {
                case 0 -> {
                    double s = u(rnd, 0.3, 1.5);
                    yield new ShiftStep.Blur(s, s);
                }
                case 1 -> new ShiftStep.Blur(u(rnd, 0, 1.5), u(rnd, 0.05, 1.5));
                default -> {
                    double f = u(rnd, 1.3, 2.5);
                    int axes = rnd.nextInt(3);
                    yield new ShiftStep.Downsample(axes == 1 ? 1 : f, axes == 2 ? 1 : f);
                }
            });
        }
        if (rnd.nextDouble() < p) {
            double sd = u(rnd, 0.005, 0.06);
            steps.add(rnd.nextBoolean() ? new ShiftStep.GaussianNoise(sd) : new ShiftStep.RicianNoise(sd));
        }
        return new AcquisitionShift("random", steps);
    }

    /**
     * Augments a slice of raw intensities in place: scaled to [0, 1] by its maximum, shifted by a random draw, scaled
     * back. A slice without signal is left alone.
     */
    public void augment(float[] raw, int w, int h, Random rnd) {
        float max = 0;
        for (float v : raw) {
            max = Math.max(max, v);
        }
        AcquisitionShift shift = draw(rnd);
        if (max <= 0 || shift.steps().isEmpty()) {
            return;
        }
        for (int i = 0; i < raw.length; i++) {
            raw[i] /= max;
        }
        shift.applyInPlace(raw, w, h, rnd);
        for (int i = 0; i < raw.length; i++) {
            raw[i] *= max;
        }
    }

    private static double u(Random r, double lo, double hi) {
        return lo + (hi - lo) * r.nextDouble();
    }

    private static double clamp(double x, double lo, double hi) {
        return Math.max(lo, Math.min(hi, x));
    }
}
