package org.imagingpipeline.retrain;

import java.util.Random;

/**
 * Train-time augmentation of one slice and its mask (square or not, single channel).
 * <ul>
 *   <li>geometric (default on): horizontal flip, rotation up to +-10 degrees, scale 0.9..1.1 (bilinear for the
 *       image, nearest for the mask), plus linear intensity/contrast jitter (mostly undone by the per-image
 *       z-score inside the network; kept because it is cheap and interacts with clipping and background);</li>
 *   <li>intensity (option {@code --intensity-aug}): random gamma, smooth multiplicative bias field, Gaussian
 *       noise, Gaussian blur; each applied with probability 0.5. These are the shifts scanners and protocols
 *       produce, the augmentation route to domain generalisation.</li>
 *   <li>acquisition (option {@code --acquisition-aug P}): stacked random acquisition shifts of every family a new
 *       scanner brings (contrast curves, bias fields, resolution loss, Gaussian/Rician noise), each family with
 *       probability P, from {@link org.imagingpipeline.shifts.RandomShifts}.</li>
 * </ul>
 */
public final class Augmenter {

    private final boolean geometric;
    private final boolean intensity;
    private final org.imagingpipeline.shifts.RandomShifts acquisition;

    public Augmenter(boolean geometric, boolean intensity) {
        this(geometric, intensity, 0);
    }

    /** @param acquisitionP probability of each acquisition-shift family ({@link org.imagingpipeline.shifts.RandomShifts}); 0 = off */
    public Augmenter(boolean geometric, boolean intensity, double acquisitionP) {
        this.geometric = geometric;
        this.intensity = intensity;
        this.acquisition = acquisitionP > 0 ? new org.imagingpipeline.shifts.RandomShifts(acquisitionP) : null;
    }

    public boolean geometric() {
        return geometric;
    }

    public boolean intensity() {
        return intensity;
    }

    public String describe() {
        if (!geometric && !intensity && acquisition == null) {
            return "none";
        }
        StringBuilder sb = new StringBuilder();
        if (geometric) {
            sb.append("flip-lr p0.5, rotate +-10deg, scale 0.9-1.1, contrast x0.9-1.1, brightness +-10");
        }
        if (intensity) {
            sb.append(sb.length() > 0 ? "; " : "").append(
                    "intensity: gamma e^U(-0.4,0.4), bias field exp(quadratic, coeff +-0.3), noise sd<=5% max, blur sd 0.5-1.5 px (each p0.5)");
        }
        if (acquisition != null) {
            sb.append(sb.length() > 0 ? "; " : "").append(acquisition.describe());
        }
        return sb.toString();
    }

    /** Writes the augmented slice into {@code outImg}/{@code outMask} (same size as the input). */
    public void apply(float[] img, byte[] mask, int w, int h, Random rnd, float[] outImg, float[] outMask) {
        if (geometric) {
            boolean flip = rnd.nextBoolean();
            double angle = Math.toRadians((rnd.nextDouble() * 2 - 1) * 10);
            double scale = 0.9 + rnd.nextDouble() * 0.2;
            warp(img, mask, w, h, flip, angle, scale, outImg, outMask);
            float contrast = 0.9f + rnd.nextFloat() * 0.2f;
            float bright = (rnd.nextFloat() * 2 - 1) * 10f;
            for (int i = 0; i < outImg.length; i++) {
                outImg[i] = Math.max(0f, outImg[i] * contrast + bright);
            }
        } else {
            System.arraycopy(img, 0, outImg, 0, img.length);
            for (int i = 0; i < mask.length; i++) {
                outMask[i] = mask[i];
            }
        }
        if (intensity) {
            intensityShift(outImg, w, h, rnd);
        }
        if (acquisition != null) {
            acquisition.augment(outImg, w, h, rnd);
        }
    }

    private static void warp(float[] img, byte[] mask, int w, int h, boolean flip, double angle, double scale,
                             float[] outImg, float[] outMask) {
        double cx = (w - 1) / 2.0;
        double cy = (h - 1) / 2.0;
        double cos = Math.cos(angle) / scale;
        double sin = Math.sin(angle) / scale;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                double dx = (flip ? (w - 1 - x) : x) - cx;
                double dy = y - cy;
                double sx = cos * dx + sin * dy + cx;
                double sy = -sin * dx + cos * dy + cy;
                int o = y * w + x;
                int x0 = (int) Math.floor(sx);
                int y0 = (int) Math.floor(sy);
                double fx = sx - x0;
                double fy = sy - y0;
                float v = 0;
                v += (float) ((1 - fx) * (1 - fy)) * at(img, w, h, x0, y0);
                v += (float) (fx * (1 - fy)) * at(img, w, h, x0 + 1, y0);
                v += (float) ((1 - fx) * fy) * at(img, w, h, x0, y0 + 1);
                v += (float) (fx * fy) * at(img, w, h, x0 + 1, y0 + 1);
                outImg[o] = v;
                int nx = (int) Math.round(sx);
                int ny = (int) Math.round(sy);
                outMask[o] = (nx >= 0 && ny >= 0 && nx < w && ny < h) ? mask[ny * w + nx] : 0;
            }
        }
    }

    private static float at(float[] img, int w, int h, int x, int y) {
        return (x < 0 || y < 0 || x >= w || y >= h) ? 0f : img[y * w + x];
    }

    /** Gamma, bias field, noise and blur, each with probability 0.5. Public for shift experiments. */
    public static void intensityShift(float[] img, int w, int h, Random rnd) {
        float max = 0;
        for (float v : img) {
            max = Math.max(max, v);
        }
        if (max <= 0) {
            return;
        }
        if (rnd.nextBoolean()) {
            double gamma = Math.exp((rnd.nextDouble() * 2 - 1) * 0.4);
            for (int i = 0; i < img.length; i++) {
                img[i] = (float) (Math.pow(Math.max(0f, img[i]) / max, gamma) * max);
            }
        }
        if (rnd.nextBoolean()) {
            double[] c = new double[5];
            for (int k = 0; k < c.length; k++) {
                c[k] = (rnd.nextDouble() * 2 - 1) * 0.3;
            }
            for (int y = 0; y < h; y++) {
                double v = 2.0 * y / (h - 1) - 1;
                for (int x = 0; x < w; x++) {
                    double u = 2.0 * x / (w - 1) - 1;
                    img[y * w + x] *= (float) Math.exp(c[0] * u + c[1] * v + c[2] * u * v + c[3] * u * u + c[4] * v * v);
                }
            }
        }
        if (rnd.nextBoolean()) {
            double sd = rnd.nextDouble() * 0.05 * max;
            for (int i = 0; i < img.length; i++) {
                img[i] = (float) Math.max(0, img[i] + rnd.nextGaussian() * sd);
            }
        }
        if (rnd.nextBoolean()) {
            gaussianBlur(img, w, h, 0.5 + rnd.nextDouble());
        }
    }

    static void gaussianBlur(float[] img, int w, int h, double sigma) {
        int r = (int) Math.ceil(2.5 * sigma);
        float[] k = new float[2 * r + 1];
        float sum = 0;
        for (int i = -r; i <= r; i++) {
            k[i + r] = (float) Math.exp(-(i * i) / (2 * sigma * sigma));
            sum += k[i + r];
        }
        for (int i = 0; i < k.length; i++) {
            k[i] /= sum;
        }
        float[] tmp = new float[img.length];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                float s = 0;
                for (int i = -r; i <= r; i++) {
                    int xx = Math.min(w - 1, Math.max(0, x + i));
                    s += k[i + r] * img[y * w + xx];
                }
                tmp[y * w + x] = s;
            }
        }
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                float s = 0;
                for (int i = -r; i <= r; i++) {
                    int yy = Math.min(h - 1, Math.max(0, y + i));
                    s += k[i + r] * tmp[yy * w + x];
                }
                img[y * w + x] = s;
            }
        }
    }
}
