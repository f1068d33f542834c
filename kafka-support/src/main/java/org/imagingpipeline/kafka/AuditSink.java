package org.imagingpipeline.kafka;

import org.imagingpipeline.events.AuditEvent;

/** Where audit events go: {@link AuditLog} (the topic), or a list in the tests of what writes them. */
@FunctionalInterface
public interface AuditSink {
    /** Records one event and returns it. */
    AuditEvent record(String principal, String action, String target, String outcome, String detail);
}
