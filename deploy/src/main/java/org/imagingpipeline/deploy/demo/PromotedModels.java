package org.imagingpipeline.deploy.demo;

import com.fasterxml.jackson.databind.JsonNode;
import java.net.URI;
import java.nio.file.Path;
import java.util.Map;
import org.imagingpipeline.deploy.Args;
import org.imagingpipeline.events.EventJson;
import org.imagingpipeline.events.ModelVersion;

/**
 * {@code PromotedModels --bootstrap B --domain-folders JSON}: for each domain now routed to its own promoted model
 * (ml.model.versions), one line per export folder holding that domain's series: {@code folder TAB model-file TAB sha256
 * TAB version} — what the demo evaluates "after adaptation".
 */
public final class PromotedModels {
    private PromotedModels() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = Args.parse(args);
        JsonNode folders = EventJson.mapper().readTree(Args.required(a, "domain-folders"));
        for (Map.Entry<String, ModelVersion.Serving> e : DemoProbe.promoted(Args.required(a, "bootstrap")).entrySet()) {
            ModelVersion.Serving s = e.getValue();
            Path file = Path.of(URI.create(s.uri()));
            for (JsonNode f : folders.path(e.getKey())) {
                System.out.println(String.join("\t", f.asText(), file.toString(), s.sha256(), s.version()));
            }
        }
    }
}
