package org.imagingpipeline.retrain.service;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.imagingpipeline.events.EventJson;
import org.imagingpipeline.events.ReplayPredecessor;
import org.imagingpipeline.events.SegmentationResult;
import org.imagingpipeline.events.SeriesReady;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.kafka.KafkaClients;
import org.imagingpipeline.retrain.service.replay.PromotionReplay;
import org.junit.jupiter.api.Test;

/**
 * After a promotion the domain's series from before it are sent again (real broker): only that domain's, only those
 * before the promotion, each series once at its latest revision, marked with the replay header and naming the SR of
 * its latest result by another model version.
 */
class PromotionReplayTest {
    @Test
    void theDomainsSeriesBeforeThePromotionAreSentAgainOnce() throws Exception {
        String bootstrap = TestBroker.bootstrap();
        String domain = "dom-replay-" + UUID.randomUUID().toString().substring(0, 8);
        String a = "2.25.1" + System.nanoTime(), b = a + "1", other = a + "2", after = a + "3";
        TestBroker.send(bootstrap, Topics.SERIES_READY, a, TestDicom.seriesReady(domain, a, 1, List.of()), SeriesReady.class);
        TestBroker.send(bootstrap, Topics.SERIES_READY, a, TestDicom.seriesReady(domain, a, 2, List.of()), SeriesReady.class);
        TestBroker.send(bootstrap, Topics.SERIES_READY, b, TestDicom.seriesReady(domain, b, 1, List.of()), SeriesReady.class);
        TestBroker.send(bootstrap, Topics.SERIES_READY, other, TestDicom.seriesReady("dom-other", other, 1, List.of()), SeriesReady.class);
        // the reports so far: a by version 5, then by 6 (its current report: the one the replay supersedes); b by 6,
        // then already by the promoted 7 (in flight at the promotion: nothing to supersede); an ERROR result names none
        TestBroker.send(bootstrap, Topics.SEGMENTATION_RESULTS, a, result(a, "5", SegmentationResult.Status.OK), SegmentationResult.class);
        TestBroker.send(bootstrap, Topics.SEGMENTATION_RESULTS, a, result(a, "6", SegmentationResult.Status.OK), SegmentationResult.class);
        TestBroker.send(bootstrap, Topics.SEGMENTATION_RESULTS, a, result(a, "6b", SegmentationResult.Status.ERROR), SegmentationResult.class);
        TestBroker.send(bootstrap, Topics.SEGMENTATION_RESULTS, b, result(b, "6", SegmentationResult.Status.OK), SegmentationResult.class);
        Thread.sleep(20); // record timestamps are in milliseconds
        Instant promotedAt = Instant.now();
        Thread.sleep(20);
        TestBroker.send(bootstrap, Topics.SERIES_READY, after, TestDicom.seriesReady(domain, after, 1, List.of()), SeriesReady.class);
        TestBroker.send(bootstrap, Topics.SEGMENTATION_RESULTS, b, result(b, "7", SegmentationResult.Status.OK), SegmentationResult.class);

        PromotionReplay.Replayed r = new PromotionReplay(KafkaClients.of(bootstrap), Duration.ofHours(1), 100, Duration.ofSeconds(30))
                .replay(domain, "7", promotedAt);
        assertEquals(2, r.series());

        List<ConsumerRecord<String, byte[]>> sent = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> rec : readAll(bootstrap)) {
            if (rec.headers().lastHeader(PromotionReplay.REPLAY_HEADER) != null) sent.add(rec);
        }
        assertEquals(2, sent.size(), "a (latest revision) and b, not the other domain's, not the one after the promotion");
        for (ConsumerRecord<String, byte[]> rec : sent) {
            SeriesReady s = EventJson.mapper().readValue(rec.value(), SeriesReady.class);
            assertEquals(domain, s.domainId());
            assertEquals(rec.key(), s.seriesInstanceUid());
            if (s.seriesInstanceUid().equals(a)) assertEquals(2, s.revision());
            Header h = rec.headers().lastHeader(PromotionReplay.REPLAY_HEADER);
            assertEquals("promotion of domain " + domain + " to version 7", new String(h.value(), StandardCharsets.UTF_8));
            Header p = rec.headers().lastHeader(ReplayPredecessor.HEADER);
            if (s.seriesInstanceUid().equals(a)) {
                // the SR of a's latest OK result by another version: the new SR names it as its predecessor
                assertEquals(Optional.of(new ReplayPredecessor(s.studyInstanceUid(), a + ".8", a + ".8.6", "6")),
                        ReplayPredecessor.fromHeader(p.value()));
            } else {
                assertNull(p, "b's latest result is the promoted version's own");
            }
        }
        assertEquals(List.of(a, b), sent.stream().map(ConsumerRecord::key).sorted().toList());
    }

    /** A result with SR UIDs derived from (series, version), as inference's are. */
    private static SegmentationResult result(String series, String version, SegmentationResult.Status status) {
        boolean ok = status == SegmentationResult.Status.OK;
        return new SegmentationResult(SegmentationResult.SCHEMA_VERSION, SegmentationResult.eventIdFor(series, version), status,
                ok ? null : "PIXEL_LIMITS: test", TestDicom.seriesReady("d", series, 1, List.of()).studyInstanceUid(), series,
                List.of(), "PAT-1", null, null, "MR", 1, null, "d", new SegmentationResult.Model("m", version, null), null,
                null, ok ? new SegmentationResult.Sr(series + ".8." + version.replaceAll("[^0-9]", ""), series + ".8", null, null) : null,
                null, Instant.now());
    }

    /** Every record on imaging.series.ready (the replay header tells the re-sent ones apart). */
    private static List<ConsumerRecord<String, byte[]>> readAll(String bootstrap) {
        List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = consumer(bootstrap)) {
            List<TopicPartition> parts = partitions(c);
            c.assign(parts);
            c.seekToBeginning(parts);
            Map<TopicPartition, Long> end = c.endOffsets(parts);
            while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp))) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(500))) out.add(r);
            }
        }
        return out;
    }

    private static KafkaConsumer<String, byte[]> consumer(String bootstrap) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        return new KafkaConsumer<>(p, new StringDeserializer(), new ByteArrayDeserializer());
    }

    private static List<TopicPartition> partitions(KafkaConsumer<String, byte[]> c) {
        return c.partitionsFor(Topics.SERIES_READY).stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
    }
}
