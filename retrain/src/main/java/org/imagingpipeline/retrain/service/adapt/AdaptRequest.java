package org.imagingpipeline.retrain.service.adapt;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The arguments of one {@code adapt} run (the CLI contract in ARCHITECTURE.md):
 * {@code --model M --data DIR --sites S --method X --out NEW [--source-data D --source-sites S] [--target-labels L]
 * [--max-minutes X] [--seed N]}, and {@code --keep-candidates} with {@code --method auto}.
 */
public record AdaptRequest(Path model, Path data, String sites, String method, Path out, Path sourceData, String sourceSites,
                           Path targetLabels, Double maxMinutes, Long seed) {

    public List<String> arguments() {
        List<String> a = new ArrayList<>(List.of("--model", model.toString(), "--data", data.toString(), "--sites", sites,
                "--method", method, "--out", out.toString()));
        if (sourceData != null) {
            a.addAll(List.of("--source-data", sourceData.toString()));
            if (sourceSites != null && !sourceSites.isBlank()) a.addAll(List.of("--source-sites", sourceSites));
            if (targetLabels != null) a.addAll(List.of("--target-labels", targetLabels.toString()));
        }
        // auto keeps the candidates it does not choose, so that the registry records each one with its verdict.
        if (method.equals("auto")) a.add("--keep-candidates");
        if (maxMinutes != null) a.addAll(List.of("--max-minutes", String.format(Locale.ROOT, "%s", maxMinutes)));
        if (seed != null) a.addAll(List.of("--seed", Long.toString(seed)));
        return a;
    }
}
