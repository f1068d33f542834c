package org.imagingpipeline.ingest;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.UUID;
import org.imagingpipeline.events.EventJson;
import org.imagingpipeline.events.InstanceReceived;
import org.jboss.logging.Logger;

/**
 * Keeps the raw bytes of refused instances for inspection: {@code DIR/yyyyMMdd/<time>-<reason>-<id>.dcm} with a
 * {@code .json} beside it (reason, detail, UIDs, sender). Oversized objects keep only their first
 * {@link #MAX_KEPT_BYTES} bytes, enough for the header.
 */
public final class Quarantine {
    private static final Logger LOG = Logger.getLogger(Quarantine.class);
    public static final int MAX_KEPT_BYTES = 1 << 20;
    private static final DateTimeFormatter DAY = DateTimeFormatter.ofPattern("yyyyMMdd").withZone(ZoneOffset.UTC);
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HHmmss.SSS").withZone(ZoneOffset.UTC);
    private final Path dir;

    public Quarantine(Path dir) throws IOException {
        this.dir = dir;
        Files.createDirectories(dir);
    }

    public Path dir() {
        return dir;
    }

    /**
     * Keeps the first {@link #MAX_KEPT_BYTES} of {@code file} (null: no bytes) and a description; never throws (a failing
     * quarantine must not turn a clear reject into a crash).
     *
     * @param length bytes the sender sent (may exceed what the file holds when an oversized transfer was cut off)
     */
    public Path keep(Path file, long length, RejectReason reason, String detail, String sopInstanceUid,
                     InstanceReceived.Source source) {
        Instant now = Instant.now();
        String base = TIME.format(now) + "-" + reason.tag + "-" + UUID.randomUUID().toString().substring(0, 8);
        try {
            Path day = Files.createDirectories(dir.resolve(DAY.format(now)));
            Path data = day.resolve(base + ".dcm");
            long kept = 0;
            if (file != null) {
                try (InputStream in = Files.newInputStream(file); OutputStream out = Files.newOutputStream(data)) {
                    byte[] buf = new byte[64 * 1024];
                    int n;
                    while (kept < MAX_KEPT_BYTES && (n = in.read(buf, 0, (int) Math.min(buf.length, MAX_KEPT_BYTES - kept))) > 0) {
                        out.write(buf, 0, n);
                        kept += n;
                    }
                }
            }
            ObjectNode j = EventJson.mapper().createObjectNode();
            j.put("reason", reason.tag);
            j.put("detail", detail);
            j.put("receivedAt", now.toString());
            j.put("sopInstanceUid", sopInstanceUid);
            j.put("bytesReceived", length);
            j.put("bytesKept", kept);
            if (source != null) j.set("source", EventJson.mapper().valueToTree(source));
            Files.writeString(day.resolve(base + ".json"), EventJson.mapper().writerWithDefaultPrettyPrinter().writeValueAsString(j));
            return data;
        } catch (IOException e) {
            LOG.errorf(e, "quarantine write failed for sop=%s reason=%s", sopInstanceUid, reason.tag);
            return null;
        }
    }
}
