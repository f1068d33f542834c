package org.imagingpipeline.ingest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Which SOP Instance UIDs have been acknowledged, and with which bytes (blob sha256). A re-sent instance with
 * the same bytes is answered with success and publishes nothing. One small file per instance under
 * {@code DIR/ab/<sha256(uid)>}, written after Kafka acknowledged the event. Losing an entry (a crash between
 * the Kafka ack and this write) means at worst one duplicate event with the same deterministic eventId, which
 * consumers drop.
 */
public final class AcknowledgedIndex {
    private static final HexFormat HEX = HexFormat.of();
    private final Path dir;
    private final ReentrantLock[] stripes = new ReentrantLock[256];

    public AcknowledgedIndex(Path dir) throws IOException {
        this.dir = dir;
        Files.createDirectories(dir);
        for (int i = 0; i < stripes.length; i++) stripes[i] = new ReentrantLock();
    }

    /** The lock that serialises work on one SOP Instance UID (two senders of the same instance at once). */
    public ReentrantLock lockFor(String sopInstanceUid) {
        return stripes[Math.floorMod(sopInstanceUid.hashCode(), stripes.length)];
    }

    public Optional<String> blobShaFor(String sopInstanceUid) throws IOException {
        try {
            return Optional.of(Files.readString(pathOf(sopInstanceUid), StandardCharsets.US_ASCII).trim());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        }
    }

    public void record(String sopInstanceUid, String blobSha256) throws IOException {
        Path p = pathOf(sopInstanceUid);
        Files.createDirectories(p.getParent());
        Path tmp = p.resolveSibling(p.getFileName() + "." + UUID.randomUUID() + ".tmp");
        Files.writeString(tmp, blobSha256, StandardCharsets.US_ASCII);
        Files.move(tmp, p, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private Path pathOf(String sopInstanceUid) {
        String h = sha256(sopInstanceUid);
        return dir.resolve(h.substring(0, 2)).resolve(h);
    }

    private static String sha256(String s) {
        try {
            return HEX.formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.US_ASCII)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
