package org.imagingpipeline.kafka;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential backoff with jitter: attempt n waits {@code min(max, initial * multiplier^(n-1))}, reduced by a random
 * fraction up to {@code jitter} (0 = none, 1 = "full jitter"), so many bridges do not retry in lock-step.
 */
public record Backoff(Duration initial, Duration max, double multiplier, double jitter) {
    /** 0.5 s, doubling up to 60 s, up to half of it taken off at random. */
    public static final Backoff DEFAULT = new Backoff(Duration.ofMillis(500), Duration.ofSeconds(60), 2.0, 0.5);

    public Backoff {
        if (initial.isNegative() || max.compareTo(initial) < 0) throw new IllegalArgumentException("bad backoff bounds");
        if (multiplier < 1) throw new IllegalArgumentException("multiplier must be >= 1");
        if (jitter < 0 || jitter > 1) throw new IllegalArgumentException("jitter must be in [0,1]");
    }

    /** The wait before retry number {@code attempt} (1 = the wait after the first failure). */
    public Duration delay(int attempt) {
        double base = initial.toMillis() * Math.pow(multiplier, Math.max(0, attempt - 1));
        double capped = Math.min(base, max.toMillis());
        double factor = 1 - jitter * ThreadLocalRandom.current().nextDouble();
        return Duration.ofMillis(Math.max(1, Math.round(capped * factor)));
    }
}
