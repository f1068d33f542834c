package org.imagingpipeline.deploy.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

/**
 * Debian 12's {@code kubernetes-client} (kubectl 1.20, what set-up installs where no kubectl is on the PATH) embeds
 * kustomize v2.0.3, which predates two things deploy/k8s uses: directories under {@code resources} (v2 takes them under
 * {@code bases}) and the {@code patches} field (v2: {@code patchesJson6902}, whose target also names the group and
 * version). This rewrites the kustomization files of a copy of deploy/k8s into that dialect - nothing else changes, every
 * resource file is rendered as it is - so that the old kubectl renders the same objects from the same resources.
 */
final class KustomizeV2Dialect {
    private KustomizeV2Dialect() {
    }

    /** Rewrites every kustomization.yaml under {@code copy}; {@code original} is deploy/k8s (for the patch targets' API versions). */
    static void rewrite(Path copy, Path original) throws IOException {
        try (Stream<Path> files = Files.walk(copy)) {
            for (Path k : files.filter(f -> f.getFileName().toString().equals("kustomization.yaml")).toList()) {
                Path dir = k.getParent();
                ObjectNode doc = (ObjectNode) Kustomize.YAML.readTree(k.toFile());
                ObjectNode out = Kustomize.YAML.createObjectNode();
                ArrayNode bases = Kustomize.YAML.createArrayNode();
                ArrayNode resources = Kustomize.YAML.createArrayNode();
                for (JsonNode r : doc.path("resources")) (Files.isDirectory(dir.resolve(r.asText())) ? bases : resources).add(r);
                for (Iterator<Map.Entry<String, JsonNode>> it = doc.fields(); it.hasNext(); ) {
                    Map.Entry<String, JsonNode> e = it.next();
                    switch (e.getKey()) {
                        case "resources" -> {
                            if (!bases.isEmpty()) out.set("bases", bases);
                            if (!resources.isEmpty()) out.set("resources", resources);
                        }
                        case "patches" -> out.set("patchesJson6902", json6902(e.getValue(), original.resolve(copy.relativize(dir).toString())));
                        default -> out.set(e.getKey(), e.getValue());
                    }
                }
                Kustomize.YAML.writeValue(k.toFile(), out);
            }
        }
    }

    private static ArrayNode json6902(JsonNode patches, Path originalDir) throws IOException {
        List<ObjectNode> rendered = null;
        ArrayNode out = Kustomize.YAML.createArrayNode();
        for (JsonNode p : patches) {
            if (!p.has("path")) throw new IllegalArgumentException("only patches from files can be rewritten for kustomize v2: " + p);
            String kind = p.path("target").path("kind").asText();
            String name = p.path("target").path("name").asText();
            if (rendered == null) rendered = Kustomize.build(originalDir); // a patch changes no apiVersion
            String apiVersion = rendered.stream().filter(o -> o.path("kind").asText().equals(kind) && Manifests.name(o).equals(name))
                    .map(o -> o.path("apiVersion").asText()).findFirst()
                    .orElseThrow(() -> new IllegalStateException("patch target " + kind + "/" + name + " not found"));
            int slash = apiVersion.indexOf('/');
            ObjectNode target = Kustomize.YAML.createObjectNode();
            if (slash > 0) target.put("group", apiVersion.substring(0, slash));
            target.put("version", apiVersion.substring(slash + 1));
            target.put("kind", kind);
            target.put("name", name);
            ObjectNode entry = Kustomize.YAML.createObjectNode();
            entry.set("target", target);
            entry.put("path", p.path("path").asText());
            out.add(entry);
        }
        return out;
    }
}
