package org.imagingpipeline.kafka;

import java.time.Duration;
import java.time.Instant;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;

/** What a service's health checks say about its {@link ConsumeLoop}. */
public final class LoopHealth {
    private LoopHealth() {
    }

    /**
     * Adds the loop's state to a health response: last poll, partitions held, retry state, records handled, records
     * dead-lettered; once any was, {@code level} WARNING with the last one's reason (a detail, never DOWN: dead-lettering
     * is the loop working as designed).
     */
    public static HealthCheckResponseBuilder describe(HealthCheckResponseBuilder b, ConsumeLoop loop) {
        b.withData("lastPoll", loop.lastPoll().toString()).withData("assignedPartitions", loop.assignedPartitions())
                .withData("retrying", loop.retryState()).withData("handled", loop.handled())
                .withData("deadLettered", loop.deadLettered()).withData("level", loop.deadLettered() > 0 ? "WARNING" : "OK");
        if (loop.settings().dlqTopic() != null) b.withData("dlqTopic", loop.settings().dlqTopic());
        if (loop.lastDeadLetter() != null) b.withData("lastDeadLetter", loop.lastDeadLetter());
        return b;
    }

    /** The loop started, joined its group (so Kafka answers) and polled within {@code freshness}. */
    public static boolean consuming(ConsumeLoop loop, Duration freshness) {
        boolean fresh = Duration.between(loop.lastPoll(), Instant.now()).compareTo(freshness) < 0;
        return loop.isAlive() && loop.started() && loop.assignedPartitions() >= 0 && fresh;
    }
}
