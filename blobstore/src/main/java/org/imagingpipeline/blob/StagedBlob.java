package org.imagingpipeline.blob;

import java.io.Closeable;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import org.imagingpipeline.events.BlobRef;

/**
 * Bytes on their way into a {@link BlobStore}, written to a temporary file as they arrive: hashed (SHA-256) and counted
 * on the way, so a large object needs no more heap than a write buffer and no second pass to be hashed. {@link #finish()}
 * ends the writing and returns the SHA-256; the file can then be read (checks) before {@link #commit} makes it the blob
 * (fsync, then an atomic rename: no copy) or {@link #close} deletes it. Not thread-safe: one writer.
 */
public final class StagedBlob implements Closeable {
    /** Makes a finished temporary file the blob of the given SHA-256 (the store's own rename or upload). */
    @FunctionalInterface
    public interface Committer {
        BlobRef commit(Path temp, String sha256, long size, String mediaType) throws IOException;
    }

    private final Path file;
    private final FileChannel channel;
    private final MessageDigest digest = LocalBlobStore.sha256();
    private final Committer committer;
    private final OutputStream out;
    private long size;
    private String sha256;
    private boolean done;

    StagedBlob(Path file, Committer committer) throws IOException {
        this.file = file;
        this.committer = committer;
        this.channel = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, StandardOpenOption.READ);
        OutputStream raw = Channels.newOutputStream(channel);
        this.out = new FilterOutputStream(raw) {
            @Override
            public void write(int b) throws IOException {
                write(new byte[] {(byte) b}, 0, 1);
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                if (sha256 != null) throw new IllegalStateException("staged blob already finished");
                raw.write(b, off, len);
                digest.update(b, off, len);
                size += len;
            }

            @Override
            public void close() {
                // the channel belongs to the staged blob
            }
        };
    }

    /** Where the bytes go (unbuffered: wrap it when writing small pieces). */
    public OutputStream out() {
        return out;
    }

    /** Bytes written so far. */
    public long size() {
        return size;
    }

    /** The temporary file: complete once {@link #finish()} returned; never the blob itself. */
    public Path file() {
        return file;
    }

    /** Ends the writing; returns the SHA-256 (lower-case hex) of everything written. */
    public String finish() {
        if (sha256 == null) sha256 = HexFormat.of().formatHex(digest.digest());
        return sha256;
    }

    /** Makes the bytes durable and visible as the blob of their SHA-256 (the same bytes stored before: that blob). */
    public BlobRef commit(String mediaType, boolean fsync) throws IOException {
        String sha = finish();
        if (fsync) channel.force(true);
        channel.close();
        BlobRef ref = committer.commit(file, sha, size, mediaType);
        done = true;
        return ref;
    }

    /** Deletes the temporary file unless it was committed (always call it: try-with-resources). */
    @Override
    public void close() throws IOException {
        try {
            channel.close();
        } finally {
            if (!done) Files.deleteIfExists(file);
        }
    }
}
