package org.imagingpipeline.streams;

import java.time.Duration;

/**
 * Series assembly settings.
 *
 * @param inactivity      a series with no new instance for this long is complete
 * @param checkInterval   how often (wall clock) open series are checked for inactivity
 * @param retainCompleted how long a completed series is remembered, so late instances become an update
 *                        instead of a new, partial series
 * @param senderDoneGrace after ingest's sender-done marker ({@code InstanceReceived.SENDER_DONE_HEADER}: the
 *                        association that stored the series was released, the STOW-RS request ended), a series with no
 *                        new instance for this long is complete without waiting for {@code inactivity}; null: markers
 *                        are ignored (inactivity and ImagesInAcquisition only)
 */
public record AssemblyConfig(Duration inactivity, Duration checkInterval, Duration retainCompleted, Duration senderDoneGrace) {
    public static final AssemblyConfig DEFAULT = new AssemblyConfig(Duration.ofSeconds(30), Duration.ofSeconds(1), Duration.ofHours(24),
            Duration.ofSeconds(1));

    /** Without sender-done markers. */
    public AssemblyConfig(Duration inactivity, Duration checkInterval, Duration retainCompleted) {
        this(inactivity, checkInterval, retainCompleted, null);
    }
}
