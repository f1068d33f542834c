package org.imagingpipeline.deploy.demo;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.imagingpipeline.deploy.Args;
import org.imagingpipeline.events.EventJson;

/**
 * {@code ModelCardField --card M.card.json --field training.validation_patients}: prints one field of a model card
 * (arrays comma-separated), for the demo script. Fails with a clear message when the field is missing.
 */
public final class ModelCardField {
    private ModelCardField() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = Args.parse(args);
        Path card = Path.of(Args.required(a, "card"));
        String field = Args.required(a, "field");
        JsonNode n = EventJson.mapper().readTree(card.toFile());
        for (String part : field.split("\\.")) n = n.path(part);
        if (n.isMissingNode() || n.isNull()) {
            System.err.println("card " + card + " has no field " + field);
            System.exit(2);
        }
        if (n.isArray()) {
            List<String> xs = new ArrayList<>();
            n.forEach(x -> xs.add(x.asText()));
            System.out.println(String.join(",", xs));
        } else {
            System.out.println(n.asText());
        }
    }
}
