package org.imagingpipeline.streams;

/** Which slices of a series are decoded: at most {@code max}, evenly spread over its middle 80% (the ends are mostly air). */
public final class SliceSelection {
    private SliceSelection() {
    }

    public static int[] pick(int count, int max) {
        if (count <= 0) return new int[0];
        int lo = (int) Math.floor(count * 0.1), hi = (int) Math.ceil(count * 0.9) - 1;
        if (hi < lo) {
            lo = 0;
            hi = count - 1;
        }
        int span = hi - lo + 1, k = Math.min(max, span);
        int[] out = new int[k];
        for (int i = 0; i < k; i++) out[i] = lo + (int) Math.floor((i + 0.5) * span / k);
        return out;
    }
}
