package org.imagingpipeline.streams.deadletter;

import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.eclipse.microprofile.health.HealthCheck;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Readiness detail "streams-dead-letters": always UP (a dead-lettered record is the service working as designed, and
 * DOWN would only get a healthy pod restarted), with {@code level} WARNING and the counts per stage, the last reason and
 * its source once any record was dead-lettered, the series quarantined by the identity rule ({@code quarantinedSeries}:
 * they reach the same topic through the topology, not through a handler) and the stream-thread replacements
 * ({@link StreamThreadFailures}).
 * Closes the dead-letter producers at shutdown.
 */
@Readiness
@ApplicationScoped
public class DeadLetterHealth implements HealthCheck {
    @Inject
    StreamThreadFailures threads;

    @Inject
    io.micrometer.core.instrument.MeterRegistry meters;

    @Override
    public HealthCheckResponse call() {
        HealthCheckResponseBuilder b = HealthCheckResponse.named("streams-dead-letters").up();
        long total = 0;
        DeadLetters.Last last = null;
        for (DeadLetters d : DeadLetters.all()) {
            total += d.total();
            b.withData("topic", d.topic());
            for (var e : d.counts().entrySet()) b.withData("deadLettered." + e.getKey().tag(), e.getValue());
            DeadLetters.Last l = d.last();
            if (l != null && (last == null || l.at().isAfter(last.at()))) last = l;
        }
        b.withData("deadLettered", total);
        if (last != null) {
            b.withData("lastReason", last.reason()).withData("lastSource", String.valueOf(last.source()))
                    .withData("lastAt", last.at().toString());
        }
        // the identity rule's quarantines: counted by the assembly topology on the same meter, stage "quarantine"
        long quarantined = (long) meters.find("streams.dlq.records").tag("stage", "quarantine").counters().stream()
                .mapToDouble(io.micrometer.core.instrument.Counter::count).sum();
        b.withData("quarantinedSeries", quarantined);
        b.withData("threadFailures", threads.failures());
        if (threads.last() != null) b.withData("lastThreadFailure", threads.last());
        String level = total > 0 || quarantined > 0 || threads.failures() > 0 ? "WARNING" : "OK";
        return b.withData("level", level).build();
    }

    void onStop(@Observes ShutdownEvent e) {
        DeadLetters.closeAll();
    }
}
