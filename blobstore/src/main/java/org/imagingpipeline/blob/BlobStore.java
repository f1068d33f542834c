package org.imagingpipeline.blob;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import org.imagingpipeline.events.BlobRef;

/**
 * Content-addressed storage: bytes are stored under their SHA-256, written atomically, and never change.
 * Storing the same bytes twice returns the same reference. A local directory implements it today
 * ({@link LocalBlobStore}); an S3-compatible store can implement the same five methods later.
 */
public interface BlobStore {

    /** Stores the bytes (durably, before returning) and returns their reference. */
    BlobRef put(byte[] bytes, String mediaType) throws IOException;

    /** Streams the input into the store, hashing on the way; the stream is read to its end, not closed. */
    BlobRef put(InputStream in, String mediaType) throws IOException;

    /**
     * Starts writing an object whose bytes arrive piece by piece (a network stream): they go to a temporary file, are
     * hashed on the way, and become a blob only by {@link StagedBlob#commit}. This default stages in the JVM's temporary
     * directory and uploads with {@link #put(InputStream, String)}; a local store stages beside its blobs and renames.
     */
    default StagedBlob stage() throws IOException {
        Path temp = Files.createTempFile("blob-", ".part");
        Files.delete(temp);
        return new StagedBlob(temp, (file, sha, size, mediaType) -> {
            try (InputStream in = Files.newInputStream(file)) {
                return put(in, mediaType);
            } finally {
                Files.deleteIfExists(file);
            }
        });
    }

    /** Opens the stored bytes; {@link BlobNotFoundException} when the store does not have them. */
    InputStream open(String sha256) throws IOException;

    /** The reference of stored bytes, if present. */
    Optional<BlobRef> find(String sha256) throws IOException;

    /** True when the store can accept writes now (used by health checks). */
    boolean writable();

    default InputStream open(BlobRef ref) throws IOException {
        return open(ref.sha256());
    }

    default byte[] read(BlobRef ref) throws IOException {
        try (InputStream in = open(ref)) {
            return in.readAllBytes();
        }
    }
}
