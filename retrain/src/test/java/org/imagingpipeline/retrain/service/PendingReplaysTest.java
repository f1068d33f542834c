package org.imagingpipeline.retrain.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.imagingpipeline.retrain.service.replay.PendingReplays;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Owed replays survive a new instance (a restart), oldest promotion first; done forgets one; a bad file is moved aside. */
class PendingReplaysTest {
    @TempDir
    Path dir;

    @Test
    void owedReplaysSurviveARestartUntilDone() throws Exception {
        PendingReplays before = new PendingReplays(dir);
        PendingReplays.Pending later = new PendingReplays.Pending("dom-b", "dom-b-adabn-2", Instant.parse("2026-12-07T10:00:00Z"));
        PendingReplays.Pending earlier = new PendingReplays.Pending("dom-a", "dom-a-adabn-1", Instant.parse("2026-12-07T09:00:00Z"));
        before.add(later);
        before.add(earlier);
        before.add(earlier); // the same promotion twice is one owed replay
        Files.writeString(dir.resolve(".x.json.tmp-1234"), "half-written"); // a crash during a write

        PendingReplays after = new PendingReplays(dir);
        assertEquals(List.of(earlier, later), after.all());
        assertTrue(Files.notExists(dir.resolve(".x.json.tmp-1234")), "a crashed write's leftover is removed");
        after.done(earlier);
        assertEquals(List.of(later), new PendingReplays(dir).all());

        Files.writeString(dir.resolve("broken.json"), "{not json");
        assertEquals(List.of(later), after.all());
        assertTrue(Files.exists(dir.resolve("broken.json.unreadable")), "an unreadable file is kept aside, not retried forever");
    }
}
