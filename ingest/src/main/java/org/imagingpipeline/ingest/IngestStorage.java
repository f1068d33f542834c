package org.imagingpipeline.ingest;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import org.imagingpipeline.blob.BlobStore;
import org.imagingpipeline.blob.LocalBlobStore;

/** Produces the on-disk parts of the service under {@code ingest.home}. */
@ApplicationScoped
public class IngestStorage {

    @Produces
    @Singleton
    BlobStore blobStore(IngestConfig config) {
        Path root = config.blobRoot().map(Path::of).orElse(Path.of(config.home()).resolve("blobs"));
        try {
            return new LocalBlobStore(root, config.fsync());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot open blob store under " + root, e);
        }
    }

    @Produces
    @Singleton
    AcknowledgedIndex acknowledgedIndex(IngestConfig config) {
        try {
            return new AcknowledgedIndex(Path.of(config.home()).resolve("ingest-index"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Produces
    @Singleton
    Quarantine quarantine(IngestConfig config) {
        try {
            return new Quarantine(Path.of(config.home()).resolve("quarantine"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
