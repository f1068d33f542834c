package org.imagingpipeline.retrain;

import java.nio.file.Path;

/**
 * Training settings. Defaults fit the 2-core machine: 128 input, batch 16, at most 25 minutes of training.
 *
 * @param size           square input size the slices are resized to (multiple of 2^depth; 128 or 256)
 * @param epochs         maximum epochs (one epoch = one pass over the training slices, or stepsPerEpoch)
 * @param stepsPerEpoch  0 = ceil(training slices / batch)
 * @param maxSteps       0 = no cap; else stop after this many optimiser steps
 * @param maxMinutes     0 = no limit; else stop (after the current step) once training took this long
 * @param patience       epochs without a better validation Dice before stopping early (0 = never)
 * @param threads        PyTorch intra-op threads
 * @param checkpointDir  where the best weights so far are saved (null = none)
 */
public record TrainConfig(int size, int batch, int epochs, int stepsPerEpoch, int maxSteps, double maxMinutes,
                          float learningRate, int baseFilters, int depth, double valFraction, long seed,
                          int patience, boolean augment, boolean intensityAugment, int threads,
                          Path checkpointDir) {

    public static TrainConfig defaults() {
        return new TrainConfig(128, 16, 40, 0, 0, 25, 1e-3f, 8, 4, 0.2, 42, 8, true, false,
                Runtime.getRuntime().availableProcessors(), null);
    }

    public TrainConfig validate() {
        int mult = 1 << depth;
        if (size < mult || size % mult != 0) {
            throw new DataException("--size must be a positive multiple of " + mult + " (2^depth), got " + size);
        }
        if (batch < 1 || epochs < 1 || learningRate <= 0 || baseFilters < 1) {
            throw new DataException("--batch, --epochs, --lr and --base-filters must be positive");
        }
        return this;
    }

    public TrainConfig withSize(int v) {
        return new TrainConfig(v, batch, epochs, stepsPerEpoch, maxSteps, maxMinutes, learningRate, baseFilters, depth,
                valFraction, seed, patience, augment, intensityAugment, threads, checkpointDir);
    }
}
