package org.imagingpipeline.deploy.k8s;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Renders an overlay and runs every cross-reference check on it; an empty list means consistent. */
final class ManifestChecks {
    private ManifestChecks() {
    }

    static Manifests render(Path overlay, Path repoRoot) throws IOException {
        return new Manifests(Kustomize.build(overlay), repoRoot);
    }

    static List<String> problems(Manifests m) {
        List<String> problems = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        Set<String> namespaces = new HashSet<>();
        for (ObjectNode o : m.objects) {
            String id = o.path("kind").asText() + "/" + Manifests.name(o);
            if (!ids.add(id)) problems.add(id + ": defined twice");
            if (o.path("metadata").has("namespace")) namespaces.add(o.path("metadata").path("namespace").asText());
        }
        if (namespaces.size() != 1) problems.add("objects are spread over namespaces " + namespaces + " (want one)");
        problems.addAll(SchemaChecks.check(m));
        problems.addAll(WorkloadChecks.check(m));
        problems.addAll(KafkaChecks.check(m));
        problems.addAll(KafkaAclChecks.check(m));
        problems.addAll(AutoscalingChecks.check(m));
        problems.addAll(NetworkPolicyChecks.check(m));
        return problems;
    }
}
