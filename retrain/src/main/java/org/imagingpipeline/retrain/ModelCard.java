package org.imagingpipeline.retrain;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The JSON card written beside each model ({@code M.onnx} -> {@code M.card.json}): what the model is, where it
 * came from and how good it was when it was made.
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public record ModelCard(
        @JsonProperty("card_version") int cardVersion,
        String version,
        String created,
        @JsonProperty("model_file") String modelFile,
        String sha256,
        Parent parent,
        String architecture,
        Onnx onnx,
        @JsonProperty("input_size") int inputSize,
        String normalisation,
        Training training,
        Map<String, Object> metrics,
        Adaptation adaptation) {

    /** The model this one derives from (lineage); null for a model trained from scratch. */
    public record Parent(String version, String sha256, String file) { }

    /**
     * How an adapted model was derived from its parent without target labels (null for a trained model):
     * the method, the target domain (sites), what target data was used (count and sha256 of the sorted series
     * folder names), the source data it saw, the optimisation and the promotion gate's decision.
     */
    public record Adaptation(String method, List<String> domain,
                             @JsonProperty("target_series") int targetSeries,
                             @JsonProperty("target_slices") int targetSlices,
                             @JsonProperty("target_series_sha256") String targetSeriesSha256,
                             @JsonProperty("source_sites") List<String> sourceSites,
                             @JsonProperty("source_train_patients") int sourceTrainPatients,
                             int steps, double seconds,
                             @JsonProperty("stop_reason") String stopReason,
                             @JsonProperty("bn_statistics_shift") Double bnStatisticsShift,
                             Map<String, Object> details,
                             PromotionGate.Decision gate) { }

    public record Onnx(int opset, String input, String output, String shape) { }

    public record Training(List<String> sites,
                           @JsonProperty("train_patients") int trainPatients,
                           @JsonProperty("train_slices") int trainSlices,
                           @JsonProperty("train_patient_ids_sha256") String trainPatientIdsSha256,
                           @JsonProperty("validation_patients") List<String> validationPatients,
                           long seed, int epochs, long steps, int batch,
                           @JsonProperty("learning_rate") double learningRate,
                           String loss, String optimizer, String augmentation,
                           @JsonProperty("stop_reason") String stopReason,
                           @JsonProperty("best_epoch") int bestEpoch,
                           double seconds,
                           @JsonProperty("peak_rss_mb") long peakRssMb,
                           int threads, String engine,
                           Map<String, Object> recipe,
                           String command) { }

    public static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** {@code du.onnx} -> {@code du.card.json} in the same folder. */
    public static Path pathFor(Path model) {
        String name = model.getFileName().toString();
        String stem = name.endsWith(".onnx") ? name.substring(0, name.length() - 5) : name;
        return model.resolveSibling(stem + ".card.json");
    }

    public void write(Path path) throws IOException {
        Files.writeString(path, JSON.writeValueAsString(this) + "\n");
    }

    public static ModelCard read(Path path) throws IOException {
        return JSON.readValue(path.toFile(), ModelCard.class);
    }
}
