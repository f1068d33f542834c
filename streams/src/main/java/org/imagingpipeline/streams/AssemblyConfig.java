package org.imagingpipeline.streams;

import java.time.Duration;

/**
 * Series assembly settings.
 *
 * @param inactivity      a series with no new instance for this long is complete
 * @param checkInterval   how often (wall clock) open series are checked for inactivity
 * @param retainCompleted how long a completed series is remembered, so late instances become an update
 *                        instead of a new, partial series
 */
public record AssemblyConfig(Duration inactivity, Duration checkInterval, Duration retainCompleted) {
    public static final AssemblyConfig DEFAULT = new AssemblyConfig(Duration.ofSeconds(30), Duration.ofSeconds(1), Duration.ofHours(24));
}
