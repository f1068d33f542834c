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
 * @param acquisitionAug probability of each acquisition-shift family in training-time augmentation (0 = off;
 *                       {@link org.imagingpipeline.shifts.RandomShifts})
 * @param lrSchedule     {@code fixed} or {@code cosine} (linear warm-up over warmupSteps, then cosine decay to 5% of
 *                       the rate at the planned last step)
 * @param selectBest     keep the weights of the epoch with the best validation Dice (true) or the last weights (false:
 *                       the validation patients then stay a held-out set nothing was chosen on)
 * @param bnRecalibrate  after training, replace the batch norms' running statistics (a moving average over the last
 *                       augmented batches) by the population statistics of the un-augmented training slices
 * @param domainBatches  domain-specific batch normalisation (MS-Net / DSBN with shared affine parameters): every batch
 *                       holds one site's slices, sites taking turns, so each batch norm normalises a site by that
 *                       site's own statistics; with bnRecalibrate the statistics become the mean over sites of each
 *                       site's population statistics (a new site gets its own by AdaBN over all layers)
 */
public record TrainConfig(int size, int batch, int epochs, int stepsPerEpoch, int maxSteps, double maxMinutes,
                          float learningRate, int baseFilters, int depth, double valFraction, long seed,
                          int patience, boolean augment, boolean intensityAugment, int threads,
                          Path checkpointDir, double acquisitionAug, String lrSchedule, int warmupSteps,
                          boolean selectBest, boolean bnRecalibrate, boolean domainBatches) {

    public static TrainConfig defaults() {
        return new TrainConfig(128, 16, 40, 0, 0, 25, 1e-3f, 8, 4, 0.2, 42, 8, true, false,
                Runtime.getRuntime().availableProcessors(), null, 0, "fixed", 0, true, false, false);
    }

    public TrainConfig validate() {
        int mult = 1 << depth;
        if (size < mult || size % mult != 0) {
            throw new DataException("--size must be a positive multiple of " + mult + " (2^depth), got " + size);
        }
        if (batch < 1 || epochs < 1 || learningRate <= 0 || baseFilters < 1) {
            throw new DataException("--batch, --epochs, --lr and --base-filters must be positive");
        }
        if (!(acquisitionAug >= 0 && acquisitionAug <= 1)) {
            throw new DataException("--acquisition-aug must be a probability in [0, 1], got " + acquisitionAug);
        }
        if (!lrSchedule.equals("fixed") && !lrSchedule.equals("cosine")) {
            throw new DataException("--lr-schedule must be fixed or cosine, got '" + lrSchedule + "'");
        }
        if (warmupSteps < 0) {
            throw new DataException("--warmup-steps must be >= 0");
        }
        return this;
    }

    public TrainConfig withSize(int v) {
        return new TrainConfig(v, batch, epochs, stepsPerEpoch, maxSteps, maxMinutes, learningRate, baseFilters, depth,
                valFraction, seed, patience, augment, intensityAugment, threads, checkpointDir, acquisitionAug, lrSchedule,
                warmupSteps, selectBest, bnRecalibrate, domainBatches);
    }

    /** The learning rate of step {@code step} (1-based) of {@code planned}. */
    public float learningRateAt(long step, long planned) {
        if (step <= warmupSteps) {
            return learningRate * step / (warmupSteps + 1f);
        }
        if (lrSchedule.equals("fixed") || planned <= warmupSteps) {
            return learningRate;
        }
        double progress = Math.min(1.0, (double) (step - warmupSteps) / (planned - warmupSteps));
        return (float) (learningRate * (0.05 + 0.95 * 0.5 * (1 + Math.cos(Math.PI * progress))));
    }
}
