package org.imagingpipeline.shifts;

/** Separable image filters on row-major float slices (edges clamped). */
public final class Filters {

    private Filters() {
    }

    /** Gaussian blur with standard deviations {@code sx}, {@code sy} in pixels (0 = that axis untouched), kernel radius ceil(3 sigma). */
    public static void gaussianBlur(float[] v, int w, int h, double sx, double sy) {
        if (sx > 0) {
            double[] k = kernel(sx);
            int r = k.length / 2;
            float[] row = new float[w];
            for (int y = 0; y < h; y++) {
                int o = y * w;
                for (int x = 0; x < w; x++) {
                    double a = 0;
                    for (int i = -r; i <= r; i++) {
                        a += k[i + r] * v[o + Math.min(w - 1, Math.max(0, x + i))];
                    }
                    row[x] = (float) a;
                }
                System.arraycopy(row, 0, v, o, w);
            }
        }
        if (sy > 0) {
            double[] k = kernel(sy);
            int r = k.length / 2;
            float[] col = new float[h];
            for (int x = 0; x < w; x++) {
                for (int y = 0; y < h; y++) {
                    double a = 0;
                    for (int i = -r; i <= r; i++) {
                        a += k[i + r] * v[Math.min(h - 1, Math.max(0, y + i)) * w + x];
                    }
                    col[y] = (float) a;
                }
                for (int y = 0; y < h; y++) {
                    v[y * w + x] = col[y];
                }
            }
        }
    }

    static double[] kernel(double sigma) {
        int r = (int) Math.ceil(3 * sigma);
        double[] k = new double[2 * r + 1];
        double sum = 0;
        for (int i = -r; i <= r; i++) {
            sum += k[i + r] = Math.exp(-i * i / (2 * sigma * sigma));
        }
        for (int i = 0; i < k.length; i++) {
            k[i] /= sum;
        }
        return k;
    }

    /** Area-average down by (fx, fy) and bilinear interpolation back up to w x h, in place. */
    public static void downUp(float[] v, int w, int h, double fx, double fy) {
        int mw = Math.max(1, (int) Math.round(w / fx));
        int mh = Math.max(1, (int) Math.round(h / fy));
        float[] small = new float[mw * mh];
        // rows first: w -> mw, then columns: h -> mh
        float[] tmp = new float[mw * h];
        float[] in = new float[Math.max(w, h)];
        float[] out = new float[Math.max(mw, mh)];
        for (int y = 0; y < h; y++) {
            System.arraycopy(v, y * w, in, 0, w);
            area(in, w, out, mw);
            System.arraycopy(out, 0, tmp, y * mw, mw);
        }
        for (int x = 0; x < mw; x++) {
            for (int y = 0; y < h; y++) {
                in[y] = tmp[y * mw + x];
            }
            area(in, h, out, mh);
            for (int y = 0; y < mh; y++) {
                small[y * mw + x] = out[y];
            }
        }
        float[] up = new float[w * mh];
        float[] a = new float[Math.max(mw, mh)];
        float[] b = new float[Math.max(w, h)];
        for (int y = 0; y < mh; y++) {
            System.arraycopy(small, y * mw, a, 0, mw);
            linear(a, mw, b, w);
            System.arraycopy(b, 0, up, y * w, w);
        }
        for (int x = 0; x < w; x++) {
            for (int y = 0; y < mh; y++) {
                a[y] = up[y * w + x];
            }
            linear(a, mh, b, h);
            for (int y = 0; y < h; y++) {
                v[y * w + x] = b[y];
            }
        }
    }

    /** Exact area average of n samples onto m (m <= n) equal cells. */
    static void area(float[] in, int n, float[] out, int m) {
        double cell = (double) n / m;
        for (int j = 0; j < m; j++) {
            double lo = j * cell;
            double hi = lo + cell;
            double sum = 0;
            for (int i = (int) Math.floor(lo); i < Math.min(n, (int) Math.ceil(hi)); i++) {
                double overlap = Math.min(hi, i + 1) - Math.max(lo, i);
                if (overlap > 0) {
                    sum += overlap * in[i];
                }
            }
            out[j] = (float) (sum / cell);
        }
    }

    /** Linear interpolation of m cell-centred samples onto n cells (edges clamped). */
    static void linear(float[] in, int m, float[] out, int n) {
        for (int i = 0; i < n; i++) {
            double t = (i + 0.5) * m / n - 0.5;
            if (t <= 0) {
                out[i] = in[0];
            } else if (t >= m - 1) {
                out[i] = in[m - 1];
            } else {
                int k = (int) Math.floor(t);
                double f = t - k;
                out[i] = (float) ((1 - f) * in[k] + f * in[k + 1]);
            }
        }
    }
}
