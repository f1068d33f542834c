package org.imagingpipeline.deploy;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.imagingpipeline.events.EventJson;
import org.imagingpipeline.events.InstanceReceived;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.SeriesReady;
import org.imagingpipeline.events.Topics;

/**
 * What arrived on {@code imaging.instances.received}: instances, series and studies per scanner (manufacturer,
 * model, modality), with their transfer syntaxes. Reads the topic from the start until {@code --expect}
 * distinct instances were seen or {@code --quiet-seconds} pass without a new event, then waits up to
 * {@code --series-wait-seconds} for every series to appear on {@code imaging.series.ready}; prints a table on
 * stderr and JSON on stdout.
 */
public final class ArrivalsSummary {
    private ArrivalsSummary() {
    }

    static final class Group {
        final Set<String> sops = new TreeSet<>();
        final Set<String> series = new TreeSet<>();
        final Set<String> studies = new TreeSet<>();
        final Set<String> syntaxes = new TreeSet<>();
    }

    public static void main(String[] args) {
        Map<String, String> a = Args.parse(args);
        String bootstrap = a.getOrDefault("bootstrap", "127.0.0.1:9092");
        long expect = Long.parseLong(a.getOrDefault("expect", "0"));
        Duration quiet = Duration.ofSeconds(Long.parseLong(a.getOrDefault("quiet-seconds", "5")));
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.GROUP_ID_CONFIG, "arrivals-" + UUID.randomUUID());
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        Map<String, Group> groups = new TreeMap<>();
        Set<String> allSops = new TreeSet<>();
        Set<String> allSeries = new TreeSet<>();
        Map<String, SeriesReady> ready = new TreeMap<>();
        long events = 0;
        Duration seriesWait = Duration.ofSeconds(Long.parseLong(a.getOrDefault("series-wait-seconds", "0")));
        JsonSerde<InstanceReceived> instances = JsonSerde.of(InstanceReceived.class);
        JsonSerde<SeriesReady> series = JsonSerde.of(SeriesReady.class);
        try (KafkaConsumer<String, byte[]> c = new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer())) {
            c.subscribe(List.of(Topics.INSTANCES_RECEIVED, Topics.SERIES_READY));
            long last = System.nanoTime();
            long seriesDeadline = Long.MAX_VALUE;
            while (true) {
                boolean instancesDone = System.nanoTime() - last >= quiet.toNanos() || (expect > 0 && allSops.size() >= expect);
                if (instancesDone && seriesDeadline == Long.MAX_VALUE) seriesDeadline = System.nanoTime() + seriesWait.toNanos();
                if (instancesDone && (ready.keySet().containsAll(allSeries) || System.nanoTime() >= seriesDeadline)) break;
                for (ConsumerRecord<String, byte[]> raw : c.poll(Duration.ofMillis(300))) {
                    if (raw.topic().equals(Topics.SERIES_READY)) {
                        SeriesReady sr = series.deserialize(raw.topic(), raw.value());
                        ready.merge(sr.seriesInstanceUid(), sr, (x, y) -> y.revision() >= x.revision() ? y : x);
                        continue;
                    }
                    InstanceReceived e = instances.deserialize(raw.topic(), raw.value());
                    allSeries.add(e.seriesInstanceUid());
                    events++;
                    String key = String.join(" | ", nz(e.header().manufacturer()), nz(e.header().manufacturerModelName()), nz(e.header().modality()));
                    Group g = groups.computeIfAbsent(key, k -> new Group());
                    g.sops.add(e.sopInstanceUid());
                    g.series.add(e.seriesInstanceUid());
                    g.studies.add(e.studyInstanceUid());
                    g.syntaxes.add(e.transferSyntaxUid());
                    allSops.add(e.sopInstanceUid());
                    last = System.nanoTime();
                }
            }
        }
        System.err.printf("%-60s %9s %7s %7s  %s%n", "manufacturer | model | modality", "instances", "series", "studies", "transfer syntaxes");
        ObjectNode out = EventJson.mapper().createObjectNode();
        ArrayNode rows = out.putArray("by_scanner");
        groups.forEach((k, g) -> {
            System.err.printf("%-60s %9d %7d %7d  %d%n", k, g.sops.size(), g.series.size(), g.studies.size(), g.syntaxes.size());
            ObjectNode row = rows.addObject();
            row.put("scanner", k);
            row.put("instances", g.sops.size());
            row.put("series", g.series.size());
            row.put("studies", g.studies.size());
            g.syntaxes.forEach(row.putArray("transfer_syntaxes")::add);
        });
        out.put("events", events);
        out.put("series_ready", ready.size());
        ObjectNode domains = out.putObject("series_by_domain");
        ready.values().forEach(r -> domains.put(String.valueOf(r.domainId()), domains.path(String.valueOf(r.domainId())).asInt(0) + 1));
        System.err.printf("series assembled on imaging.series.ready: %d of %d (by header domain: %s)%n", ready.size(), allSeries.size(), domains);
        out.put("instances", allSops.size());
        out.put("series", groups.values().stream().mapToInt(g -> g.series.size()).sum());
        out.put("studies", groups.values().stream().flatMap(g -> g.studies.stream()).distinct().count());
        System.out.println(out);
    }

    private static String nz(String s) {
        return s == null ? "?" : s;
    }
}
