package org.imagingpipeline.retrain.service.jobs;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * How jobs run (from the {@code retrain.*} configuration, see application.properties).
 *
 * @param adaptCommand     the adapt command and its leading arguments
 * @param adaptDirectory   its working directory (relative model paths in its result are resolved against it)
 * @param workDirectory    per-job scratch space (exported PNGs, the adapted model before it is stored)
 * @param modelsDirectory  where adapted models are kept as {@code <sha256>.onnx}
 * @param sourceData       the source training data for the gate (and adversarial alignment); null = not passed
 * @param sourceSites      its sites
 * @param expertLabels     expert-corrected masks by series ({@code retrain.expert-labels}, see ExpertLabels); null = none
 * @param maxMinutes       default adaptation budget per job
 * @param killGrace        a job is killed at maxMinutes + this
 * @param maxSeries        at most this many (most recent) series of the domain per job
 * @param modelName        name of adapted models when the parent's name is unknown
 * @param workers          jobs run at once
 * @param keepWork         keep the scratch directory after a job (for debugging)
 * @param minSeries        a job whose export yields fewer series than this fails with the reason (retrain.min-series)
 * @param maxAttempts      a drift-triggered job interrupted by a restart is re-queued while it was started fewer times
 *                         than this (retrain.jobs.max-attempts), then FAILED
 */
public record JobSettings(List<String> adaptCommand, Path adaptDirectory, Path workDirectory, Path modelsDirectory, Path sourceData,
                          String sourceSites, Path expertLabels, double maxMinutes, Duration killGrace, int maxSeries, String modelName, int workers,
                          boolean keepWork, int minSeries, int maxAttempts) {
    /** The default of {@code retrain.jobs.max-attempts}. */
    public static final int DEFAULT_MAX_ATTEMPTS = 3;

    /** With the default {@link #DEFAULT_MAX_ATTEMPTS}. */
    public JobSettings(List<String> adaptCommand, Path adaptDirectory, Path workDirectory, Path modelsDirectory, Path sourceData,
                       String sourceSites, Path expertLabels, double maxMinutes, Duration killGrace, int maxSeries, String modelName, int workers,
                       boolean keepWork, int minSeries) {
        this(adaptCommand, adaptDirectory, workDirectory, modelsDirectory, sourceData, sourceSites, expertLabels, maxMinutes, killGrace,
                maxSeries, modelName, workers, keepWork, minSeries, DEFAULT_MAX_ATTEMPTS);
    }

    /** {@code auto}: the adapt command tries its candidate methods and keeps the best one the gate passes. */
    public static final List<String> METHODS = List.of("auto", "adabn", "normaliser", "standardise", "entropy", "adversarial",
            "finetune");
}
