package org.imagingpipeline.streams;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import org.imagingpipeline.events.DomainEvent;

/**
 * A domain as GET /domains shows it (ARCHITECTURE.md "HTTP shapes"): id, fingerprint, status, seriesCount,
 * firstSeen, lastSeen, driftScore, evidence (test, statistic, pValue, n, threshold, comparedTo, details), plus why
 * (reason), aliasOf, and imageStatistics (series measured, reference and window sizes, undecodable slices by
 * transfer syntax).
 */
public record DomainView(String id, Map<String, String> fingerprint, DomainEvent.Status status, String reason, long seriesCount,
                         Instant firstSeen, Instant lastSeen, Double driftScore, DomainEvent.Evidence evidence, String aliasOf,
                         Map<String, Object> imageStatistics) {
    static DomainView of(DomainState d) {
        Map<String, Object> stats = new LinkedHashMap<>();
        stats.put("referenceSeries", d.reference.size());
        stats.put("recentSeries", d.recent.size());
        stats.put("monitoredSeries", d.monitored);
        stats.put("unmeasuredSeries", d.unmeasured);
        stats.put("undecodableSlices", d.undecodable);
        stats.put("unmeasuredReasons", d.unmeasuredReasons);
        return new DomainView(d.id, d.fingerprint, d.status, d.reason, d.seriesCount, d.firstSeen, d.lastSeen, d.driftScore, d.evidence, d.aliasOf,
                stats);
    }
}
