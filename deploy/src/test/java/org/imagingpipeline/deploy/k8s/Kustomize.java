package org.imagingpipeline.deploy.k8s;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MappingIterator;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * A small Kustomize: follows {@code resources} (files and directories), applies JSON 6902 {@code patches},
 * {@code images} and {@code namespace}. Any other kustomization field, or a strategic-merge patch, is an error
 * rather than silently ignored, so the manifests cannot outgrow what the checks see. Where kubectl is on the
 * PATH, KubernetesManifestsTest compares this with {@code kubectl kustomize}.
 */
final class Kustomize {
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Set<String> FIELDS = Set.of("apiVersion", "kind", "namespace", "resources", "images", "patches");
    private static final Set<String> CLUSTER_SCOPED = Set.of("Namespace", "ClusterRole", "ClusterRoleBinding",
            "CustomResourceDefinition", "StorageClass", "PersistentVolume");

    private Kustomize() {
    }

    static List<ObjectNode> build(Path dir) throws IOException {
        Path file = dir.resolve("kustomization.yaml");
        if (!Files.isRegularFile(file)) throw new IllegalArgumentException("no kustomization.yaml in " + dir);
        JsonNode k = YAML.readTree(file.toFile());
        for (Iterator<String> it = k.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!FIELDS.contains(f)) throw new IllegalArgumentException(file + ": field '" + f + "' is not supported here");
        }
        List<ObjectNode> out = new ArrayList<>();
        for (JsonNode r : k.path("resources")) {
            Path p = dir.resolve(r.asText()).normalize();
            if (Files.isDirectory(p)) out.addAll(build(p));
            else out.addAll(readDocuments(p));
        }
        for (JsonNode patch : k.path("patches")) applyPatch(dir, patch, out, file);
        for (JsonNode image : k.path("images")) renameImage(image, out);
        if (k.hasNonNull("namespace")) {
            for (ObjectNode o : out) {
                if (!CLUSTER_SCOPED.contains(o.path("kind").asText())) {
                    ((ObjectNode) o.get("metadata")).put("namespace", k.get("namespace").asText());
                }
            }
        }
        return out;
    }

    /** Every YAML document of a file, each a Kubernetes object with apiVersion, kind and metadata.name. */
    static List<ObjectNode> readDocuments(Path file) throws IOException {
        List<ObjectNode> docs = new ArrayList<>();
        try (MappingIterator<JsonNode> it = YAML.readerFor(JsonNode.class).readValues(file.toFile())) {
            while (it.hasNext()) {
                JsonNode d = it.next();
                if (d == null || d.isNull() || d.isMissingNode()) continue;
                if (!(d instanceof ObjectNode o) || !o.hasNonNull("apiVersion") || !o.hasNonNull("kind")
                        || !o.path("metadata").hasNonNull("name")) {
                    throw new IllegalArgumentException(file + ": a document without apiVersion, kind or metadata.name");
                }
                docs.add(o);
            }
        }
        return docs;
    }

    private static void applyPatch(Path dir, JsonNode patch, List<ObjectNode> objects, Path file) throws IOException {
        JsonNode ops = patch.has("path") ? YAML.readTree(dir.resolve(patch.get("path").asText()).toFile())
                : YAML.readTree(patch.path("patch").asText());
        if (!ops.isArray()) throw new IllegalArgumentException(file + ": only JSON 6902 patches (lists of ops) are supported");
        JsonNode target = patch.path("target");
        for (Iterator<String> it = target.fieldNames(); it.hasNext(); ) {
            String f = it.next();
            if (!f.equals("kind") && !f.equals("name")) throw new IllegalArgumentException(file + ": patch target field '" + f + "'");
        }
        int matched = 0;
        for (ObjectNode o : objects) {
            if (o.path("kind").asText().equals(target.path("kind").asText())
                    && o.path("metadata").path("name").asText().equals(target.path("name").asText())) {
                JsonPatch.apply(o, ops, file + " patch of " + target.path("kind").asText() + "/" + target.path("name").asText());
                matched++;
            }
        }
        if (matched == 0) throw new IllegalStateException(file + ": patch target " + target + " matches nothing");
    }

    private static void renameImage(JsonNode image, List<ObjectNode> objects) {
        String name = image.path("name").asText();
        for (ObjectNode o : objects) {
            for (JsonNode c : o.path("spec").path("template").path("spec").path("containers")) {
                String ref = c.path("image").asText();
                int colon = ref.lastIndexOf(':');
                boolean tagged = colon > ref.lastIndexOf('/');
                String repo = tagged ? ref.substring(0, colon) : ref;
                if (!repo.equals(name)) continue;
                String tag = image.hasNonNull("newTag") ? image.get("newTag").asText() : tagged ? ref.substring(colon + 1) : null;
                String newRepo = image.hasNonNull("newName") ? image.get("newName").asText() : repo;
                ((ObjectNode) c).put("image", tag == null ? newRepo : newRepo + ":" + tag);
            }
        }
    }
}
