package org.imagingpipeline.streams;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.imagingpipeline.shifts.AcquisitionShift;

/**
 * In-memory head phantoms for the feature tests: an elliptical head with a bright rim (scalp), darker ventricles,
 * a bright lesion, smooth tissue variation and fine texture, on a zero background; each patient seed varies the
 * anatomy. Slices are on [0, 1], then optionally through an {@link AcquisitionShift}, then written as the scanner
 * simulator writes them (x 4095, rounded).
 */
final class PhantomImages {
    static final int SIZE = 128;

    private PhantomImages() {
    }

    /** A patient's slices through the shift, as 12-bit values. */
    static List<ImageStatistics.Slice> patient(int seed, AcquisitionShift shift, int slices) {
        Random rnd = new Random(seed * 7919L + 17);
        double rx = 0.36 + 0.03 * rnd.nextGaussian(), ry = 0.44 + 0.03 * rnd.nextGaussian();
        double cx = 0.5 + 0.02 * rnd.nextGaussian(), cy = 0.5 + 0.02 * rnd.nextGaussian();
        double tissue = 0.22 + 0.02 * rnd.nextGaussian();
        double lx = 0.5 + 0.15 * rnd.nextGaussian(), ly = 0.5 + 0.15 * rnd.nextGaussian(), lr = 0.05 + 0.02 * rnd.nextDouble();
        List<ImageStatistics.Slice> out = new ArrayList<>();
        for (int z = 0; z < slices; z++) {
            double shrink = 1 - 0.4 * Math.abs(z - slices / 2.0) / slices;
            float[] v = new float[SIZE * SIZE];
            for (int y = 0; y < SIZE; y++) {
                for (int x = 0; x < SIZE; x++) {
                    double fx = (double) x / SIZE, fy = (double) y / SIZE;
                    double dx = (fx - cx) / (rx * shrink), dy = (fy - cy) / (ry * shrink);
                    double r = Math.sqrt(dx * dx + dy * dy);
                    double val = 0;
                    if (r < 1) {
                        val = r > 0.9 ? 0.55 : tissue * (1 + 0.08 * Math.sin(9 * fx + seed) * Math.cos(7 * fy));
                        double vx = (fx - cx) / 0.06, vy = (fy - cy) / 0.12;
                        if (vx * vx + vy * vy < 1) val = 0.08;
                        double ex = (fx - lx) / lr, ey = (fy - ly) / lr;
                        if (ex * ex + ey * ey < 1 && r < 0.85) val = 0.45;
                        val *= 1 + 0.04 * rnd.nextGaussian();
                    }
                    v[y * SIZE + x] = (float) Math.max(0, Math.min(1, val));
                }
            }
            if (!shift.steps().isEmpty()) v = shift.apply(v, SIZE, SIZE, 1000L + seed, "phantom-" + seed, z);
            for (int i = 0; i < v.length; i++) v[i] = Math.round(v[i] * 4095);
            out.add(new ImageStatistics.Slice(v, SIZE, SIZE));
        }
        return out;
    }

    /** The feature vector (all of {@link ImageStatistics#NAMES}) of a patient through a shift. */
    static double[] features(int seed, AcquisitionShift shift) {
        return ImageStatistics.of(patient(seed, shift, 8));
    }
}
