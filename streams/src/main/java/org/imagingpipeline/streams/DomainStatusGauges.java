package org.imagingpipeline.streams;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.imagingpipeline.events.DomainEvent;

/**
 * Gauge {@code streams_domains{status=...}}: domains in the registry by status (set by the detector after each change).
 * The counts are the JVM's, one set shared by every instance: a registry keeps the first gauge registered under a name
 * and tags, and Quarkus' registries outlive an application restarted in the same JVM (the tests restart it between
 * test classes), so a gauge bound to one topology's own counters went on reporting that dead topology (0, or NaN once
 * its counters were collected). A new topology starts the shared counts at zero; its detector sets them.
 */
public final class DomainStatusGauges {
    static final String NAME = "streams.domains";
    private static final Map<DomainEvent.Status, AtomicLong> COUNTS = new EnumMap<>(DomainEvent.Status.class);

    static {
        for (DomainEvent.Status s : DomainEvent.Status.values()) {
            COUNTS.put(s, new AtomicLong());
        }
    }

    public DomainStatusGauges(MeterRegistry metrics) {
        COUNTS.values().forEach(n -> n.set(0));
        COUNTS.forEach((s, n) -> Gauge.builder(NAME, n, AtomicLong::get).description("domains in the registry by status")
                .tag("status", s.name()).strongReference(true).register(metrics));
    }

    void set(Map<DomainEvent.Status, Long> now) {
        COUNTS.forEach((s, n) -> n.set(now.getOrDefault(s, 0L)));
    }
}
