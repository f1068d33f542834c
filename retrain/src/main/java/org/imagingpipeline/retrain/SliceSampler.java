package org.imagingpipeline.retrain;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/** Draws slices (and their masks, where there are any) in shuffled passes, filling flat batch arrays. */
final class SliceSampler {

    private final List<float[]> images;
    private final List<byte[]> masks;
    private final int pixels;
    private final Random rnd;
    private final List<Integer> order = new ArrayList<>();
    private int cursor;

    /** {@code masks} may be null (unlabelled target slices). */
    SliceSampler(List<float[]> images, List<byte[]> masks, int pixels, Random rnd) {
        if (images.isEmpty()) {
            throw new DataException("no slices to sample from");
        }
        this.images = images;
        this.masks = masks;
        this.pixels = pixels;
        this.rnd = rnd;
        this.cursor = images.size();
    }

    /** Fills {@code x} (and {@code y} when not null) with {@code x.length / pixels} slices. */
    void fill(float[] x, float[] y) {
        for (int j = 0; j < x.length / pixels; j++) {
            if (cursor >= images.size()) {
                order.clear();
                for (int i = 0; i < images.size(); i++) {
                    order.add(i);
                }
                Collections.shuffle(order, rnd);
                cursor = 0;
            }
            int idx = order.get(cursor++);
            System.arraycopy(images.get(idx), 0, x, j * pixels, pixels);
            if (y != null) {
                byte[] m = masks.get(idx);
                for (int k = 0; k < pixels; k++) {
                    y[j * pixels + k] = m[k];
                }
            }
        }
    }
}
