package org.imagingpipeline.streams;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import org.imagingpipeline.events.DomainEvent;

/** Gauge {@code streams_domains{status=...}}: domains in the registry by status (set by the detector after each change). */
public final class DomainStatusGauges {
    private final Map<DomainEvent.Status, AtomicLong> counts = new EnumMap<>(DomainEvent.Status.class);

    public DomainStatusGauges(MeterRegistry metrics) {
        for (DomainEvent.Status s : DomainEvent.Status.values()) {
            AtomicLong n = new AtomicLong();
            counts.put(s, n);
            Gauge.builder("streams.domains", n, AtomicLong::get).description("domains in the registry by status").tag("status", s.name())
                    .register(metrics);
        }
    }

    void set(Map<DomainEvent.Status, Long> now) {
        counts.forEach((s, n) -> n.set(now.getOrDefault(s, 0L)));
    }
}
