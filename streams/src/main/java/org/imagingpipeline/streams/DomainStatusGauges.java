package org.imagingpipeline.streams;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.imagingpipeline.events.DomainEvent;

/**
 * Gauge {@code streams_domains{status=...}}: domains in the registry by status (set by the detector after each change).
 * A meter registry keeps the first gauge registered under a name and tags, and Quarkus' registries outlive an
 * application restarted in the same JVM (the tests restart it between test classes, each in a new class loader, so
 * not even a static field is shared): a gauge bound to an earlier application's counts went on reporting that dead
 * topology (its last counts, or NaN once they were collected; CI run 6). So a new topology removes any
 * {@code streams.domains} gauges already registered and registers its own, strongly referenced.
 */
public final class DomainStatusGauges {
    static final String NAME = "streams.domains";
    private final Map<DomainEvent.Status, AtomicLong> counts = new EnumMap<>(DomainEvent.Status.class);

    public DomainStatusGauges(MeterRegistry metrics) {
        for (Meter stale : metrics.find(NAME).meters()) {
            metrics.remove(stale);
        }
        for (DomainEvent.Status s : DomainEvent.Status.values()) {
            AtomicLong n = new AtomicLong();
            counts.put(s, n);
            Gauge.builder(NAME, n, AtomicLong::get).description("domains in the registry by status").tag("status", s.name())
                    .strongReference(true).register(metrics);
        }
    }

    void set(Map<DomainEvent.Status, Long> now) {
        counts.forEach((s, n) -> n.set(now.getOrDefault(s, 0L)));
    }
}
