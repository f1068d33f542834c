package org.imagingpipeline.retrain.service.replay;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.ReplayPredecessor;
import org.imagingpipeline.events.SegmentationResult;
import org.imagingpipeline.events.SeriesReady;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.kafka.KafkaClients;
import org.jboss.logging.Logger;

/**
 * After a domain's model is promoted, the series of that domain that completed within {@code window} before the
 * promotion are segmented again by the new model, so the patients scanned before it get the better model's report.
 * Kafka-native: the domain's SeriesReady records are read from imaging.series.ready (assigned, no group, from
 * offsetsForTimes(promotedAt - window) to the end offsets of the moment) and re-published there unchanged, with header
 * {@link SeriesReady#REPLAY_HEADER} naming the promotion (the drift detector and retrain's catalog skip such records;
 * records that are themselves replays are never replayed again). Inference's consumer group segments them like any
 * series; the result carries the new model version and fhir-bridge's supersede path files it as the series' current
 * report (the earlier one tagged superseded, with If-Match; Provenance naming both models). Only the latest revision of
 * a series is re-published; at most {@code maxSeries}, the most recent first. A series segmented by the new model
 * already (in flight at the promotion) is a redelivery of the same (series, version) downstream and changes nothing.
 * The service records the replay as owed ({@link PendingReplays}) before it runs, so a restart does not lose it.
 */
public final class PromotionReplay {
    private static final Logger LOG = Logger.getLogger(PromotionReplay.class);
    public static final String REPLAY_HEADER = SeriesReady.REPLAY_HEADER;

    private final KafkaClients clients;
    private final Duration window;
    private final int maxSeries;
    private final Duration timeout;
    private final JsonSerde<SeriesReady> serde = JsonSerde.of(SeriesReady.class);
    private final JsonSerde<SegmentationResult> resultSerde = JsonSerde.of(SegmentationResult.class);

    public PromotionReplay(KafkaClients clients, Duration window, int maxSeries, Duration timeout) {
        this.clients = clients;
        this.window = window;
        this.maxSeries = maxSeries;
        this.timeout = timeout;
    }

    /** What was re-published. */
    public record Replayed(String domainId, String version, int series, int skippedUnreadable) {
    }

    /** Re-publishes the domain's series that completed in [promotedAt - window, promotedAt). */
    public Replayed replay(String domainId, String version, Instant promotedAt) throws InterruptedException {
        if (window.isZero() || maxSeries <= 0) return new Replayed(domainId, version, 0, 0);
        Map<String, Read> latest = new HashMap<>();
        int[] unreadable = {0};
        long since = promotedAt.minus(window).toEpochMilli();
        scan(Topics.SERIES_READY, since, r -> {
            if (r.timestamp() >= promotedAt.toEpochMilli()) return;
            if (r.headers().lastHeader(REPLAY_HEADER) != null) return; // sent again by an earlier promotion
            SeriesReady s;
            try {
                s = serde.deserialize(r.topic(), r.value());
            } catch (RuntimeException e) {
                unreadable[0]++;
                return;
            }
            if (s == null || !domainId.equals(s.domainId())) return;
            latest.merge(s.seriesInstanceUid(), new Read(r, s.revision()), (a, b) -> b.revision() >= a.revision() ? b : a);
        });
        List<ConsumerRecord<String, byte[]>> chosen = new ArrayList<>(latest.values().stream().map(Read::record).toList());
        chosen.sort(Comparator.comparingLong((ConsumerRecord<String, byte[]> r) -> r.timestamp()).reversed());
        if (chosen.size() > maxSeries) chosen = chosen.subList(0, maxSeries);
        Map<String, ReplayPredecessor> predecessors = predecessors(
                chosen.stream().map(ConsumerRecord::key).collect(java.util.stream.Collectors.toSet()), version, since);
        String reason = "promotion of domain " + domainId + " to version " + version;
        try (KafkaProducer<String, byte[]> producer = clients.producer(Map.of(ProducerConfig.CLIENT_ID_CONFIG, "retrain-replay",
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(16 << 20)), new ByteArraySerializer())) {
            List<java.util.concurrent.Future<?>> acks = new ArrayList<>();
            for (ConsumerRecord<String, byte[]> r : chosen) {
                ProducerRecord<String, byte[]> out = new ProducerRecord<>(Topics.SERIES_READY, r.key(), r.value());
                out.headers().add(REPLAY_HEADER, reason.getBytes(StandardCharsets.UTF_8));
                ReplayPredecessor p = predecessors.get(r.key());
                if (p != null) out.headers().add(ReplayPredecessor.HEADER, p.toHeader());
                acks.add(producer.send(out));
            }
            for (java.util.concurrent.Future<?> f : acks) f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IllegalStateException("replay of domain " + domainId + " not acknowledged: " + e.getMessage(), e);
        }
        LOG.infof("domain %s: %d series completed in the %s before version %s's promotion sent to be segmented again"
                        + " (%d naming the report they supersede)", domainId, chosen.size(), window, version,
                chosen.stream().filter(r -> predecessors.containsKey(r.key())).count());
        return new Replayed(domainId, version, chosen.size(), unreadable[0]);
    }

    /**
     * For each series (key = SeriesInstanceUID), the SR of its latest OK result on imaging.segmentation.results, read
     * from {@code sinceMillis} to the end offsets of the moment, when a model version other than {@code promoted} made
     * it: the report the replayed series' new SR supersedes. None when the latest is the promoted version's own (the
     * series was segmented by it already, in flight at the promotion) or when no result is there yet (inference
     * behind); the new SR then names no predecessor.
     */
    private Map<String, ReplayPredecessor> predecessors(java.util.Set<String> series, String promoted, long sinceMillis)
            throws InterruptedException {
        Map<String, ReplayPredecessor> latest = new HashMap<>();
        if (series.isEmpty()) return latest;
        scan(Topics.SEGMENTATION_RESULTS, sinceMillis, r -> {
            if (r.key() == null || !series.contains(r.key())) return;
            SegmentationResult res;
            try {
                res = resultSerde.deserialize(r.topic(), r.value());
            } catch (RuntimeException e) {
                return;
            }
            if (res == null || res.status() != SegmentationResult.Status.OK || res.sr() == null) return;
            // records of one key share a partition and are read in order: the last one read is the latest
            latest.put(r.key(), new ReplayPredecessor(res.studyInstanceUid(), res.sr().seriesInstanceUid(),
                    res.sr().sopInstanceUid(), res.model().version()));
        });
        latest.values().removeIf(p -> promoted.equals(p.modelVersion()) || !p.valid());
        return latest;
    }

    /** Every record of {@code topic} from {@code sinceMillis} to the end offsets of the moment (assigned, no group). */
    private void scan(String topic, long sinceMillis, java.util.function.Consumer<ConsumerRecord<String, byte[]>> visit)
            throws InterruptedException {
        try (KafkaConsumer<String, byte[]> consumer = clients.consumer(Map.of(ConsumerConfig.CLIENT_ID_CONFIG, "retrain-replay",
                ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(17 << 20),
                ConsumerConfig.FETCH_MAX_BYTES_CONFIG, Integer.toString(34 << 20)), new ByteArrayDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(topic, timeout).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
            Map<TopicPartition, Long> since = new HashMap<>();
            for (TopicPartition tp : partitions) since.put(tp, sinceMillis);
            Map<TopicPartition, OffsetAndTimestamp> from = consumer.offsetsForTimes(since, timeout);
            for (TopicPartition tp : partitions) {
                OffsetAndTimestamp o = from.get(tp);
                consumer.seek(tp, o == null ? end.get(tp) : o.offset());
            }
            long deadline = System.nanoTime() + timeout.toNanos();
            while (!reached(consumer, end) && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    if (r.value() != null) visit.accept(r);
                }
                if (Thread.interrupted()) throw new InterruptedException();
            }
        }
    }

    /** A record read and its series' revision (decoded once). */
    private record Read(ConsumerRecord<String, byte[]> record, int revision) {
    }

    private static boolean reached(KafkaConsumer<String, byte[]> c, Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) if (c.position(e.getKey()) < e.getValue()) return false;
        return true;
    }
}
