package org.imagingpipeline.retrain;

/** Resizing of square-or-not single-channel images, shared by training and ONNX evaluation. */
public final class Resampler {
    private Resampler() {
    }

    /**
     * Resizes an image: box average when shrinking by an integer factor (256 -> 128), bilinear otherwise
     * (pixel centres aligned).
     */
    public static float[] resize(float[] src, int sw, int sh, int dw, int dh) {
        if (sw == dw && sh == dh) {
            return src.clone();
        }
        float[] dst = new float[dw * dh];
        if (sw % dw == 0 && sh % dh == 0) {
            int fx = sw / dw;
            int fy = sh / dh;
            float inv = 1f / (fx * fy);
            for (int y = 0; y < dh; y++) {
                for (int x = 0; x < dw; x++) {
                    float s = 0;
                    for (int j = 0; j < fy; j++) {
                        int row = (y * fy + j) * sw + x * fx;
                        for (int i = 0; i < fx; i++) {
                            s += src[row + i];
                        }
                    }
                    dst[y * dw + x] = s * inv;
                }
            }
            return dst;
        }
        float sx = (float) sw / dw;
        float sy = (float) sh / dh;
        for (int y = 0; y < dh; y++) {
            float fy = Math.max(0f, Math.min(sh - 1f, (y + 0.5f) * sy - 0.5f));
            int y0 = (int) fy;
            int y1 = Math.min(y0 + 1, sh - 1);
            float wy = fy - y0;
            for (int x = 0; x < dw; x++) {
                float fx = Math.max(0f, Math.min(sw - 1f, (x + 0.5f) * sx - 0.5f));
                int x0 = (int) fx;
                int x1 = Math.min(x0 + 1, sw - 1);
                float wx = fx - x0;
                float top = src[y0 * sw + x0] * (1 - wx) + src[y0 * sw + x1] * wx;
                float bot = src[y1 * sw + x0] * (1 - wx) + src[y1 * sw + x1] * wx;
                dst[y * dw + x] = top * (1 - wy) + bot * wy;
            }
        }
        return dst;
    }

    /** A 0/1 mask resized like an image, then thresholded at 0.5. */
    public static byte[] resizeMask(byte[] src, int sw, int sh, int dw, int dh) {
        if (sw == dw && sh == dh) {
            return src.clone();
        }
        float[] f = new float[src.length];
        for (int i = 0; i < src.length; i++) {
            f[i] = src[i];
        }
        float[] r = resize(f, sw, sh, dw, dh);
        byte[] out = new byte[r.length];
        for (int i = 0; i < r.length; i++) {
            out[i] = (byte) (r[i] >= 0.5f ? 1 : 0);
        }
        return out;
    }
}
