package org.imagingpipeline.retrain.service;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
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
import org.imagingpipeline.events.SeriesReady;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.kafka.KafkaClients;
import org.imagingpipeline.retrain.service.replay.PromotionReplay;
import org.junit.jupiter.api.Test;

/**
 * After a promotion the domain's series from before it are sent again (real broker): only that domain's, only those
 * before the promotion, each series once at its latest revision, marked with the replay header.
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
        Thread.sleep(20); // record timestamps are in milliseconds
        Instant promotedAt = Instant.now();
        Thread.sleep(20);
        TestBroker.send(bootstrap, Topics.SERIES_READY, after, TestDicom.seriesReady(domain, after, 1, List.of()), SeriesReady.class);

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
        }
        assertEquals(List.of(a, b), sent.stream().map(ConsumerRecord::key).sorted().toList());
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
