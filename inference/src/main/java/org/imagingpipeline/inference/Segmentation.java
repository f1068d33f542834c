package org.imagingpipeline.inference;

import java.util.List;

/**
 * A series' segmentation at the source resolution, with the sums the lesion measures are made of.
 *
 * @param masks              one 0/1 mask (rows x columns) per slice, after the optional clean-up
 * @param foregroundVoxels   voxels set in {@code masks}
 * @param slicesWithLesion   slices with at least one foreground voxel
 * @param foregroundProbSum  sum of the model's probability over the foreground voxels
 * @param entropySum         sum over all voxels of the binary predictive entropy -p ln p - (1-p) ln(1-p), nats
 * @param voxels             all voxels of the series
 */
public record Segmentation(List<byte[]> masks, long foregroundVoxels, int slicesWithLesion, double foregroundProbSum,
                           double entropySum, long voxels) {

    public double meanForegroundProbability() {
        return foregroundVoxels == 0 ? 0.0 : foregroundProbSum / foregroundVoxels;
    }

    public double meanPredictiveEntropy() {
        return voxels == 0 ? 0.0 : entropySum / voxels;
    }
}
