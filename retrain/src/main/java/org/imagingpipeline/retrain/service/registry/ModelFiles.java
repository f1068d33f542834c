package org.imagingpipeline.retrain.service.registry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.imagingpipeline.retrain.ModelCard;
import org.imagingpipeline.retrain.service.AtomicFiles;

/**
 * The models directory: each model as {@code <sha256>.onnx}, with its model card beside it as
 * {@code <sha256>.card.json} when the original had one (the adapt command reads the parent's card: it names the
 * source validation patients the gate may use).
 */
public final class ModelFiles {
    private ModelFiles() {
    }

    /** Copies {@code file} (whose sha256 the caller verified) and its card into {@code dir}; returns the kept model. */
    public static Path keep(Path file, String sha256, Path dir) throws IOException {
        Path kept = dir.resolve(sha256 + ".onnx");
        if (!Files.exists(kept)) AtomicFiles.copy(file, kept);
        Path card = ModelCard.pathFor(file);
        Path keptCard = ModelCard.pathFor(kept);
        if (Files.isRegularFile(card) && !Files.exists(keptCard)) AtomicFiles.copy(card, keptCard);
        return kept;
    }
}
