package org.imagingpipeline.inference;

/**
 * Resizes single-channel row-major images the way the models were trained (retrain's preprocessing, re-stated here
 * because services do not share code): the mean of each block when shrinking by whole factors (256 -> 128), else
 * bilinear interpolation with pixel centres aligned and edges clamped.
 */
public final class Resampler {
    private Resampler() {
    }

    public static float[] resize(float[] src, int sw, int sh, int dw, int dh) {
        if (sw == dw && sh == dh) return src.clone();
        return sw % dw == 0 && sh % dh == 0 ? blockMean(src, sw, dw, dh, sw / dw, sh / dh) : bilinear(src, sw, sh, dw, dh);
    }

    private static float[] blockMean(float[] src, int sw, int dw, int dh, int fx, int fy) {
        float[] dst = new float[dw * dh];
        float scale = 1f / (fx * fy);
        for (int y = 0; y < dh; y++) {
            for (int x = 0; x < dw; x++) {
                float sum = 0;
                for (int j = 0; j < fy; j++) {
                    int base = (y * fy + j) * sw + x * fx;
                    for (int i = 0; i < fx; i++) sum += src[base + i];
                }
                dst[y * dw + x] = sum * scale;
            }
        }
        return dst;
    }

    private static float[] bilinear(float[] src, int sw, int sh, int dw, int dh) {
        float[] dst = new float[dw * dh];
        float ratioX = (float) sw / dw;
        float ratioY = (float) sh / dh;
        for (int y = 0; y < dh; y++) {
            float cy = clamp((y + 0.5f) * ratioY - 0.5f, sh - 1f);
            int y0 = (int) cy;
            int y1 = Math.min(y0 + 1, sh - 1);
            float ty = cy - y0;
            for (int x = 0; x < dw; x++) {
                float cx = clamp((x + 0.5f) * ratioX - 0.5f, sw - 1f);
                int x0 = (int) cx;
                int x1 = Math.min(x0 + 1, sw - 1);
                float tx = cx - x0;
                float upper = src[y0 * sw + x0] + (src[y0 * sw + x1] - src[y0 * sw + x0]) * tx;
                float lower = src[y1 * sw + x0] + (src[y1 * sw + x1] - src[y1 * sw + x0]) * tx;
                dst[y * dw + x] = upper + (lower - upper) * ty;
            }
        }
        return dst;
    }

    private static float clamp(float v, float max) {
        return Math.max(0f, Math.min(max, v));
    }
}
