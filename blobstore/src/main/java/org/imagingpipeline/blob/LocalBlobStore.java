package org.imagingpipeline.blob;

import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import org.imagingpipeline.events.BlobRef;

/**
 * {@link BlobStore} in a local directory. Layout: {@code ROOT/sha256/ab/cd/<sha256>}; writes go to
 * {@code ROOT/tmp}, are fsynced, then renamed into place atomically and the directory is fsynced, so a crash
 * leaves either the whole blob or none. Several processes (ingest, inference, retrain; several pods on a shared
 * volume) may open the same root at once, so start-up removes only temporary files older than
 * {@link #STALE_TEMP_AGE} (left by a crashed write), never another process's write in progress.
 */
public final class LocalBlobStore implements BlobStore {
    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

    /** Temporary files older than this are leftovers of crashed writes (no write takes this long). */
    public static final java.time.Duration STALE_TEMP_AGE = java.time.Duration.ofHours(1);

    private final Path root;
    private final Path tmp;
    private final boolean fsync;

    /** A store that fsyncs every write (the default: an acknowledged instance must survive power loss). */
    public LocalBlobStore(Path root) throws IOException {
        this(root, true);
    }

    /** @param fsync false only for throw-away stores (tests, benchmarks of other parts) */
    public LocalBlobStore(Path root, boolean fsync) throws IOException {
        this.root = root.toAbsolutePath().normalize();
        this.tmp = this.root.resolve("tmp");
        this.fsync = fsync;
        Files.createDirectories(this.root.resolve("sha256"));
        Files.createDirectories(tmp);
        java.nio.file.attribute.FileTime cutoff = java.nio.file.attribute.FileTime.from(java.time.Instant.now().minus(STALE_TEMP_AGE));
        try (var leftovers = Files.list(tmp)) {
            for (Path p : (Iterable<Path>) leftovers::iterator) {
                try {
                    if (Files.getLastModifiedTime(p).compareTo(cutoff) < 0) Files.deleteIfExists(p);
                } catch (java.nio.file.NoSuchFileException gone) {
                    // finished (renamed) by its writer meanwhile
                }
            }
        }
    }

    public Path root() {
        return root;
    }

    @Override
    public BlobRef put(byte[] bytes, String mediaType) throws IOException {
        return put(new java.io.ByteArrayInputStream(bytes), mediaType);
    }

    @Override
    public BlobRef put(InputStream in, String mediaType) throws IOException {
        try (StagedBlob staged = stage()) {
            in.transferTo(staged.out());
            return staged.commit(mediaType, fsync);
        }
    }

    /** Stages in {@code ROOT/tmp} (the blobs' file system): {@link StagedBlob#commit} renames the file into place. */
    @Override
    public StagedBlob stage() throws IOException {
        return new StagedBlob(tmp.resolve(UUID.randomUUID() + ".part"), this::adopt);
    }

    /** Whether blobs are fsynced before they become visible (staged writers pass it to {@link StagedBlob#commit}). */
    public boolean fsync() {
        return fsync;
    }

    private BlobRef adopt(Path temp, String sha, long size, String mediaType) throws IOException {
        try {
            Path target = pathOf(sha);
            if (Files.exists(target)) {
                Files.delete(temp); // same content already stored: content addressing makes this a no-op
            } else {
                Files.createDirectories(target.getParent());
                try {
                    Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
                } catch (FileAlreadyExistsException raced) {
                    Files.deleteIfExists(temp);
                } catch (AtomicMoveNotSupportedException e) {
                    throw new IOException("blob store at " + root + " does not support atomic rename", e);
                }
                if (fsync) fsyncDirectory(target.getParent());
            }
            return new BlobRef(sha, target.toUri().toString(), size, mediaType);
        } finally {
            Files.deleteIfExists(temp);
        }
    }

    @Override
    public InputStream open(String sha256) throws IOException {
        Path p = pathOf(check(sha256));
        if (!Files.exists(p)) throw new BlobNotFoundException(sha256);
        return Files.newInputStream(p);
    }

    @Override
    public Optional<BlobRef> find(String sha256) throws IOException {
        Path p = pathOf(check(sha256));
        if (!Files.exists(p)) return Optional.empty();
        return Optional.of(new BlobRef(sha256, p.toUri().toString(), Files.size(p), null));
    }

    @Override
    public boolean writable() {
        return Files.isDirectory(tmp) && Files.isWritable(tmp);
    }

    /** Where the bytes of a given SHA-256 live. */
    public Path pathOf(String sha256) {
        return root.resolve("sha256").resolve(sha256.substring(0, 2)).resolve(sha256.substring(2, 4)).resolve(sha256);
    }

    private static String check(String sha256) {
        if (sha256 == null || !SHA256.matcher(sha256).matches()) {
            throw new IllegalArgumentException("not a lower-case hex sha256: " + sha256);
        }
        return sha256;
    }

    private static void fsyncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException ignored) {
            // Some file systems cannot open directories for fsync; the rename itself is still atomic.
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
