package org.imagingpipeline.deploy.k8s;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.testsupport.kafka.KafkaAccess;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * deploy/k8s: every overlay renders, and its objects agree with each other, with the services' configuration
 * and with events' Topics catalogue (ManifestChecks). The negative cases break one reference in a copy and
 * expect the checks to name it.
 */
class KubernetesManifestsTest {
    static final Path REPO = Path.of("").toAbsolutePath().getParent();
    static final Path K8S = REPO.resolve("deploy/k8s");

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "gpu"})
    void overlayIsConsistent(String overlay) throws IOException {
        Manifests m = ManifestChecks.render(K8S.resolve("overlays").resolve(overlay), REPO);
        List<String> problems = ManifestChecks.problems(m);
        assertEquals(List.of(), problems, String.join("\n", problems));
        Set<String> kinds = m.objects.stream().map(o -> o.path("kind").asText()).collect(Collectors.toSet());
        assertTrue(kinds.containsAll(Set.of("Kafka", "KafkaNodePool", "KafkaTopic", "KafkaUser", "Deployment", "Service", "ConfigMap",
                "PodDisruptionBudget", "NetworkPolicy", "ScaledObject", "TriggerAuthentication", "PersistentVolumeClaim")), kinds.toString());
        assertEquals(Set.of("ingest", "streams", "inference", "retrain", "fhir-bridge"),
                m.deployments().stream().map(d -> d.getMetadata().getName()).collect(Collectors.toSet()));
        assertEquals(Topics.ALL.size(), m.ofKind("KafkaTopic").size());
    }

    /**
     * Kafka as the local stack secures it (issue 19): authorization on, no listener without TLS and authentication, one
     * KafkaUser per principal of test-support's KafkaAccess (plus KEDA's) carrying exactly that principal's grants, and
     * every service on the TLS listener as its own user.
     */
    @ParameterizedTest
    @ValueSource(strings = {"cpu", "gpu"})
    void kafkaUsersCarryTheGrantsOfKafkaAccess(String overlay) throws IOException {
        Manifests m = ManifestChecks.render(K8S.resolve("overlays").resolve(overlay), REPO);
        ObjectNode kafka = m.find("Kafka", "pipeline").orElseThrow();
        assertEquals("simple", kafka.path("spec").path("kafka").path("authorization").path("type").asText());
        assertFalse(m.listeners().isEmpty());
        for (Manifests.Listener l : m.listeners()) {
            assertTrue(l.tls() && "tls".equals(l.authentication()), "listener " + l.name() + ": tls=" + l.tls() + ", authentication="
                    + l.authentication());
        }

        Set<String> users = m.ofKind("KafkaUser").stream().map(Manifests::name).collect(Collectors.toSet());
        Set<String> expectedUsers = new HashSet<>(KafkaAccess.PRINCIPALS);
        expectedUsers.add("keda");
        assertEquals(expectedUsers, users);
        for (String principal : KafkaAccess.PRINCIPALS) {
            List<String> problems = new ArrayList<>();
            Set<KafkaAclChecks.Acl> have = KafkaAclChecks.acls(m.find("KafkaUser", principal).orElseThrow(), problems);
            assertEquals(List.of(), problems, principal);
            Set<KafkaAclChecks.Acl> want = KafkaAclChecks.expected(principal);
            assertFalse(want.isEmpty(), principal + " has no grants in KafkaAccess");
            assertEquals(want, have, "KafkaUser " + principal + " against KafkaAccess.grants()");
        }

        for (Deployment d : m.deployments()) {
            String name = d.getMetadata().getName();
            assertTrue(KafkaAccess.PRINCIPALS.contains(name), name + " is no principal of KafkaAccess");
            PodSpec pod = d.getSpec().getTemplate().getSpec();
            Container c = pod.getContainers().stream().filter(ServiceConfig::isService).findFirst().orElseThrow();
            ServiceConfig cfg = ServiceConfig.of(m, d, c, new ArrayList<>()).orElseThrow();
            List<String> addresses = new ArrayList<>(cfg.endingWith("bootstrap.servers"));
            addresses.addAll(cfg.endingWith("bootstrap-servers"));
            assertFalse(addresses.isEmpty(), name);
            for (String a : addresses) {
                for (String one : a.split(",")) {
                    Manifests.Listener l = m.listenerFor(one).orElseThrow(() -> new AssertionError(name + ": " + one + " is no listener"));
                    assertTrue(l.tls() && "tls".equals(l.authentication()), name + ": " + one);
                }
            }
            assertEquals("SSL", cfg.get("kafka.security.protocol"), name);
            if (name.equals("streams")) assertEquals("SSL", cfg.get("kafka-streams.security.protocol"));
            String keystore = cfg.get("kafka.ssl.keystore.location");
            VolumeMount vm = c.getVolumeMounts().stream().filter(x -> keystore != null && keystore.startsWith(x.getMountPath() + "/"))
                    .findFirst().orElseThrow(() -> new AssertionError(name + ": keystore " + keystore + " is not mounted"));
            Volume v = pod.getVolumes().stream().filter(x -> x.getName().equals(vm.getName())).findFirst().orElseThrow();
            assertEquals(name, v.getSecret().getSecretName(), name + ": the keystore must be its own KafkaUser's");
        }
    }

    /** Every YAML file under deploy/k8s parses, and each is part of an overlay's build (no forgotten files). */
    @Test
    void everyManifestFileParsesAndIsUsed() throws IOException {
        Set<String> used = new HashSet<>();
        for (String overlay : List.of("cpu", "gpu")) {
            for (ObjectNode o : Kustomize.build(K8S.resolve("overlays").resolve(overlay))) {
                used.add(o.path("kind").asText() + "/" + Manifests.name(o));
            }
        }
        try (Stream<Path> files = Files.walk(K8S)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".yaml")).toList()) {
                JsonNode first = Kustomize.YAML.readTree(f.toFile());
                if (f.getFileName().toString().equals("kustomization.yaml") || first.isArray()) continue; // builds, patches
                for (ObjectNode o : Kustomize.readDocuments(f)) {
                    String id = o.path("kind").asText() + "/" + Manifests.name(o);
                    assertTrue(used.contains(id), K8S.relativize(f) + ": " + id + " is in no overlay's build");
                }
            }
        }
    }

    @Test
    void gpuOverlayPutsInferenceOnGpuNodesAndCpuOverlayDoesNot() throws IOException {
        PodSpec gpu = inferencePod("gpu");
        Container g = gpu.getContainers().get(0);
        assertEquals(new Quantity("1"), g.getResources().getLimits().get("nvidia.com/gpu"));
        assertEquals("cuda", env(g, "INFERENCE_PROVIDER"));
        assertTrue(g.getImage().startsWith("imaging-pipeline/inference-cuda:"), g.getImage());
        assertTrue(gpu.getTolerations().stream().anyMatch(t -> "nvidia.com/gpu".equals(t.getKey())));
        assertEquals("true", gpu.getNodeSelector().get("nvidia.com/gpu.present"));

        PodSpec cpu = inferencePod("cpu");
        Container c = cpu.getContainers().get(0);
        assertFalse(c.getResources().getLimits().containsKey("nvidia.com/gpu"));
        assertEquals("cpu", env(c, "INFERENCE_PROVIDER"));
        assertTrue(c.getImage().startsWith("imaging-pipeline/inference:"), c.getImage());
        assertTrue(cpu.getTolerations().isEmpty() && cpu.getNodeSelector().isEmpty());
    }

    /** The images the manifests name are built by deploy/docker/Dockerfile.jvm as the user they run as. */
    @Test
    void dockerfileMatchesTheManifests() throws IOException {
        String dockerfile = Files.readString(REPO.resolve("deploy/docker/Dockerfile.jvm"));
        assertTrue(dockerfile.contains("USER " + WorkloadChecks.IMAGE_USER), "Dockerfile.jvm must run as " + WorkloadChecks.IMAGE_USER);
        assertTrue(dockerfile.contains("WORKDIR /deployments"), "Dockerfile.jvm must work in /deployments (config/ is mounted there)");
        Manifests m = ManifestChecks.render(K8S.resolve("overlays/cpu"), REPO);
        for (Deployment d : m.deployments()) {
            for (Container c : d.getSpec().getTemplate().getSpec().getContainers()) {
                if (ServiceConfig.isService(c)) assertEquals("/deployments", c.getWorkingDir(), d.getMetadata().getName());
            }
        }
    }

    /**
     * {@code kubectl kustomize} renders what the small resolver above renders (the checks trust the resolver). CI always
     * compares: ./pipeline test installs Debian's kubernetes-client where no kubectl is on the PATH; elsewhere the test
     * is skipped without one. A kubectl older than 1.21 (kustomize v2) renders a copy whose kustomization files are
     * rewritten into its dialect ({@link KustomizeV2Dialect}); the resource files are the same.
     */
    @ParameterizedTest
    @ValueSource(strings = {"cpu", "gpu"})
    void rendersLikeKubectlKustomize(String overlay, @TempDir Path tmp) throws Exception {
        if (!onPath("kubectl")) {
            assertFalse("true".equals(System.getenv("CI")), "CI: no kubectl on the PATH (./pipeline test installs kubernetes-client)");
            Assumptions.abort("no kubectl on the PATH: comparison with kubectl kustomize skipped");
        }
        JsonNode version = Kustomize.YAML.readTree(run("kubectl", "version", "--client", "-o", "json"));
        int minor = Integer.parseInt(version.path("clientVersion").path("minor").asText().replaceAll("\\D", ""));
        Path k8s = K8S;
        if (minor < 21) {
            k8s = copyOfManifests(tmp);
            KustomizeV2Dialect.rewrite(k8s, K8S);
        }
        Path dir = k8s.resolve("overlays").resolve(overlay);
        Path rendered = tmp.resolve("kustomize.yaml");
        Process p = new ProcessBuilder("kubectl", "kustomize", dir.toString()).redirectOutput(rendered.toFile())
                .redirectError(tmp.resolve("kustomize.stderr").toFile()).start();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0,
                "kubectl kustomize " + dir + " failed: " + Files.readString(tmp.resolve("kustomize.stderr")));
        Set<JsonNode> theirs = new HashSet<>(Kustomize.readDocuments(rendered));
        Set<JsonNode> ours = new HashSet<>(Kustomize.build(K8S.resolve("overlays").resolve(overlay)));
        assertEquals(theirs, ours);
        System.out.println("kubectl " + version.path("clientVersion").path("gitVersion").asText() + " kustomize " + overlay + ": "
                + theirs.size() + " objects, the same as the resolver's");
    }

    @ParameterizedTest(name = "{0}: {3}")
    @CsvSource(delimiter = '|', textBlock = """
            base/ingest/service.yaml       | targetPort: dicom-tls                       | targetPort: dicom-tsl                        | Service ingest: port dicom-tls targets 'dicom-tsl'
            base/ingest/deployment.yaml    | {path: /q/health/ready, port: http}         | {path: /q/health/ready, port: web}           | readiness probe port 'web' is not a port
            base/ingest/kustomization.yaml | '  - configmap.yaml\n'                      | ''                                           | needs ConfigMap ingest-config, which does not exist
            base/streams/configmap.yaml    | quarkus.http.host=0.0.0.0                   | quarkus.http.host=127.0.0.1                  | quarkus.http.host is 127.0.0.1
            base/streams/configmap.yaml    | kafka-streams.security.protocol=SSL         | kafka-streams.security.protocol=PLAINTEXT    | listener is TLS but security.protocol is not SSL
            base/ingest/configmap.yaml     | ingest.dicom.port=11112                     | ingest.dicom.port=11113                      | ingest.dicom.port=11113 but container port 'dicom' is 11112
            base/ingest/configmap.yaml     | ingest.dicom.tls.port=2762                  | ingest.dicom.tls.port=2763                   | ingest.dicom.tls.port=2763 but container port 'dicom-tls' is 2762
            base/ingest/configmap.yaml     | tls.private-key=/etc/dicom-tls/tls.key      | tls.private-key=/etc/dicom-tls/key.pem       | Secret ingest-dicom-tls has no key key.pem
            base/ingest/configmap.yaml     | ingest.dicom.tls.enabled=true               | ingest.dicom.tls.enabled=false               | DICOM on 0.0.0.0 without TLS needs
            base/streams/deployment.yaml   | '- name: KAFKA_USER_PASSWORD'               | '- name: KAFKA_PASSWORD'                     | ${KAFKA_USER_PASSWORD} is neither a property nor an environment variable
            base/fhir-bridge/deployment.yaml | 'secretName: fhir-bridge}'                | 'secretName: fhir-bridge-user}'              | needs Secret fhir-bridge-user, which nothing creates
            base/fhir-bridge/configmap.yaml  | truststore.location"=/etc/kafka/cluster-ca/ca.crt | truststore.location"=/etc/kafka/ca/ca.crt | ssl.truststore.location /etc/kafka/ca/ca.crt is not in a mounted Secret
            base/autoscaling.yaml          | 'consumerGroup: fhir-bridge'                | 'consumerGroup: bridge'                      | consumerGroup 'bridge' but Deployment fhir-bridge consumes as group 'fhir-bridge'
            base/autoscaling.yaml          | 'topic: imaging.series.ready'               | 'topic: imaging.segmentation.results'        | lists fhir-bridge as consumers of imaging.segmentation.results, not inference
            base/autoscaling.yaml          | 'maxReplicaCount: 3'                        | 'maxReplicaCount: 6'                         | maxReplicaCount 6 exceeds the 3 partitions
            base/autoscaling.yaml          | 'name: streams\n  minReplicaCount'          | 'name: stream\n  minReplicaCount'            | scales Deployment stream, which does not exist
            base/kafka/topics.yaml         | 'max.message.bytes: "16777216"'             | 'max.message.bytes: "1048576"'               | KafkaTopic imaging.series.ready: config
            base/kafka/topics.yaml         | 'topicName: imaging.domain.events\n  partitions: 1' | 'topicName: imaging.domain.events\n  partitions: 2' | KafkaTopic imaging.domain.events: 2 partitions, the catalogue says 1
            base/kafka/topics.yaml         | 'topicName: ehr.delivery.dlq'               | 'topicName: ehr.dlq'                         | differ from the Topics catalogue
            base/kafka/kafka.yaml          | 'matchLabels: {app.kubernetes.io/name: ingest}' | 'matchLabels: {app.kubernetes.io/name: ingester}' | Deployment ingest: listener tls
            base/kafka/kafka.yaml          | '    authorization:\n      type: simple\n' | ''                                           | Kafka pipeline: authorization is
            base/kafka/kafka.yaml          | '        authentication:\n          type: tls\n        networkPolicyPeers' | '        networkPolicyPeers' | listener tls: every listener needs TLS and authentication
            base/kafka/users.yaml          | 'name: audit.events, patternType: literal}, operations: [Write, Describe]' | 'name: audit.events, patternType: literal}, operations: [Write, Describe, Read]' | KafkaUser ingest: ACLs differ from KafkaAccess.grants(); allowed beyond them [TOPIC:audit.events READ]
            base/kafka/users.yaml          | 'name: imaging-streams-, patternType: prefix}' | 'name: imaging-streams-, patternType: literal}' | KafkaUser streams: ACLs differ from KafkaAccess.grants()
            base/kafka/users.yaml          | '{resource: {type: group, name: "*", patternType: literal}, operations: [Describe]}' | '{resource: {type: group, name: "*", patternType: literal}, operations: [Read, Describe]}' | KafkaUser cli: ACLs differ
            base/kafka/users.yaml          | 'name: dlq-replay-, patternType: prefix}, operations: [Write, Describe]' | 'name: dlq-replay-, patternType: prefix}, operations: [Write, Describe, Destroy]' | KafkaUser operator: operation
            base/kafka/users.yaml          | '{resource: {type: group, name: inference, patternType: literal}, operations: [Describe]}' | '{resource: {type: group, name: inference, patternType: prefix}, operations: [Describe]}' | KafkaUser keda: ACLs differ from what KEDA
            base/kafka/users.yaml          | '  name: retrain\n' | '  name: retrainer\n' | KafkaAccess principal retrain has no KafkaUser
            base/retrain/configmap.yaml    | kafka.bootstrap.servers=pipeline-kafka-bootstrap:9093 | kafka.bootstrap.servers=pipeline-kafka-bootstrap:9092 | Deployment retrain: Kafka address pipeline-kafka-bootstrap:9092 is no listener
            base/ingest/configmap.yaml     | kafka.security.protocol=SSL                  | kafka.security.protocol=PLAINTEXT             | Deployment ingest: the tls listener is TLS but security.protocol is not SSL
            base/inference/deployment.yaml | 'secret: {secretName: inference}'           | 'secret: {secretName: retrain}'              | Deployment inference: ssl.keystore.location /etc/kafka/user/user.p12 is not in a mounted Secret of [inference]
            base/inference/deployment.yaml | 'secretKeyRef: {name: inference, key: user.password}' | 'secretKeyRef: {name: retrain, key: user.password}' | Deployment inference: ssl.keystore.password ${KAFKA_USER_PASSWORD} is not key user.password of Secret inference
            base/network-policies.yaml     | 'strimzi.io/broker-role: "true"'            | 'strimzi.io/broker-role: "yes"'              | no NetworkPolicy lets it reach Kafka listener tls
            base/network-policies.yaml     | '- {protocol: TCP, port: dicom-tls}'        | '- {protocol: TCP, port: dicomtls}'          | exposed port dicom-tls is admitted by no NetworkPolicy
            base/ingest/pdb.yaml           | 'app.kubernetes.io/name: ingest'            | 'app.kubernetes.io/name: ingst'              | PodDisruptionBudget ingest: selects no Deployment
            base/inference/configmap.yaml  | public-keys=/etc/pipeline/model-signing/public-key.pem | public-keys=/var/lib/pipeline/secrets/model-signing-public.pem | inference.model-signing.public-keys /var/lib/pipeline/secrets/model-signing-public.pem is not in a mounted Secret or ConfigMap
            base/inference/deployment.yaml | 'items: [{key: public-key.pem, path: public-key.pem}]' | 'items: [{key: public-key.pem, path: public.pem}]' | the volume's items do not project public-key.pem
            base/retrain/deployment.yaml   | 'secret: {secretName: model-signing, defaultMode: 0440}' | 'emptyDir: {}' | retrain.model-signing.private-key /etc/pipeline/model-signing/private-key.pem is not in a mounted Secret
            base/retrain/configmap.yaml    | retrain.source-model=                       | retrain.sourcemodel=                         | retrain is deployed but does not register the source model
            base/inference/configmap.yaml  | inference.model-signing.public-keys=        | 'inference.source-model=/var/lib/pipeline/models/source.onnx\n    inference.model-signing.public-keys=' | the source model is registered by
            base/streams/deployment.yaml   | 'fieldRef: {fieldPath: status.podIP}'      | 'fieldRef: {fieldPath: status.hostIP}'       | STREAMS_APPLICATION_SERVER must be $(POD_IP):8082
            base/network-policies.yaml     | 'policyTypes: [Ingress, Egress]\n  ingress:\n    - from:\n        - podSelector:\n            matchLabels: {app.kubernetes.io/name: streams}' | 'policyTypes: [Ingress, Egress]\n  ingress:\n    - from:\n        - podSelector:\n            matchLabels: {app.kubernetes.io/name: ingest}' | admits ingress from its own pods
            base/streams/configmap.yaml    | publickey.location=/etc/pipeline/token-verifier/public-key.pem | publickey.location=/etc/pipeline/token-verifier/issuer.pem | Secret token-verifier has no key issuer.pem
            base/fhir-bridge/configmap.yaml | private-key=/etc/pipeline/ehr/smart-private-key.pem | private-key=/var/lib/pipeline/secrets/fhir-bridge-smart-key.pem | bridge.fhir.auth.private-key /var/lib/pipeline/secrets/fhir-bridge-smart-key.pem is not in a mounted Secret
            base/ingest/deployment.yaml    | 'readinessProbe:'                          | 'readinesProbe:'                             | unknown field spec.template.spec.containers[0].readinesProbe (not in the schema)
            base/kafka/topics.yaml         | '  partitions: 3'                           | '  partitions: three'                        | KafkaTopic imaging.instances.received: does not match the kafka.strimzi.io/v1beta2/KafkaTopic schema
            base/kafka/topics.yaml         | '  replicas: 3'                             | '  replicas: "3"'                            | KafkaTopic imaging.instances.received: spec.replicas = "3" has the wrong type
            base/kafka/topics.yaml         | '  config:\n    cleanup.policy'            | '  configs:\n    cleanup.policy'           | KafkaTopic imaging.instances.received: unknown field spec.configs (not in the schema)
            base/kafka/kafka.yaml          | 'type: internal'                            | 'type: intranet'                             | Kafka pipeline: spec.kafka.listeners[0].type = "intranet" is not a value of the schema
            base/namespace.yaml            | '    pod-security.kubernetes.io/audit: restricted\n' | '    pod-security.kubernetes.io/audit: restricted\n---\napiVersion: batch/v1\nkind: CronJob\nmetadata:\n  name: cleanup\n' | CronJob cleanup: no schema known for batch/v1/CronJob
            """)
    void aBrokenReferenceIsReported(String file, String find, String replace, String expected, @TempDir Path tmp) throws IOException {
        Path copy = copyOfManifests(tmp);
        mutate(copy.resolve(file), find.replace("\\n", "\n"), replace.replace("\\n", "\n"));
        List<String> problems = new ArrayList<>();
        for (String overlay : List.of("cpu", "gpu")) {
            problems.addAll(ManifestChecks.problems(ManifestChecks.render(copy.resolve("overlays").resolve(overlay), REPO)));
        }
        assertTrue(problems.stream().anyMatch(p -> p.contains(expected)),
                "expected a problem containing [" + expected + "], got:\n" + String.join("\n", problems));
    }

    /** The gpu overlay's patch guards the env entry it rewrites: a reordered base stops the build. */
    @Test
    void gpuPatchRefusesAChangedBase(@TempDir Path tmp) throws IOException {
        Path copy = copyOfManifests(tmp);
        mutate(copy.resolve("base/inference/deployment.yaml"), "- name: INFERENCE_PROVIDER", "- name: ORT_PROVIDER");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> Kustomize.build(copy.resolve("overlays/gpu")));
        assertTrue(e.getMessage().contains("test /spec/template/spec/containers/0/env/0/name failed"), e.getMessage());
    }

    @Test
    void unsupportedKustomizeFieldsAreRefused(@TempDir Path tmp) throws IOException {
        Path copy = copyOfManifests(tmp);
        Path k = copy.resolve("overlays/cpu/kustomization.yaml");
        Files.writeString(k, Files.readString(k) + "commonLabels:\n  team: imaging\n");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Kustomize.build(copy.resolve("overlays/cpu")));
        assertTrue(e.getMessage().contains("field 'commonLabels' is not supported"), e.getMessage());
    }

    private static PodSpec inferencePod(String overlay) throws IOException {
        Manifests m = ManifestChecks.render(K8S.resolve("overlays").resolve(overlay), REPO);
        return m.as(m.find("Deployment", "inference").orElseThrow(), Deployment.class).getSpec().getTemplate().getSpec();
    }

    private static String env(Container c, String name) {
        return c.getEnv().stream().filter(e -> e.getName().equals(name)).findFirst().orElseThrow().getValue();
    }

    private static Path copyOfManifests(Path tmp) throws IOException {
        Path copy = tmp.resolve("k8s");
        try (Stream<Path> files = Files.walk(K8S)) {
            for (Path f : files.toList()) {
                Path to = copy.resolve(K8S.relativize(f).toString());
                if (Files.isDirectory(f)) Files.createDirectories(to);
                else Files.copy(f, to);
            }
        }
        return copy;
    }

    /** Replaces the first occurrence; a find that is no longer in the file fails the test instead of testing nothing. */
    private static void mutate(Path file, String find, String replace) throws IOException {
        String s = Files.readString(file);
        int i = s.indexOf(find);
        assertTrue(i >= 0, file + " no longer contains [" + find + "]: update the mutation");
        Files.writeString(file, s.substring(0, i) + replace + s.substring(i + find.length()));
    }

    /** stdout and stderr of a command that exited 0 within a minute, else null. */
    private static String run(String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return null;
        }
        if (p.exitValue() != 0) System.err.println(String.join(" ", command) + ": " + out);
        return p.exitValue() == 0 ? out : null;
    }

    private static boolean onPath(String exe) {
        String path = System.getenv("PATH");
        return path != null && Stream.of(path.split(File.pathSeparator)).anyMatch(d -> Files.isExecutable(Path.of(d, exe)));
    }
}
