package org.imagingpipeline.events;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Value of {@link Topics#DOMAIN_EVENTS}: one state change of an acquisition domain. Key: domain id.
 * Produced by streams (the drift detector), consumed by retrain (a DRIFT_CONFIRMED domain may start an adaptation
 * job) and by people. Every decision carries its evidence.
 *
 * @param schemaVersion  {@link #SCHEMA_VERSION}
 * @param eventId        {@link #eventIdFor}(domainId, sequence): stable across redeliveries
 * @param sequence       1 for a domain's first event, +1 for each later one
 * @param domainId       "dom-" + 12 hex digits (the header fingerprint id)
 * @param previousStatus the status before the change, null for a newly seen domain
 * @param status         the status now
 * @param reason         why, in words (e.g. "registered from training set", "images differ from every KNOWN domain: p<0.005 after 3 series",
 *                       "approved by ML ops", "acquisition drift: last 20 series vs the reference")
 * @param fingerprint    the header fingerprint's fields (manufacturer, model, institution, station, modality, protocol, fieldStrength, ...)
 * @param seriesCount    series of the domain seen so far
 * @param firstSeen      first series of the domain
 * @param lastSeen       latest series of the domain
 * @param driftScore     the detector's score at the decision (larger = further from every KNOWN domain; null when not computed)
 * @param evidence       the test behind the decision; null for changes that are not test decisions (registration, approval)
 * @param aliasOf        for ALIAS: the KNOWN domain whose images match; else null
 * @param seriesUids     the SeriesInstanceUIDs the decision was based on (most recent last; at most a few hundred)
 * @param at             when the change was made
 */
public record DomainEvent(int schemaVersion, String eventId, long sequence, String domainId, Status previousStatus, Status status,
                          String reason, Map<String, String> fingerprint, long seriesCount, Instant firstSeen, Instant lastSeen,
                          Double driftScore, Evidence evidence, String aliasOf, List<String> seriesUids, Instant at) {

    public static final int SCHEMA_VERSION = 1;

    public DomainEvent {
        Objects.requireNonNull(domainId, "domainId");
        Objects.requireNonNull(status, "status");
        seriesUids = seriesUids == null ? List.of() : List.copyOf(seriesUids);
    }

    /** The states of a domain (see docs/drift.md). */
    public enum Status {
        /** a reference domain: the current model was trained on it, it was registered from the training set, or ML ops approved it */
        KNOWN,
        /** a new header key, not yet decided */
        CANDIDATE,
        /** its images differ from every KNOWN domain (or a KNOWN domain's images drifted): adaptation is due */
        DRIFT_CONFIRMED,
        /** a new header key whose images match a KNOWN domain: no retraining needed */
        ALIAS
    }

    /**
     * The statistical evidence of a decision.
     *
     * @param test      the test, e.g. "shrunk-hotelling-permutation"
     * @param statistic the test statistic (e.g. the squared Mahalanobis distance of the means)
     * @param pValue    permutation p-value against {@code comparedTo}: for DRIFT_CONFIRMED the largest over the KNOWN domains (every
     *                  one is below the threshold, so the largest decides), for ALIAS the matching one's
     * @param n         number of target series the test used (streams' drift test: patients, a patient's series counting once)
     * @param threshold the significance level the decision used
     * @param comparedTo the KNOWN domain the statistic and p-value refer to
     * @param details   further numbers (the features that moved, by how much, with p-values; the series tested;
     *                  per-KNOWN-domain p-values; permutations)
     */
    public record Evidence(String test, double statistic, double pValue, int n, double threshold, String comparedTo,
                           Map<String, Object> details) {
    }

    public static String eventIdFor(String domainId, long sequence) {
        return domainId + "#" + sequence;
    }
}
