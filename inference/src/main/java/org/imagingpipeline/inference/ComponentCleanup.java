package org.imagingpipeline.inference;

/**
 * Optional post-processing: removes connected foreground components (8-connected, within one slice) smaller than
 * a minimum number of pixels. Isolated specks are almost always false positives of a 2D model; 0 disables it.
 */
public final class ComponentCleanup {
    private final int minPixels;

    public ComponentCleanup(int minPixels) {
        if (minPixels < 0) throw new IllegalArgumentException("inference.min-component-pixels must be >= 0");
        this.minPixels = minPixels;
    }

    public boolean enabled() {
        return minPixels > 1;
    }

    /** Clears, in place, every component of {@code mask} (0/1, w x h) with fewer than the minimum pixels. */
    public void apply(byte[] mask, int w, int h) {
        if (!enabled()) return;
        int[] label = new int[mask.length];
        int[] stack = new int[mask.length];
        int[] members = new int[mask.length];
        int next = 0;
        for (int start = 0; start < mask.length; start++) {
            if (mask[start] == 0 || label[start] != 0) continue;
            next++;
            int top = 0;
            int count = 0;
            stack[top++] = start;
            label[start] = next;
            while (top > 0) {
                int p = stack[--top];
                members[count++] = p;
                int px = p % w;
                int py = p / w;
                for (int dy = -1; dy <= 1; dy++) {
                    int y = py + dy;
                    if (y < 0 || y >= h) continue;
                    for (int dx = -1; dx <= 1; dx++) {
                        int x = px + dx;
                        if (x < 0 || x >= w) continue;
                        int q = y * w + x;
                        if (mask[q] != 0 && label[q] == 0) {
                            label[q] = next;
                            stack[top++] = q;
                        }
                    }
                }
            }
            if (count < minPixels) {
                for (int i = 0; i < count; i++) mask[members[i]] = 0;
            }
        }
    }
}
