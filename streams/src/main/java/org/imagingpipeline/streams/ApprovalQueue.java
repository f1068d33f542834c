package org.imagingpipeline.streams;

import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Domain ids ML ops approved through POST /domains/{id}/approve, waiting for the {@link DriftDetector}'s stream
 * thread: the registry is only changed there (the HTTP thread must not write a Kafka Streams store), so the change,
 * its changelog record and its DomainEvent commit together. An approval not yet applied when the service stops is
 * lost; the caller sees the status change in GET /domains/{id} within {@link DriftDetector#APPROVAL_INTERVAL}.
 */
public final class ApprovalQueue {
    private final ConcurrentLinkedQueue<String> pending = new ConcurrentLinkedQueue<>();

    public void add(String domainId) {
        pending.add(domainId);
    }

    String poll() {
        return pending.poll();
    }
}
