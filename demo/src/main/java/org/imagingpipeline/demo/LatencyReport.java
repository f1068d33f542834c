package org.imagingpipeline.demo;

import com.fasterxml.jackson.databind.node.ObjectNode;
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
import java.util.concurrent.Callable;
import org.imagingpipeline.events.EventJson;
import org.imagingpipeline.events.SegmentationResult;
import org.imagingpipeline.events.SeriesReady;
import org.imagingpipeline.events.Topics;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Where the time of a series goes, from the arrival of its last instance to its report in the EHR ({@code ./pipeline
 * bench latency}; issue 18's target: p95 <= 5 s). Per series sent (the export's {@code series.tsv}, the first
 * {@code --skip} left out as warm-up), from its first SeriesReady revision, its first OK SegmentationResult and the
 * EHR's first stored version of that result's report (vread of version 1):
 * <ul>
 * <li>{@code assembly}: last instance received by ingest -> series complete (streams; SeriesReady.completedAt);</li>
 * <li>{@code inference_wait}: series complete -> inference starts on it (Kafka hop, queue; the rest of the inference
 * stage once load, inference and post-processing are taken out);</li>
 * <li>{@code load}, {@code inference}, {@code postprocess}: inference's own timings (load: fetch and decode the
 * instances; postprocess: mask, SEG and SR);</li>
 * <li>{@code delivery}: result complete -> the report stored by the EHR (Kafka hop, fhir-bridge's mapping,
 * validation and transaction);</li>
 * <li>{@code total}: last instance received -> report stored.</li>
 * </ul>
 * One clock: every part runs on this machine. Prints one JSON object (p50, p95 and max per stage, in seconds).
 */
@Command(name = "latency-report", mixinStandardHelpOptions = true,
        description = "Per-stage latency of the series a bench sent, from the topics and the EHR; one JSON object")
public final class LatencyReport implements Callable<Integer> {
    @Option(names = "--bootstrap", required = true, description = "Kafka bootstrap servers")
    String bootstrap;

    @Option(names = "--client-properties", description = "Kafka client properties (the stack's secrets/kafka/cli.properties)")
    Path clientProperties;

    @Option(names = "--ehr", required = true, description = "FHIR base URL of the EHR")
    String ehr;

    @Option(names = "--export", required = true, description = "the folder the sends exported to (its series.tsv)")
    Path export;

    @Option(names = "--skip", defaultValue = "0", description = "leave out the first N series sent (warm-up; default ${DEFAULT-VALUE})")
    int skip;

    @Option(names = "--target-p95-seconds", defaultValue = "5", description = "the target for the total's p95 (default ${DEFAULT-VALUE})")
    double targetP95;

    public static void main(String[] args) {
        System.exit(new CommandLine(new LatencyReport()).execute(args));
    }

    static final List<String> STAGES = List.of("assembly", "inference_wait", "load", "inference", "postprocess", "delivery", "total");

    @Override
    public Integer call() throws Exception {
        if (clientProperties != null) TopicSnapshot.useCredentials(clientProperties);
        List<SentSeries> sent = SentSeries.read(export);
        List<SentSeries> measured = sent.subList(Math.min(skip, sent.size()), sent.size());
        Map<String, SeriesReady> ready = new HashMap<>();
        for (TopicSnapshot.Rec<SeriesReady> r : TopicSnapshot.read(bootstrap, Topics.SERIES_READY, SeriesReady.class)) {
            if (r.value().revision() == 1) ready.putIfAbsent(r.value().seriesInstanceUid(), r.value());
        }
        Map<String, SegmentationResult> result = new HashMap<>();
        for (TopicSnapshot.Rec<SegmentationResult> r : TopicSnapshot.read(bootstrap, Topics.SEGMENTATION_RESULTS, SegmentationResult.class)) {
            if (r.value().status() == SegmentationResult.Status.OK) result.putIfAbsent(r.value().seriesInstanceUid(), r.value());
        }
        EhrReports reports = new EhrReports(ehr);
        Map<String, List<Double>> seconds = new LinkedHashMap<>();
        STAGES.forEach(s -> seconds.put(s, new ArrayList<>()));
        Map<String, Integer> reasons = new TreeMap<>();
        List<String> incomplete = new ArrayList<>();
        for (SentSeries s : measured) {
            SeriesReady sr = ready.get(s.seriesUid());
            SegmentationResult res = result.get(s.seriesUid());
            Optional<EhrReports.Report> rep = res == null || res.model() == null ? Optional.empty()
                    : reports.firstStored(s.seriesUid(), res.model().version());
            if (sr == null || res == null || rep.isEmpty() || rep.get().lastUpdated() == null || sr.lastReceivedAt() == null
                    || sr.completedAt() == null || res.timings() == null || res.completedAt() == null) {
                incomplete.add(s.seriesUid());
                continue;
            }
            reasons.merge(sr.reason().name(), 1, Integer::sum);
            SegmentationResult.Timings t = res.timings();
            double inferenceStage = secondsBetween(sr.completedAt(), res.completedAt());
            double own = (t.loadMs() + t.inferenceMs() + t.postprocessMs()) / 1000.0;
            seconds.get("assembly").add(secondsBetween(sr.lastReceivedAt(), sr.completedAt()));
            seconds.get("inference_wait").add(Math.max(0, inferenceStage - own));
            seconds.get("load").add(t.loadMs() / 1000.0);
            seconds.get("inference").add(t.inferenceMs() / 1000.0);
            seconds.get("postprocess").add(t.postprocessMs() / 1000.0);
            seconds.get("delivery").add(secondsBetween(res.completedAt(), rep.get().lastUpdated()));
            seconds.get("total").add(secondsBetween(sr.lastReceivedAt(), rep.get().lastUpdated()));
        }
        ObjectNode out = EventJson.mapper().createObjectNode();
        out.put("benchmark", "latency");
        out.put("series_sent", sent.size());
        out.put("warm_up_left_out", sent.size() - measured.size());
        out.put("series_measured", seconds.get("total").size());
        out.put("series_incomplete", incomplete.size());
        out.set("completed_by", EventJson.mapper().valueToTree(reasons));
        ObjectNode stages = out.putObject("seconds");
        for (Map.Entry<String, List<Double>> e : seconds.entrySet()) {
            ObjectNode st = stages.putObject(e.getKey());
            List<Double> v = e.getValue().stream().sorted().toList();
            st.put("p50", round(percentile(v, 50)));
            st.put("p95", round(percentile(v, 95)));
            st.put("max", v.isEmpty() ? null : round(v.get(v.size() - 1)));
        }
        // Where the time goes: each stage's share of the summed medians.
        double sum = 0;
        for (String s : STAGES) if (!s.equals("total")) sum += orZero(percentile(seconds.get(s).stream().sorted().toList(), 50));
        ObjectNode share = out.putObject("median_share");
        for (String s : STAGES) {
            if (s.equals("total")) continue;
            share.put(s, sum > 0 ? round(orZero(percentile(seconds.get(s).stream().sorted().toList(), 50)) / sum) : null);
        }
        Double p95 = percentile(seconds.get("total").stream().sorted().toList(), 95);
        ObjectNode target = out.putObject("target");
        target.put("p95_seconds", targetP95);
        target.put("met", p95 != null && incomplete.isEmpty() && p95 <= targetP95);
        System.out.println(EventJson.mapper().writeValueAsString(out));
        return incomplete.isEmpty() ? 0 : 1;
    }

    private static double secondsBetween(Instant a, Instant b) {
        return Duration.between(a, b).toMillis() / 1000.0;
    }

    /** Nearest-rank percentile of sorted values; null when there are none. */
    static Double percentile(List<Double> sorted, double p) {
        if (sorted.isEmpty()) return null;
        int rank = (int) Math.ceil(p / 100.0 * sorted.size());
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, rank - 1)));
    }

    private static double orZero(Double d) {
        return d == null ? 0 : d;
    }

    private static Double round(Double d) {
        return d == null ? null : Math.round(d * 1000.0) / 1000.0;
    }
}
