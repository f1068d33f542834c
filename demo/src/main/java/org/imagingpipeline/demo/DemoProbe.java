package org.imagingpipeline.demo;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;
import org.imagingpipeline.events.DomainEvent;
import org.imagingpipeline.events.EventJson;
import org.imagingpipeline.events.ModelVersion;
import org.imagingpipeline.events.SeriesReady;
import org.imagingpipeline.events.Topics;

/**
 * The demo's waits and lookups on the running stack: promoted models, reports in the EHR, which export folders hold
 * which domain's series. Progress goes to stderr.
 */
final class DemoProbe {
    private DemoProbe() {
    }

    static Map<String, ModelVersion.Serving> promoted(String bootstrap) {
        Map<String, ModelVersion.Serving> routes = new TreeMap<>();
        for (TopicSnapshot.Rec<ModelVersion> r : TopicSnapshot.read(bootstrap, Topics.MODEL_VERSIONS, ModelVersion.class)) {
            if (!ModelVersion.isRoutingKey(r.key()) || ModelVersion.DEFAULT_DOMAIN.equals(r.key())) continue;
            if (r.value().serving() == null) routes.remove(r.key());
            else routes.put(r.key(), r.value().serving());
        }
        return routes;
    }

    /**
     * Waits for {@code count} promoted domains. With the retrain service's URL it also stops once adaptation jobs ran
     * and none is queued or running for {@link #IDLE_GRACE_SECONDS} (every candidate was rejected: nothing more to wait for).
     */
    static Map<String, ModelVersion.Serving> waitPromoted(String bootstrap, String retrainUrl, Supplier<String> authorization,
                                                          long timeoutSeconds, int count) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
        String lastLine = "";
        long idleSince = -1;
        while (true) {
            Map<String, ModelVersion.Serving> routes = promoted(bootstrap);
            if (routes.size() >= count || System.nanoTime() > deadline) return routes;
            if (retrainUrl != null) {
                boolean idle = jobsIdle(retrainUrl, authorization);
                if (!idle) idleSince = -1;
                else if (idleSince < 0) idleSince = System.nanoTime();
                else if (System.nanoTime() - idleSince > IDLE_GRACE_SECONDS * 1_000_000_000L) {
                    System.err.println("demo: every adaptation job has finished and none was promoted; not waiting longer");
                    return routes;
                }
            }
            String line = progressLine(bootstrap);
            if (!line.equals(lastLine)) System.err.println("demo: waiting for a promoted model: " + line);
            lastLine = line;
            Thread.sleep(5000);
        }
    }

    static final long IDLE_GRACE_SECONDS = 45;

    /** True when the retrain service has run jobs and none is queued or running now. */
    private static boolean jobsIdle(String retrainUrl, Supplier<String> authorization) {
        return DemoReport.getJson(retrainUrl + "/jobs", authorization).map(jobs -> {
            if (!jobs.isArray() || jobs.isEmpty()) return false;
            for (com.fasterxml.jackson.databind.JsonNode j : jobs) {
                String st = j.path("status").asText();
                if (st.equals("QUEUED") || st.equals("RUNNING")) return false;
            }
            return true;
        }).orElse(false);
    }

    /** Domains by status and model versions by status, in one line. */
    private static String progressLine(String bootstrap) {
        Map<String, DomainEvent.Status> domains = new TreeMap<>();
        for (TopicSnapshot.Rec<DomainEvent> r : TopicSnapshot.read(bootstrap, Topics.DOMAIN_EVENTS, DomainEvent.class)) {
            domains.put(r.value().domainId(), r.value().status());
        }
        Map<String, ModelVersion.Status> versions = new TreeMap<>();
        for (TopicSnapshot.Rec<ModelVersion> r : TopicSnapshot.read(bootstrap, Topics.MODEL_VERSIONS, ModelVersion.class)) {
            if (!ModelVersion.isRoutingKey(r.key())) versions.put(r.key(), r.value().status());
        }
        return "domains " + domains + "; model versions " + versions;
    }

    static Map<String, Integer> waitReports(EhrReports ehr, List<SentSeries> sent, long timeoutSeconds) throws Exception {
        long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
        int reported = 0;
        int last = -1;
        while (true) {
            reported = 0;
            for (SentSeries s : sent) if (ehr.current(s.seriesUid()).isPresent()) reported++;
            if (reported >= sent.size() || System.nanoTime() > deadline) break;
            if (reported != last) System.err.printf("demo: reports in the EHR: %d of %d series%n", reported, sent.size());
            last = reported;
            Thread.sleep(3000);
        }
        Map<String, Integer> out = new LinkedHashMap<>();
        out.put("expected", sent.size());
        out.put("reported", reported);
        return out;
    }

    /**
     * A promoted domain's model and the demo's series of that domain that were complete before the promotion: the
     * retrain service sends them again after it (retrain.replay.*) so that their current report becomes the new model's.
     */
    record Replay(String domainId, String version, java.time.Instant promotedAt, List<String> seriesBefore) {
    }

    /** One {@link Replay} per domain whose latest routing record is a promotion (the default route excluded). */
    static List<Replay> replays(String bootstrap, List<SentSeries> sent) {
        Map<String, ModelVersion> promotions = new TreeMap<>();
        for (TopicSnapshot.Rec<ModelVersion> r : TopicSnapshot.read(bootstrap, Topics.MODEL_VERSIONS, ModelVersion.class)) {
            if (!ModelVersion.isRoutingKey(r.key()) || ModelVersion.DEFAULT_DOMAIN.equals(r.key())) continue;
            if (r.value().serving() != null && r.value().status() == ModelVersion.Status.PROMOTED) promotions.put(r.key(), r.value());
            else promotions.remove(r.key());
        }
        java.util.Set<String> demoSeries = new java.util.HashSet<>();
        sent.forEach(s -> demoSeries.add(s.seriesUid()));
        Map<String, SeriesReady> firstReady = new LinkedHashMap<>();
        for (TopicSnapshot.Rec<SeriesReady> r : TopicSnapshot.read(bootstrap, Topics.SERIES_READY, SeriesReady.class)) {
            if (demoSeries.contains(r.value().seriesInstanceUid())) firstReady.putIfAbsent(r.value().seriesInstanceUid(), r.value());
        }
        List<Replay> out = new java.util.ArrayList<>();
        for (ModelVersion p : promotions.values()) {
            if (p.at() == null) continue;
            List<String> before = firstReady.values().stream().filter(s -> p.domainId().equals(s.domainId())
                    && s.completedAt() != null && s.completedAt().isBefore(p.at())).map(SeriesReady::seriesInstanceUid).toList();
            out.add(new Replay(p.domainId(), p.serving().version(), p.at(), before));
        }
        return out;
    }

    /** How many of the replay's series have their current report by the promoted model. */
    static int amended(EhrReports ehr, Replay replay) throws Exception {
        int n = 0;
        for (String series : replay.seriesBefore()) {
            if (ehr.current(series).map(r -> replay.version().equals(r.modelVersion())).orElse(false)) n++;
        }
        return n;
    }

    /**
     * Waits until every series of a promoted domain that was complete before the promotion has its current report by
     * the promoted model (the earlier reports amended), or the timeout; per domain: series before, amended.
     */
    static Map<String, Map<String, Integer>> waitAmended(EhrReports ehr, String bootstrap, List<SentSeries> sent, long timeoutSeconds)
            throws Exception {
        long deadline = System.nanoTime() + timeoutSeconds * 1_000_000_000L;
        String last = "";
        while (true) {
            Map<String, Map<String, Integer>> out = new TreeMap<>();
            boolean all = true;
            for (Replay r : replays(bootstrap, sent)) {
                int amended = amended(ehr, r);
                all &= amended >= r.seriesBefore().size();
                out.put(r.domainId(), Map.of("series_before_promotion", r.seriesBefore().size(), "reports_amended", amended));
            }
            if (all || System.nanoTime() > deadline) return out;
            String line = out.toString();
            if (!line.equals(last)) System.err.println("demo: earlier reports amended by the promoted model: " + line);
            last = line;
            Thread.sleep(3000);
        }
    }

    static Map<String, List<String>> domainFolders(String bootstrap, List<SentSeries> sent) {
        Map<String, String> folderBySeries = new TreeMap<>();
        sent.forEach(s -> folderBySeries.put(s.seriesUid(), s.siteFolder()));
        Map<String, java.util.TreeSet<String>> byDomain = new TreeMap<>();
        for (TopicSnapshot.Rec<SeriesReady> r : TopicSnapshot.read(bootstrap, Topics.SERIES_READY, SeriesReady.class)) {
            String folder = folderBySeries.get(r.value().seriesInstanceUid());
            if (folder != null && r.value().domainId() != null) byDomain.computeIfAbsent(r.value().domainId(), k -> new java.util.TreeSet<>()).add(folder);
        }
        Map<String, List<String>> out = new TreeMap<>();
        byDomain.forEach((k, v) -> out.put(k, List.copyOf(v)));
        return out;
    }
}
