package org.imagingpipeline.retrain.service.registry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import org.imagingpipeline.events.ModelVersion;
import org.imagingpipeline.retrain.Hashing;
import org.jboss.logging.Logger;

/**
 * Registers the configured source model ({@code retrain.source-model}, the stack's SOURCE_MODEL) as the default at
 * start: once the registry view has caught up, and only when the "default" routing record does not already name a
 * file with the same sha256. The file (and its card) is copied to {@code models/<sha256>.onnx}; version {@code source-<12 hex>}.
 */
public final class SourceModelRegistrar {
    private static final Logger LOG = Logger.getLogger(SourceModelRegistrar.class);

    private SourceModelRegistrar() {
    }

    /** @return the version registered, empty when the default already was this file */
    public static Optional<String> register(Path file, Path modelsDir, String name, RegistryView view, RegistryPublisher publisher)
            throws IOException, InterruptedException {
        if (!Files.isRegularFile(file)) throw new IOException("retrain.source-model " + file + " is not a file");
        if (!view.await(RegistryView::caughtUp, Duration.ofMinutes(5))) {
            throw new IOException("registry view did not catch up with ml.model.versions in 5 minutes");
        }
        String sha = Hashing.sha256Hex(file);
        Optional<ModelVersion.Serving> current = view.routing(ModelVersion.DEFAULT_DOMAIN).map(ModelVersion::serving);
        if (current.isPresent() && sha.equals(current.get().sha256())) {
            LOG.infof("default model already %s (%s)", current.get().version(), sha);
            return Optional.empty();
        }
        Path kept = ModelFiles.keep(file, sha, modelsDir);
        String version = "source-" + sha.substring(0, 12);
        publisher.publish(RegistryRecords.defaultSource(version, name, kept.toUri().toString(), sha,
                Map.of("decision", "registered as the default (source) model from " + file.getFileName() + " at start"), Instant.now()));
        LOG.infof("registered %s as the default model %s (was %s)", file, version, current.map(ModelVersion.Serving::version).orElse("none"));
        return Optional.of(version);
    }
}
