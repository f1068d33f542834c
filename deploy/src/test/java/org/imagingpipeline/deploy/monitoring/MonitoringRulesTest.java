package org.imagingpipeline.deploy.monitoring;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * deploy/monitoring: the Prometheus rules pass promtool's check and unit tests; every alert is tested, labelled and
 * has its runbook entry in docs/operations.md; every series the rules and the Grafana dashboard read is one the
 * services register (or the Kafka exporter's, or Prometheus' {@code up}); the scrape set-up (pod-monitors.yaml)
 * agrees with the manifests.
 */
class MonitoringRulesTest {
    static final Path REPO = Path.of("").toAbsolutePath().getParent();
    static final Path MONITORING = REPO.resolve("deploy/monitoring");
    static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    static final ObjectMapper JSON = new ObjectMapper();
    static final Set<String> SEVERITIES = Set.of("critical", "warning", "info");
    /** Series that come from outside the services' own registrations, with where they come from. */
    static final Map<String, String> EXTERNAL = Map.of(
            "up", "Prometheus, one per scrape target",
            "kafka_consumergroup_lag", "Strimzi's Kafka Exporter (kafkaExporter in deploy/k8s/base/kafka/kafka.yaml)",
            "http_server_requests_seconds_count", "Quarkus' Micrometer HTTP server binder (every service; docs/security.md)");

    static JsonNode rules() throws IOException {
        JsonNode rule = YAML.readTree(MONITORING.resolve("prometheus-rules.yaml").toFile());
        assertEquals("PrometheusRule", rule.path("kind").asText());
        return rule.path("spec");
    }

    static List<JsonNode> allRules(JsonNode spec) {
        List<JsonNode> out = new ArrayList<>();
        spec.path("groups").forEach(g -> g.path("rules").forEach(out::add));
        return out;
    }

    @Test
    void rulesPassPromtoolsCheckAndUnitTests() throws Exception {
        String promtool = promtool();
        if (promtool == null) {
            assertFalse("true".equals(System.getenv("CI")), "CI: no promtool (./pipeline test unpacks Debian's prometheus package)");
            Assumptions.abort("no promtool (PROMTOOL or PATH): promtool check/test rules skipped");
        }
        Path dir = Files.createDirectories(REPO.resolve("deploy/target/monitoring"));
        YAML.writeValue(dir.resolve("imaging-pipeline.rules.yml").toFile(), rules());
        Files.copy(MONITORING.resolve("prometheus-rules.test.yaml"), dir.resolve("prometheus-rules.test.yaml"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        String check = run(dir, promtool, "check", "rules", "imaging-pipeline.rules.yml");
        assertTrue(check.startsWith("OK "), check);
        String test = run(dir, promtool, "test", "rules", "prometheus-rules.test.yaml");
        assertTrue(test.startsWith("OK "), test);
        System.out.println("promtool: " + check.substring(3).trim() + " | " + test.substring(3).trim());
    }

    @Test
    void everyAlertIsTestedLabelledAndHasARunbookEntry() throws IOException {
        String runbook = Files.readString(REPO.resolve("docs/operations.md"));
        Set<String> anchors = headingAnchors(runbook);
        JsonNode tests = YAML.readTree(MONITORING.resolve("prometheus-rules.test.yaml").toFile());
        Set<String> firedInATest = new HashSet<>();
        tests.path("tests").forEach(t -> t.path("alert_rule_test").forEach(c -> {
            if (!c.path("exp_alerts").isEmpty()) firedInATest.add(c.path("alertname").asText());
        }));
        List<String> problems = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (JsonNode r : allRules(rules())) {
            if (!r.has("alert")) continue;
            String alert = r.path("alert").asText();
            if (!names.add(alert)) problems.add(alert + ": defined twice");
            if (!SEVERITIES.contains(r.path("labels").path("severity").asText())) problems.add(alert + ": severity not in " + SEVERITIES);
            for (String a : List.of("summary", "description", "runbook_url")) {
                if (r.path("annotations").path(a).asText().isBlank()) problems.add(alert + ": no " + a);
            }
            String url = r.path("annotations").path("runbook_url").asText();
            String expected = "docs/operations.md#" + alert.toLowerCase(Locale.ROOT);
            if (!url.equals(expected)) problems.add(alert + ": runbook_url " + url + ", expected " + expected);
            if (!anchors.contains(alert.toLowerCase(Locale.ROOT))) problems.add(alert + ": no heading '" + alert + "' in docs/operations.md");
            if (!firedInATest.contains(alert)) problems.add(alert + ": no unit test in prometheus-rules.test.yaml where it fires");
        }
        assertTrue(names.size() >= 20, "alerts: " + names);
        assertEquals(List.of(), problems, String.join("\n", problems));
    }

    @Test
    void everySeriesTheRulesAndTheDashboardReadIsExported() throws IOException {
        MeterCatalogue meters = MeterCatalogue.of(REPO);
        assertTrue(meters.exports("fhir_bridge_delivered_total") && meters.exports("inference_stage_seconds_count")
                && meters.exports("ingest_stored_bytes_total") && meters.exports("streams_domains")
                && meters.exports("kafka_loop_records_total"), "the catalogue misreads the registrations: " + meters.sources);
        Map<String, String> read = seriesRead();
        Set<String> recorded = allRules(rules()).stream().filter(r -> r.has("record")).map(r -> r.path("record").asText())
                .collect(Collectors.toSet());
        List<String> unknown = unexported(read, meters, recorded);
        assertEquals(List.of(), unknown, String.join("\n", unknown));

        // the check can fail: a misspelt series and a timer read without its unit are reported
        Map<String, String> wrong = new LinkedHashMap<>();
        wrong.put("fhir_bridge_deliverd_total", "mutation");
        wrong.put("inference_stage_count", "mutation");
        assertEquals(2, unexported(wrong, meters, recorded).size());
        assertTrue(read.keySet().containsAll(List.of("kafka_consumergroup_lag", "inference_series_total",
                "fhir_bridge_end_to_end_latency_seconds", "imaging_pipeline:consumergroup_lag:sum")), read.keySet().toString());
    }

    @Test
    void dashboardIsWellFormedAndScopedToOneInstallation() throws IOException {
        JsonNode dash = JSON.readTree(MONITORING.resolve("grafana/imaging-pipeline.json").toFile());
        List<String> problems = new ArrayList<>();
        Set<Integer> ids = new HashSet<>();
        int queries = 0;
        for (JsonNode p : dash.path("panels")) {
            if (!ids.add(p.path("id").asInt())) problems.add("panel id " + p.path("id") + " twice");
            JsonNode g = p.path("gridPos");
            if (g.path("x").asInt() + g.path("w").asInt() > 24) problems.add(p.path("title").asText() + ": wider than the grid");
            if ("row".equals(p.path("type").asText())) continue;
            if (!"${datasource}".equals(p.path("datasource").path("uid").asText())) problems.add(p.path("title").asText() + ": datasource not ${datasource}");
            if (p.path("description").asText().isBlank()) problems.add(p.path("title").asText() + ": no description");
            for (JsonNode t : p.path("targets")) {
                queries++;
                String expr = t.path("expr").asText();
                if (expr.isBlank()) problems.add(p.path("title").asText() + ": a target without expr");
                // every selector is limited to the chosen installation's namespace
                Matcher sel = Pattern.compile("([a-zA-Z_:][a-zA-Z0-9_:]*)\\{([^}]*)}").matcher(expr);
                int selectors = 0;
                while (sel.find()) {
                    selectors++;
                    if (!sel.group(2).contains("namespace=\"$namespace\"")) problems.add(p.path("title").asText() + ": " + sel.group(1) + " not limited to $namespace");
                }
                if (selectors < PromQl.seriesNames(expr).size()) problems.add(p.path("title").asText() + ": a series without a selector in " + expr);
            }
        }
        Set<String> variables = new TreeSet<>();
        dash.path("templating").path("list").forEach(v -> variables.add(v.path("name").asText()));
        assertEquals(Set.of("datasource", "namespace"), variables);
        assertTrue(queries >= 15, "queries: " + queries);
        assertEquals(List.of(), problems, String.join("\n", problems));
    }

    @Test
    void scrapeSetUpMatchesTheManifests() throws IOException {
        List<JsonNode> monitors = readAll(MONITORING.resolve("pod-monitors.yaml"));
        JsonNode services = monitors.stream().filter(m -> m.path("metadata").path("name").asText().equals("imaging-pipeline-services")).findFirst().orElseThrow();
        assertEquals("imaging-pipeline", services.path("spec").path("selector").path("matchLabels").path("app.kubernetes.io/part-of").asText());
        JsonNode endpoint = services.path("spec").path("podMetricsEndpoints").get(0);
        assertEquals("http", endpoint.path("port").asText());
        assertEquals("/q/metrics", endpoint.path("path").asText());
        List<String> problems = new ArrayList<>();
        for (String service : List.of("ingest", "streams", "inference", "retrain", "fhir-bridge")) {
            JsonNode deployment = readAll(REPO.resolve("deploy/k8s/base/" + service + "/deployment.yaml")).stream()
                    .filter(d -> d.path("kind").asText().equals("Deployment")).findFirst().orElseThrow();
            JsonNode template = deployment.path("spec").path("template");
            if (!"imaging-pipeline".equals(template.path("metadata").path("labels").path("app.kubernetes.io/part-of").asText())) {
                problems.add(service + ": pods lack app.kubernetes.io/part-of=imaging-pipeline (not scraped)");
            }
            if (!service.equals(template.path("metadata").path("labels").path("app.kubernetes.io/name").asText())) {
                problems.add(service + ": pods' app.kubernetes.io/name is not " + service + " (the alerts' service label)");
            }
            boolean http = false;
            for (JsonNode c : template.path("spec").path("containers")) {
                for (JsonNode port : c.path("ports")) http |= "http".equals(port.path("name").asText());
            }
            if (!http) problems.add(service + ": no container port named http");
        }
        // the exporter is enabled and watches every consumer group KEDA scales on and the lag rule sums
        JsonNode kafka = readAll(REPO.resolve("deploy/k8s/base/kafka/kafka.yaml")).stream()
                .filter(k -> k.path("kind").asText().equals("Kafka")).findFirst().orElseThrow();
        String groupRegex = kafka.path("spec").path("kafkaExporter").path("groupRegex").asText();
        assertFalse(groupRegex.isEmpty(), "kafka.yaml: no kafkaExporter.groupRegex");
        Set<String> groups = new TreeSet<>();
        for (JsonNode o : readAll(REPO.resolve("deploy/k8s/base/autoscaling.yaml"))) {
            if (!o.path("kind").asText().equals("ScaledObject")) continue;
            o.path("spec").path("triggers").forEach(t -> {
                if (t.path("type").asText().equals("kafka")) groups.add(t.path("metadata").path("consumerGroup").asText());
            });
        }
        assertTrue(groups.size() >= 3, "KEDA consumer groups: " + groups);
        String lagRule = allRules(rules()).stream().filter(r -> r.path("record").asText().equals("imaging_pipeline:consumergroup_lag:sum"))
                .findFirst().orElseThrow().path("expr").asText();
        Matcher m = Pattern.compile("consumergroup=~\"([^\"]+)\"").matcher(lagRule);
        assertTrue(m.find(), lagRule);
        for (String g : groups) {
            if (!g.matches(groupRegex)) problems.add("consumer group " + g + " not watched by the exporter (" + groupRegex + ")");
            if (!g.matches(m.group(1))) problems.add("consumer group " + g + " not in the lag rule (" + m.group(1) + ")");
        }
        assertEquals(List.of(), problems, String.join("\n", problems));
    }

    /** Every series name the rules and the dashboard read, with where it is read. */
    static Map<String, String> seriesRead() throws IOException {
        Map<String, String> read = new LinkedHashMap<>();
        for (JsonNode r : allRules(rules())) {
            String where = "rule " + (r.has("alert") ? r.path("alert").asText() : r.path("record").asText());
            PromQl.seriesNames(r.path("expr").asText()).forEach(n -> read.putIfAbsent(n, where));
        }
        JsonNode dash = JSON.readTree(MONITORING.resolve("grafana/imaging-pipeline.json").toFile());
        for (JsonNode p : dash.path("panels")) {
            for (JsonNode t : p.path("targets")) {
                PromQl.seriesNames(t.path("expr").asText()).forEach(n -> read.putIfAbsent(n, "panel '" + p.path("title").asText() + "'"));
            }
        }
        return read;
    }

    static List<String> unexported(Map<String, String> read, MeterCatalogue meters, Set<String> recorded) {
        List<String> unknown = new ArrayList<>();
        read.forEach((name, where) -> {
            if (!meters.exports(name) && !recorded.contains(name) && !EXTERNAL.containsKey(name)) {
                unknown.add(name + " (" + where + "): no service registers it");
            }
        });
        return unknown;
    }

    /** GitHub's heading anchors: lower case, punctuation other than - and _ dropped, spaces to -. */
    static Set<String> headingAnchors(String markdown) {
        Set<String> anchors = new HashSet<>();
        for (String line : markdown.split("\n")) {
            if (!line.startsWith("#")) continue;
            String text = line.replaceFirst("^#+\\s*", "").trim().toLowerCase(Locale.ROOT);
            anchors.add(text.replaceAll("[^a-z0-9 _-]", "").replace(' ', '-'));
        }
        return anchors;
    }

    static List<JsonNode> readAll(Path yaml) throws IOException {
        try (var parser = YAML.getFactory().createParser(yaml.toFile())) {
            List<JsonNode> docs = new ArrayList<>();
            YAML.readValues(parser, JsonNode.class).forEachRemaining(d -> {
                if (d != null && !d.isNull() && !d.isMissingNode()) docs.add(d);
            });
            return docs;
        }
    }

    static String promtool() {
        String env = System.getenv("PROMTOOL");
        if (env != null && Files.isExecutable(Path.of(env))) return env;
        String path = System.getenv("PATH");
        if (path == null) return null;
        return Stream.of(path.split(File.pathSeparator)).map(d -> Path.of(d, "promtool")).filter(Files::isExecutable)
                .map(Path::toString).findFirst().orElse(null);
    }

    /** The command's output, prefixed "OK " if it exited 0 within two minutes, else "FAILED ". */
    static String run(Path dir, String... command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            return "FAILED (timeout) " + out;
        }
        return (p.exitValue() == 0 ? "OK " : "FAILED ") + String.join(" ", command) + "\n" + out;
    }
}
