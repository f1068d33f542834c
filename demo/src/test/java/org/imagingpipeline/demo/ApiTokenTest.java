package org.imagingpipeline.demo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ApiTokenTest {
    /** A clock the test moves. */
    private static final class Manual extends Clock {
        Instant now = Instant.parse("2026-12-05T10:00:00Z");

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

    @Test
    void aTokenIsReusedUntilTwoThirdsOfItsLifeThenIssuedAgain() {
        AtomicInteger issued = new AtomicInteger();
        Manual clock = new Manual();
        ApiToken t = new ApiToken(() -> "t" + issued.incrementAndGet(), clock);
        assertEquals("Bearer t1", t.get());
        clock.now = clock.now.plus(Duration.ofMinutes(39));
        assertEquals("Bearer t1", t.get());
        clock.now = clock.now.plus(Duration.ofMinutes(2));
        assertEquals("Bearer t2", t.get(), "renewed 40 minutes into a 60-minute token");
        assertEquals(2, issued.get());
    }

    @Test
    void aFailedIssueSaysSoWithoutATokenAndIsRetried() {
        AtomicInteger calls = new AtomicInteger();
        ApiToken t = new ApiToken(() -> {
            if (calls.incrementAndGet() == 1) throw new IllegalStateException("./pipeline token viewer failed (exit 2)");
            return "ok";
        });
        IllegalStateException e = assertThrows(IllegalStateException.class, t::get);
        assertFalse(e.getMessage().contains("Bearer"));
        assertEquals("Bearer ok", t.get());
    }
}
