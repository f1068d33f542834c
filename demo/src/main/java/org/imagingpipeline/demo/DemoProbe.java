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
