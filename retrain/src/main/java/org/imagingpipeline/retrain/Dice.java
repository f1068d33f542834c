package org.imagingpipeline.retrain;

import java.util.Arrays;
import java.util.List;

/** Dice overlap of binary masks (0/1 bytes); two empty masks agree perfectly (Dice 1). */
public final class Dice {
    private Dice() {
    }

    public static double of(long intersection, long predicted, long truth) {
        return predicted + truth == 0 ? 1.0 : 2.0 * intersection / (predicted + truth);
    }

    /** 3D Dice over all slices of a patient. */
    public static double volume(List<byte[]> pred, List<byte[]> truth) {
        long inter = 0;
        long p = 0;
        long t = 0;
        for (int s = 0; s < truth.size(); s++) {
            byte[] a = pred.get(s);
            byte[] b = truth.get(s);
            for (int i = 0; i < b.length; i++) {
                inter += a[i] & b[i];
                p += a[i];
                t += b[i];
            }
        }
        return of(inter, p, t);
    }

    public static double slice(byte[] pred, byte[] truth) {
        long inter = 0;
        long p = 0;
        long t = 0;
        for (int i = 0; i < truth.length; i++) {
            inter += pred[i] & truth[i];
            p += pred[i];
            t += truth[i];
        }
        return of(inter, p, t);
    }

    public static double mean(double[] v) {
        return v.length == 0 ? Double.NaN : Arrays.stream(v).average().orElse(Double.NaN);
    }

    public static double median(double[] v) {
        if (v.length == 0) {
            return Double.NaN;
        }
        double[] s = v.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    public static double std(double[] v) {
        if (v.length < 2) {
            return 0;
        }
        double m = mean(v);
        double ss = 0;
        for (double x : v) {
            ss += (x - m) * (x - m);
        }
        return Math.sqrt(ss / (v.length - 1));
    }
}
