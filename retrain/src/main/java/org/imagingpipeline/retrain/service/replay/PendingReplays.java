package org.imagingpipeline.retrain.service.replay;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.stream.Stream;
import org.imagingpipeline.events.EventJson;
import org.imagingpipeline.retrain.service.AtomicFiles;
import org.jboss.logging.Logger;

/**
 * The replays a promotion asked for and that have not completed, one small JSON file each under
 * {@code retrain.home/replays/} (written atomically with fsync before the replay starts, removed once every re-sent
 * record is acknowledged), so a retrain restart, or a broker that refused the replay, does not lose it: the service
 * runs what it finds here at start. A replay that runs twice sends the series twice; downstream that is a redelivery of
 * the same (series, model version) and changes nothing.
 */
public final class PendingReplays {
    private static final Logger LOG = Logger.getLogger(PendingReplays.class);
    private static final ObjectMapper JSON = EventJson.mapper();

    /** A promotion whose replay is owed. */
    public record Pending(String domainId, String version, Instant promotedAt) {
        public Pending {
            Objects.requireNonNull(domainId, "domainId");
            Objects.requireNonNull(version, "version");
            Objects.requireNonNull(promotedAt, "promotedAt");
        }
    }

    private final Path dir;

    public PendingReplays(Path dir) throws IOException {
        this.dir = Files.createDirectories(dir);
        AtomicFiles.removeLeftovers(dir);
    }

    /** Records the replay as owed (durably) before it starts. */
    public synchronized void add(Pending p) throws IOException {
        AtomicFiles.write(file(p), JSON.writeValueAsBytes(p));
    }

    /** The replay completed: forgotten. */
    public synchronized void done(Pending p) throws IOException {
        Files.deleteIfExists(file(p));
    }

    /** Owed replays, oldest promotion first; an unreadable file is logged and moved aside ({@code .unreadable}). */
    public synchronized List<Pending> all() throws IOException {
        List<Pending> out = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(f -> f.getFileName().toString().endsWith(".json")).sorted().toList()) {
                try {
                    out.add(JSON.readValue(f.toFile(), Pending.class));
                } catch (IOException | RuntimeException e) {
                    Path aside = f.resolveSibling(f.getFileName() + ".unreadable");
                    Files.move(f, aside, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                    LOG.errorf("pending replay %s is unreadable (%s); moved to %s", f, e.getMessage(), aside);
                }
            }
        }
        out.sort(Comparator.comparing(Pending::promotedAt));
        return out;
    }

    private Path file(Pending p) {
        try {
            byte[] h = MessageDigest.getInstance("SHA-256").digest((p.domainId() + "\n" + p.version()).getBytes(StandardCharsets.UTF_8));
            return dir.resolve(HexFormat.of().formatHex(h, 0, 16) + ".json");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
