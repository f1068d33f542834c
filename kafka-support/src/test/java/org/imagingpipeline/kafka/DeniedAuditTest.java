package org.imagingpipeline.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.imagingpipeline.events.AuditEvent;
import org.junit.jupiter.api.Test;

/** The bound on refused attempts: the first N per window one by one, the rest as one summary per action. */
class DeniedAuditTest {
    static final class MutableClock extends Clock {
        volatile Instant now = Instant.parse("2026-12-06T06:00:00Z");

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    final List<AuditEvent> events = new CopyOnWriteArrayList<>();
    final AuditSink sink = (p, a, t, o, d) -> {
        AuditEvent e = AuditEvent.of("test", p, a, t, o, d);
        events.add(e);
        return e;
    };

    @Test
    void aFloodIsBoundedAndSummarised() {
        MutableClock clock = new MutableClock();
        try (DeniedAudit audit = new DeniedAudit(() -> sink, 5, Duration.ofMinutes(1), clock)) {
            for (int i = 0; i < 1000; i++) {
                audit.denied("anonymous", "authenticate", "GET /x" + (i % 3), "no valid bearer token");
            }
            audit.denied("test-viewer", "authorize", "POST /domains/d/approve", "token lacks the endpoint's role");
            assertEquals(5, events.size(), "only the window's bound is recorded one by one");
            assertEquals(996, audit.suppressed());

            clock.now = clock.now.plusSeconds(61);
            assertTrue(audit.denied("anonymous", "authenticate", "GET /y", "no valid bearer token"));
            // the window's two summaries, then the new window's first event
            assertEquals(8, events.size());
            AuditEvent auth = events.get(5);
            assertEquals("authenticate", auth.action());
            assertEquals("denied", auth.outcome());
            assertEquals("anonymous", auth.principal());
            assertEquals("various", auth.target());
            assertTrue(auth.detail().startsWith("995 more refused attempts"), auth.detail());
            AuditEvent role = events.get(6);
            assertEquals("authorize", role.action());
            assertEquals("test-viewer", role.principal());
            assertEquals("POST /domains/d/approve", role.target());
            assertTrue(role.detail().startsWith("1 more refused attempts"), role.detail());
            assertEquals("GET /y", events.get(7).target());
        }
    }

    @Test
    void theTimerRecordsTheSummaryWhenTheFloodStops() throws Exception {
        try (DeniedAudit audit = new DeniedAudit(() -> sink, 1, Duration.ofMillis(400), Clock.systemUTC())) {
            assertTrue(audit.denied("a", "authenticate", "GET /1", "no valid bearer token"));
            assertFalse(audit.denied("b", "authenticate", "GET /2", "no valid bearer token"));
            assertFalse(audit.denied("c", "authenticate", "GET /2", "no valid bearer token"));
            long end = System.nanoTime() + 10_000_000_000L;
            while (events.size() < 2 && System.nanoTime() < end) Thread.sleep(50);
            assertEquals(2, events.size());
            assertEquals("various", events.get(1).principal());
            assertEquals("GET /2", events.get(1).target());
            assertTrue(events.get(1).detail().contains("[b, c]"), events.get(1).detail());
        }
    }

    @Test
    void closeRecordsWhatIsPending() {
        MutableClock clock = new MutableClock();
        DeniedAudit audit = new DeniedAudit(() -> sink, 0, Duration.ofMinutes(1), clock);
        assertFalse(audit.denied("a", "dicom-associate", "DICOM /127.0.0.2:4000", "source_not_allowed"));
        assertEquals(0, events.size());
        audit.close();
        assertEquals(1, events.size());
        assertEquals("dicom-associate", events.get(0).action());
    }
}
