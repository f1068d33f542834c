package org.imagingpipeline.retrain;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The committed source model (models/source.onnx: what `./pipeline up` and the demo on ../shared/data serve by default,
 * what `./pipeline bench adaptation` and AdaptationTest start from) is the file its
 * card describes, the card records how it was trained (the command and seed), and the file loads as this code's
 * U-Net with the architecture and input size the card names.
 */
class CommittedModelTest {

    static final Path MODEL = Path.of(System.getProperty("pipeline.repo.root", "..")).resolve("models/source.onnx");

    @Test
    void theCardDescribesTheCommittedFile() throws Exception {
        assertTrue(Files.isRegularFile(MODEL), "committed source model missing: " + MODEL.toAbsolutePath());
        Path cardFile = ModelCard.pathFor(MODEL);
        assertTrue(Files.isRegularFile(cardFile), "its card is missing: " + cardFile);
        JsonNode card = new ObjectMapper().readTree(cardFile.toFile());
        assertEquals(Hashing.sha256Hex(MODEL), card.get("sha256").asText(), "card sha256 vs the file's");
        assertEquals("source.onnx", card.get("model_file").asText());
        assertTrue(card.get("version").asText().endsWith(card.get("sha256").asText().substring(0, 8)), card.get("version").asText());
        JsonNode training = card.get("training");
        assertTrue(training.get("command").asText().startsWith("./pipeline train "), training.get("command").asText());
        assertTrue(training.get("command").asText().contains("--seed " + training.get("seed").asLong()),
                "the recorded command names the recorded seed: " + training.get("command").asText());
        assertFalse(training.get("validation_patients").isEmpty(), "held-out patients are named (the gate and the drift reference use them)");
        assertTrue(card.get("metrics").get("validation_dice_mean").asDouble() > 0.6, "the card's held-out Dice");
        ModelCard parsed = ModelCard.read(cardFile);
        assertEquals(List.copyOf(parsed.training().sites()), parsed.training().sites());
    }

    @Test
    void theFileIsThisCodesUNet() throws Exception {
        DjlRuntime.configure(DjlRuntime.defaultCacheDir(), 2);
        JsonNode card = new ObjectMapper().readTree(ModelCard.pathFor(MODEL).toFile());
        try (ai.djl.ndarray.NDManager m = ai.djl.ndarray.NDManager.newBaseManager("PyTorch")) {
            OnnxImporter.Imported imp = OnnxImporter.read(MODEL, m);
            assertEquals(card.get("input_size").asInt(), imp.inputSize());
            assertEquals(String.join(",", new ObjectMapper().convertValue(card.get("training").get("sites"), String[].class)),
                    imp.metadata().get("training_sites"));
            assertTrue(imp.net().normaliser() == null, "a source model has no input normaliser");
        }
    }
}
