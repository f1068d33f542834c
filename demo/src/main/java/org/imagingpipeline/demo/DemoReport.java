package org.imagingpipeline.demo;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Supplier;
import org.imagingpipeline.events.DomainEvent;
import org.imagingpipeline.events.EventJson;
import org.imagingpipeline.events.ModelVersion;
import org.imagingpipeline.events.SegmentationResult;
import org.imagingpipeline.events.SeriesReady;
import org.imagingpipeline.events.Topics;

/**
 * Writes the demo's {@code OUT/summary.json} (fields in ../shared/design/ARCHITECTURE.md) and {@code OUT/index.html}
 * from what the pipeline published (topics), what the EHR stored, what streams says about domains, and the Dice the
 * demo measured itself with the masks it holds ({@code --dice FILE}, one JSON line per (site folder, model)).
 *
 * <p>Called by {@link DemoCommand} once every report is in the EHR.
 */
public final class DemoReport {
    private static final ObjectMapper JSON = EventJson.mapper().copy().enable(SerializationFeature.INDENT_OUTPUT);
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private DemoReport() {
    }

    /** One Dice measurement by the demo: a model on one site folder of the export. */
    record Dice(String folder, String sha256, String version, double mean, double median, int patients) {
    }

    /**
     * What the report is made of besides the topics.
     *
     * @param authorization the Authorization header for the services' APIs (a viewer's bearer token)
     * @param phases the demo's phases by label, in order, with the moment each began
     */
    record Inputs(Path out, String bootstrap, String streamsUrl, Supplier<String> authorization, String ehrUrl, String bridgeMetricsUrl,
                  Path sent, List<Dice> dice, Map<String, Instant> phases, boolean synthetic, String dataDescription) {
    }

    /** Writes summary.json and index.html; returns the brief summary the demo prints as its last line. */
    static ObjectNode write(Inputs in) throws Exception {
        System.setProperty("java.awt.headless", "true");
        Path out = Files.createDirectories(in.out());
        String bootstrap = in.bootstrap();
        List<SentSeries> sent = SentSeries.read(in.sent());
        EhrReports ehr = new EhrReports(in.ehrUrl());

        List<SeriesReady> ready = latestRevision(TopicSnapshot.read(bootstrap, Topics.SERIES_READY, SeriesReady.class));
        List<SegmentationResult> results = TopicSnapshot.read(bootstrap, Topics.SEGMENTATION_RESULTS, SegmentationResult.class)
                .stream().map(TopicSnapshot.Rec::value).toList();
        List<DomainEvent> domainEvents = TopicSnapshot.read(bootstrap, Topics.DOMAIN_EVENTS, DomainEvent.class).stream()
                .map(TopicSnapshot.Rec::value).toList();
        List<TopicSnapshot.Rec<ModelVersion>> versions = TopicSnapshot.read(bootstrap, Topics.MODEL_VERSIONS, ModelVersion.class);
        JsonNode domains = getJson(in.streamsUrl() + "/domains", in.authorization()).orElse(JSON.createArrayNode());
        Double validationErrors = metric(in.bridgeMetricsUrl(), "fhir_bridge_validation_errors_total");
        List<Dice> dice = in.dice();

        Map<String, String> domainBySeries = new HashMap<>();
        Map<String, Instant> completedBySeries = new HashMap<>();
        for (SeriesReady r : ready) {
            domainBySeries.put(r.seriesInstanceUid(), r.domainId());
            completedBySeries.put(r.seriesInstanceUid(), r.completedAt());
        }
        Map<String, TreeSet<String>> foldersByDomain = new TreeMap<>();
        for (SentSeries s : sent) {
            String d = domainBySeries.get(s.seriesUid());
            if (d != null) foldersByDomain.computeIfAbsent(d, k -> new TreeSet<>()).add(s.siteFolder());
        }

        // Reports in the EHR and latency per series.
        int reportedSeries = 0;
        List<Double> latencySeconds = new ArrayList<>();
        List<Double> reportedMinutes = new ArrayList<>();
        Instant t0 = completedBySeries.values().stream().filter(java.util.Objects::nonNull).min(Instant::compareTo).orElse(Instant.now());
        Map<String, Boolean> studyReported = new TreeMap<>();
        Map<String, SegmentationResult> lastResult = new HashMap<>();
        Map<String, SegmentationResult> firstResult = new HashMap<>();
        for (SegmentationResult r : results) {
            lastResult.put(r.seriesInstanceUid(), r);
            firstResult.putIfAbsent(r.seriesInstanceUid(), r);
        }
        for (SentSeries s : sent) {
            Optional<EhrReports.Report> rep = ehr.current(s.seriesUid());
            studyReported.merge(s.studyUid(), rep.isPresent(), Boolean::logicalAnd);
            if (rep.isEmpty()) continue;
            reportedSeries++;
            // Latency is to the series' first report: for a series whose report a promoted model has since amended, the
            // first model's report as the EHR first stored it.
            SegmentationResult first = firstResult.get(s.seriesUid());
            Optional<EhrReports.Report> firstReport = rep;
            if (first != null && first.model() != null && first.model().version() != null
                    && rep.get().modelVersion() != null && !first.model().version().equals(rep.get().modelVersion())) {
                firstReport = ehr.firstStored(s.seriesUid(), first.model().version());
            }
            Instant done = completedBySeries.get(s.seriesUid());
            if (firstReport.isPresent() && firstReport.get().lastUpdated() != null) {
                reportedMinutes.add(minutes(t0, firstReport.get().lastUpdated()));
                if (done != null) latencySeconds.add(Duration.between(done, firstReport.get().lastUpdated()).toMillis() / 1000.0);
            }
        }
        List<DemoProbe.Replay> replays = DemoProbe.replays(bootstrap, sent);
        long studiesSent = sent.stream().map(SentSeries::studyUid).distinct().count();
        long studiesReported = studyReported.values().stream().filter(b -> b).count();

        // Domains: streams' registry plus the moment each was decided.
        Map<String, Long> flaggedAfter = new TreeMap<>();
        Map<String, Double> flaggedAtMinute = new TreeMap<>();
        Map<String, List<double[]>> driftPoints = new TreeMap<>();
        for (DomainEvent e : domainEvents) {
            if (e.driftScore() != null) driftPoints.computeIfAbsent(label(e.domainId(), foldersByDomain), k -> new ArrayList<>())
                    .add(new double[] {minutes(t0, e.at()), e.driftScore()});
            boolean decided = e.status() == DomainEvent.Status.DRIFT_CONFIRMED || e.status() == DomainEvent.Status.ALIAS;
            if (decided && !flaggedAfter.containsKey(e.domainId())) {
                flaggedAfter.put(e.domainId(), e.seriesCount());
                if (e.status() == DomainEvent.Status.DRIFT_CONFIRMED) flaggedAtMinute.put(e.domainId(), minutes(t0, e.at()));
            }
        }
        ArrayNode domainList = JSON.createArrayNode();
        for (JsonNode d : domains) {
            ObjectNode o = domainList.addObject();
            o.put("id", d.path("id").asText());
            o.set("fingerprint", d.path("fingerprint"));
            o.put("status", d.path("status").asText());
            Long after = flaggedAfter.get(d.path("id").asText());
            if (after == null) o.putNull("flagged_after_series");
            else o.put("flagged_after_series", after);
            o.put("series", d.path("seriesCount").asLong());
            o.set("site_folders", JSON.valueToTree(foldersByDomain.getOrDefault(d.path("id").asText(), new TreeSet<>())));
            o.set("evidence", d.path("evidence"));
        }

        // Models: the registry's history records (latest status per version) and the default route.
        Map<String, ModelVersion> history = new LinkedHashMap<>();
        ModelVersion.Serving source = null;
        for (TopicSnapshot.Rec<ModelVersion> r : versions) {
            if (ModelVersion.isRoutingKey(r.key())) {
                if (ModelVersion.DEFAULT_DOMAIN.equals(r.key())) source = r.value().serving();
                if (r.value().status() == ModelVersion.Status.PROMOTED) history.putIfAbsent(ModelVersion.historyKey(r.key(), r.value().version()), r.value());
            } else {
                history.put(r.key(), r.value());
            }
        }
        String sourceSha = source == null ? null : source.sha256();
        ArrayNode models = JSON.createArrayNode();
        // Sites the demo measured (the source site's training patients are not: in-sample Dice says nothing).
        List<String> folders = sent.stream().map(SentSeries::siteFolder).distinct()
                .filter(f -> dice.stream().anyMatch(d -> d.folder().equals(f))).toList();
        List<Double> diceSource = new ArrayList<>(), diceAdapted = new ArrayList<>();
        Map<String, Double> adaptedByFolder = new HashMap<>();
        int amendedTotal = 0;
        for (ModelVersion m : history.values()) {
            ObjectNode o = models.addObject();
            o.put("version", m.version());
            o.put("domain", m.domainId());
            o.put("method", m.method());
            o.put("status", m.status().name());
            o.put("promoted", m.status() == ModelVersion.Status.PROMOTED);
            o.put("sha256", m.sha256());
            o.put("parent_sha256", m.parentSha256());
            // Series this version segmented (latest result per series): for a promoted model, the ones sent after promotion.
            o.put("series_segmented", lastResult.values().stream().filter(r -> r.status() == SegmentationResult.Status.OK
                    && r.model().sha256() != null && r.model().sha256().equals(m.sha256())).count());
            Double before = null, after = null;
            TreeSet<String> fs = ModelVersion.DEFAULT_DOMAIN.equals(m.domainId()) ? new TreeSet<>() : foldersByDomain.getOrDefault(m.domainId(), new TreeSet<>());
            if (!fs.isEmpty()) {
                before = pooled(dice, fs, sourceSha);
                after = pooled(dice, fs, m.sha256());
                if (m.status() == ModelVersion.Status.PROMOTED && after != null) fs.forEach(f -> adaptedByFolder.put(f, pooled(dice, List.of(f), m.sha256())));
            }
            putNullable(o, "dice_before", before);
            putNullable(o, "dice_after", after);
            o.set("site_folders", JSON.valueToTree(fs));
            o.set("evidence", JSON.valueToTree(m.evidence()));
            // The replay after promotion: this domain's series complete before it, and how many of their current
            // reports are now this model's (the earlier reports amended).
            for (DemoProbe.Replay r : replays) {
                if (m.status() == ModelVersion.Status.PROMOTED && r.domainId().equals(m.domainId()) && r.version().equals(m.version())) {
                    int amended = DemoProbe.amended(ehr, r);
                    o.put("series_before_promotion", r.seriesBefore().size());
                    o.put("reports_amended", amended);
                    amendedTotal += amended;
                }
            }
        }
        for (String f : folders) {
            diceSource.add(pooled(dice, List.of(f), sourceSha));
            diceAdapted.add(adaptedByFolder.get(f));
        }

        ObjectNode summary = JSON.createObjectNode();
        summary.put("studies_sent", studiesSent);
        summary.put("reports_in_ehr", studiesReported);
        if (validationErrors == null) summary.putNull("fhir_validation_errors");
        else summary.put("fhir_validation_errors", validationErrors.longValue());
        summary.set("domains", domainList);
        summary.set("models", models);
        ObjectNode lat = summary.putObject("latency_ms");
        List<Double> sorted = latencySeconds.stream().sorted().toList();
        putNullable(lat, "p50", quantileMs(sorted, 0.50));
        putNullable(lat, "p95", quantileMs(sorted, 0.95));
        putNullable(lat, "max", sorted.isEmpty() ? null : Math.round(sorted.get(sorted.size() - 1) * 1000.0) * 1.0);
        summary.put("lost", studiesSent - studiesReported);
        summary.put("reports_amended_after_promotion", amendedTotal);
        summary.put("series_sent", sent.size());
        summary.put("series_reported", reportedSeries);
        summary.put("simulated_series", sent.stream().filter(SentSeries::simulated).count());
        summary.put("synthetic_data", in.synthetic());
        summary.put("data", in.dataDescription());
        summary.put("results_on_topic", results.size());
        summary.put("error_results", results.stream().filter(r -> r.status() == SegmentationResult.Status.ERROR).count());
        Map<String, Long> seriesByModel = new TreeMap<>();
        for (SentSeries s : sent) {
            SegmentationResult r = lastResult.get(s.seriesUid());
            if (r != null) seriesByModel.merge(s.siteFolder() + " -> " + r.model().version(), 1L, Long::sum);
        }
        summary.set("series_by_site_and_model", JSON.valueToTree(seriesByModel));
        Files.writeString(out.resolve("summary.json"), JSON.writeValueAsString(summary) + "\n");

        Map<String, Double> phases = new LinkedHashMap<>();
        in.phases().forEach((label, at) -> phases.put(label, minutes(t0, at)));
        List<Double> completedMinutes = sent.stream().map(s -> completedBySeries.get(s.seriesUid())).filter(java.util.Objects::nonNull)
                .map(i -> minutes(t0, i)).toList();
        String html = DemoPage.render(summary, folders, List.of(
                new DemoPage.Chart(DemoCharts.dataUri(DemoCharts.dice(folders, diceSource, diceAdapted)),
                        "Dice per site, measured by the demo with the expert masks it holds (never by the pipeline). "
                                + "Adapted bars appear for sites whose domain got a promoted model."),
                new DemoPage.Chart(DemoCharts.dataUri(DemoCharts.drift(driftPoints, flaggedAtMinute)),
                        "Drift score at each decision of the drift detector; vertical lines mark DRIFT_CONFIRMED."),
                new DemoPage.Chart(DemoCharts.dataUri(DemoCharts.latency(latencySeconds)), "End-to-end latency per series."),
                new DemoPage.Chart(DemoCharts.dataUri(DemoCharts.throughput(completedMinutes, reportedMinutes, phases)),
                        "Cumulative series complete and reports stored; vertical lines mark the demo's phases: "
                                + String.join(" | ", phases.keySet()))));
        Files.writeString(out.resolve("index.html"), html);
        ObjectNode brief = JSON.createObjectNode();
        for (String k : List.of("studies_sent", "reports_in_ehr", "lost", "fhir_validation_errors", "latency_ms",
                "reports_amended_after_promotion", "synthetic_data")) {
            brief.set(k, summary.get(k));
        }
        brief.put("domains", domainList.size());
        long adaptedPromoted = 0;
        for (com.fasterxml.jackson.databind.JsonNode m : models) {
            if (m.path("promoted").asBoolean() && !ModelVersion.DEFAULT_DOMAIN.equals(m.path("domain").asText())) adaptedPromoted++;
        }
        brief.put("adapted_models_promoted", adaptedPromoted);
        return brief;
    }

    private static String label(String domain, Map<String, TreeSet<String>> foldersByDomain) {
        TreeSet<String> f = foldersByDomain.get(domain);
        return f == null || f.isEmpty() ? domain : domain + " (" + String.join(",", f) + ")";
    }

    static List<SeriesReady> latestRevision(List<TopicSnapshot.Rec<SeriesReady>> recs) {
        Map<String, SeriesReady> m = new LinkedHashMap<>();
        for (TopicSnapshot.Rec<SeriesReady> r : recs) m.merge(r.value().seriesInstanceUid(), r.value(), (x, y) -> y.revision() >= x.revision() ? y : x);
        return new ArrayList<>(m.values());
    }

    /** Patient-weighted mean Dice of a model over some site folders; null when the demo did not measure it. */
    static Double pooled(List<Dice> dice, java.util.Collection<String> folders, String sha) {
        if (sha == null) return null;
        double sum = 0;
        int n = 0;
        for (Dice d : dice) {
            if (folders.contains(d.folder()) && sha.equals(d.sha256())) {
                sum += d.mean() * d.patients();
                n += d.patients();
            }
        }
        return n == 0 ? null : Math.round(sum / n * 1000) / 1000.0;
    }

    private static double minutes(Instant t0, Instant t) {
        return Duration.between(t0, t).toMillis() / 60000.0;
    }

    private static Double quantileMs(List<Double> sortedSeconds, double q) {
        Double s = LatencyReport.percentile(sortedSeconds, q * 100);
        return s == null ? null : Math.round(s * 1000.0) * 1.0;
    }

    private static void putNullable(ObjectNode o, String k, Double v) {
        if (v == null) o.putNull(k);
        else o.put(k, v);
    }

    /** GET of a service's API with the given Authorization header; empty unless 200 (a refusal or an error: a line on stderr). */
    static Optional<JsonNode> getJson(String url, Supplier<String> authorization) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20))
                    .header("Authorization", authorization.get()).GET().build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 401 || r.statusCode() == 403) {
                System.err.println("demo: " + url + " refused the demo's token (" + r.statusCode() + "; docs/security.md)");
            }
            return r.statusCode() == 200 ? Optional.of(EventJson.mapper().readTree(r.body())) : Optional.empty();
        } catch (Exception e) {
            System.err.println("demo: " + url + " did not answer: " + e);
            return Optional.empty();
        }
    }

    /** Sum of a Prometheus counter over its label sets, or null when the endpoint does not answer. */
    static Double metric(String url, String name) {
        try {
            HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).timeout(Duration.ofSeconds(20)).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) return null;
            double sum = 0;
            for (String line : r.body().split("\n")) {
                if (line.startsWith(name + " ") || line.startsWith(name + "{")) sum += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
            return sum;
        } catch (Exception e) {
            System.err.println("demo: " + url + " did not answer: " + e);
            return null;
        }
    }
}
