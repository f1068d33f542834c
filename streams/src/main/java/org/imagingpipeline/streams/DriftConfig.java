package org.imagingpipeline.streams;

/**
 * Drift detector settings (application.properties {@code streams.drift.*}, documented there and in docs/drift.md).
 *
 * @param alpha               significance level: a CANDIDATE is DRIFT_CONFIRMED when its p-value ({@link ShrunkHotelling}) is
 *                            below it against every testable KNOWN domain
 * @param minSeries           series (of different patients) a CANDIDATE needs before the first test
 * @param maxSeries           series after which a CANDIDATE that some KNOWN domain still matches becomes ALIAS
 * @param permutations        permutations per test (p-values are multiples of 1/(permutations+1))
 * @param seed                base seed of the permutations (mixed with the domain id and n: reproducible)
 * @param maxReference        reference series kept per KNOWN domain (oldest dropped first)
 * @param watchWindow         recent monitored series of a KNOWN domain compared with its reference
 * @param watchEvery          the watch tests after every this many monitored series, once the window is full
 * @param watchAlpha          significance level of the watch (stricter: it tests again and again)
 * @param watchPermutations   permutations of a watch test
 * @param slicesPerSeries     slices decoded per series (evenly spread over its middle 80%)
 */
public record DriftConfig(double alpha, int minSeries, int maxSeries, int permutations, long seed, int maxReference, int watchWindow,
                          int watchEvery, double watchAlpha, int watchPermutations, int slicesPerSeries) {
    public static final DriftConfig DEFAULT = new DriftConfig(0.005, 3, 5, 9999, 20261123L, 200, 20, 10, 0.001, 9999, 12);

    public DriftConfig {
        if (!(alpha > 0 && alpha < 1) || !(watchAlpha > 0 && watchAlpha < 1)) throw new IllegalArgumentException("alpha must be in (0,1)");
        if (minSeries < 1 || maxSeries < minSeries) throw new IllegalArgumentException("need 1 <= minSeries <= maxSeries");
        if (permutations < 1 / alpha || watchPermutations < 1 / watchAlpha) {
            throw new IllegalArgumentException("too few permutations to reach p < alpha (" + permutations + ", " + watchPermutations + ")");
        }
        if (watchWindow < 2 || watchEvery < 1 || maxReference < 2 || slicesPerSeries < 1) throw new IllegalArgumentException("window/reference sizes too small");
    }
}
