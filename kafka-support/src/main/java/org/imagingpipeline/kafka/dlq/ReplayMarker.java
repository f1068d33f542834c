package org.imagingpipeline.kafka.dlq;

import java.time.Instant;

/**
 * Value of {@code dlq.replays} (key: {@link #deadLetter}): one dead letter that {@code ./pipeline dlq replay} re-injected.
 * Written in the same Kafka transaction as the re-injected record, so either both are there or neither.
 *
 * @param schemaVersion {@link #SCHEMA_VERSION}
 * @param deadLetter    the dead letter, {@code dlqtopic-partition@offset}
 * @param source        the input record it stood for ({@code dlq.source})
 * @param replayedAs    the re-injected record, {@code topic-partition@offset}
 * @param reason        the dead letter's {@code dlq.reason}
 * @param replayedAt    when
 */
public record ReplayMarker(int schemaVersion, String deadLetter, String source, String replayedAs, String reason, Instant replayedAt) {
    public static final int SCHEMA_VERSION = 1;
}
