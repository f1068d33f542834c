package org.imagingpipeline.ingest.dicomweb;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.imagingpipeline.events.AuditEvent;
import org.imagingpipeline.kafka.AuditSink;
import org.junit.jupiter.api.Test;

/** One audit event per principal, access and target within the window; the requests in between are counted. */
class DicomWebAccessAuditTest {
    @Test
    void repeatedAccessWithinTheWindowIsFoldedIntoTheNextEvent() {
        List<AuditEvent> events = new ArrayList<>();
        AuditSink sink = (principal, action, target, outcome, detail) -> {
            AuditEvent e = AuditEvent.of("ingest", principal, action, target, outcome, detail);
            events.add(e);
            return e;
        };
        AtomicReference<Instant> now = new AtomicReference<>(Instant.parse("2026-12-07T10:00:00Z"));
        DicomWebAccessAudit audit = new DicomWebAccessAudit(() -> sink, Duration.ofSeconds(60), now::get);
        audit.accessed("user:alice", "dicomweb-retrieve", "study 1.2.3", "the study");
        for (int i = 0; i < 5; i++) audit.accessed("user:alice", "dicomweb-retrieve", "study 1.2.3", "instance " + i);
        audit.accessed("user:bob", "dicomweb-retrieve", "study 1.2.3", "the study"); // another principal: its own event
        audit.accessed("user:alice", "dicomweb-retrieve", "study 4.5.6", "the study"); // another study: its own event
        assertEquals(3, events.size());
        now.set(now.get().plusSeconds(61));
        audit.accessed("user:alice", "dicomweb-retrieve", "study 1.2.3", "instance 9");
        assertEquals(4, events.size());
        AuditEvent last = events.get(3);
        assertEquals("user:alice", last.principal());
        assertEquals("allowed", last.outcome());
        assertEquals("instance 9 (+5 more requests)", last.detail());
    }
}
