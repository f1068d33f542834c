package org.imagingpipeline.inference;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.SegmentationResult;
import org.imagingpipeline.events.SeriesReady;
import org.jboss.logging.Logger;

/**
 * The consume-segment-publish-commit loop on its own thread, with a plain {@link KafkaConsumer} (auto-commit off):
 * a series' offset is committed only after its result (and, for failures, its DLQ record) was acknowledged by the
 * broker (acks=all), so a crash re-segments the series rather than lose it; the result's eventId (series, model
 * version) makes the repeat recognisable. Before the first series it reads the model registry and, when the
 * registry has no default model, registers the configured source model.
 *
 * <p>Revisions: a series re-emitted by streams (LATE_UPDATE) replaces the earlier revision. A record whose revision
 * is lower than one already segmented, or than a later revision of the same series in the same poll, is skipped
 * (log line + {@code inference_series_superseded_total}) and committed.
 */
public final class InferenceLoop implements Runnable, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(InferenceLoop.class);
    private static final int REMEMBERED_SERIES = 100_000;

    /**
     * @param sourceModel     the model to register as the default when the registry has none; null = never
     * @param registryTimeout how long one registry refresh may wait for the topic's end
     */
    public record Settings(String bootstrapServers, String groupId, String seriesTopic, String resultsTopic,
                           String dlqTopic, String modelsTopic, Map<String, String> extraKafka, Path sourceModel,
                           String sourceModelName, Duration registryTimeout) {
    }

    private final Settings settings;
    private final SeriesProcessor processor;
    private final ModelRouter router;
    private final InferenceMetrics metrics;
    private final KafkaConsumer<String, byte[]> consumer;
    private final KafkaProducer<String, byte[]> producer;
    private final JsonSerde<SeriesReady> seriesSerde = JsonSerde.of(SeriesReady.class);
    private final JsonSerde<SegmentationResult> resultSerde = JsonSerde.of(SegmentationResult.class);
    private final Map<String, Integer> highestDone = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Integer> eldest) {
            return size() > REMEMBERED_SERIES;
        }
    };
    private volatile boolean running = true;
    private volatile boolean ready;
    private volatile Instant lastPoll = Instant.EPOCH;
    private volatile long handled;
    private Thread thread;

    public InferenceLoop(Settings settings, SeriesProcessor processor, ModelRouter router, InferenceMetrics metrics) {
        this.settings = settings;
        this.processor = processor;
        this.router = router;
        this.metrics = metrics;
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, settings.groupId());
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        // A series takes seconds on CPU: few records per poll keep the loop well inside max.poll.interval.ms.
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "8");
        c.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(16 << 20));
        c.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, Integer.toString(32 << 20));
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, "inference-consumer");
        c.putAll(settings.extraKafka());
        this.consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(16 << 20));
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "inference-producer");
        p.putAll(settings.extraKafka());
        this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }

    public synchronized InferenceLoop start() {
        thread = new Thread(this, "inference-loop");
        thread.setDaemon(true);
        thread.start();
        return this;
    }

    public boolean isAlive() {
        return thread != null && thread.isAlive() && running;
    }

    /** True once the registry was read (and the source model registered when needed) and the loop consumes. */
    public boolean ready() {
        return ready;
    }

    public Instant lastPoll() {
        return lastPoll;
    }

    /** Records handled and committed so far. */
    public long handled() {
        return handled;
    }

    @Override
    public void run() {
        try {
            readRegistry();
            consumer.subscribe(List.of(settings.seriesTopic()));
            ready = true;
            while (running) {
                ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(500));
                lastPoll = Instant.now();
                Map<String, Integer> latestInPoll = latestRevisions(records);
                for (TopicPartition tp : records.partitions()) {
                    for (ConsumerRecord<String, byte[]> rec : records.records(tp)) {
                        if (!running || !handle(tp, rec, latestInPoll)) break;
                    }
                }
            }
        } catch (WakeupException e) {
            if (running) throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.error("inference loop failed; uncommitted series will be redelivered", e);
            running = false;
            throw e;
        } finally {
            try {
                consumer.close(Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                LOG.debug("consumer close", e);
            }
            producer.close(Duration.ofSeconds(5));
            router.close();
        }
    }

    private void readRegistry() throws InterruptedException {
        while (running) {
            try {
                if (router.refresh(settings.registryTimeout())) break;
            } catch (KafkaException | IllegalStateException e) {
                LOG.warnf("model registry %s not readable yet (%s); retrying", settings.modelsTopic(), e.getMessage());
            }
            Thread.sleep(1000);
        }
        if (!router.hasDefault() && settings.sourceModel() != null) {
            try {
                new SourceModelRegistrar(producer, settings.modelsTopic()).register(settings.sourceModel(), settings.sourceModelName());
                router.refresh(settings.registryTimeout());
            } catch (IOException e) {
                LOG.errorf("the source model was not registered: %s; series will get ERROR results (NO_MODEL) until a"
                        + " default model is promoted", e.getMessage());
            }
        } else if (!router.hasDefault()) {
            LOG.warn("no default model on the registry and inference.source-model is not set: series of domains without"
                    + " their own model get ERROR results (NO_MODEL)");
        }
    }

    private Map<String, Integer> latestRevisions(ConsumerRecords<String, byte[]> records) {
        Map<String, Integer> latest = new HashMap<>();
        for (ConsumerRecord<String, byte[]> r : records) {
            SeriesReady s = decode(r);
            if (s != null) latest.merge(s.seriesInstanceUid(), s.revision(), Math::max);
        }
        return latest;
    }

    private SeriesReady decode(ConsumerRecord<String, byte[]> rec) {
        try {
            return seriesSerde.deserialize(rec.topic(), rec.value());
        } catch (SerializationException | IllegalArgumentException | NullPointerException e) {
            return null;
        }
    }

    /** @return true to go on with the partition's next record; false after rewinding to retry this one */
    private boolean handle(TopicPartition tp, ConsumerRecord<String, byte[]> rec, Map<String, Integer> latestInPoll)
            throws InterruptedException {
        String source = rec.topic() + "-" + rec.partition() + "@" + rec.offset();
        try {
            if (rec.value() != null) {
                SeriesReady series = decode(rec);
                if (series == null) {
                    LOG.errorf("%s (key %s) is not a readable SeriesReady: dead-lettered", source, rec.key());
                    send(settings.dlqTopic(), rec.key(), rec.value(), "UNREADABLE_EVENT", source);
                    metrics.deadLettered("UNREADABLE_EVENT");
                } else if (superseded(series, latestInPoll)) {
                    metrics.superseded();
                    LOG.infof("series %s revision %d skipped: a later revision is or was segmented", series.seriesInstanceUid(),
                            series.revision());
                } else {
                    segment(series, source);
                }
            }
        } catch (KafkaException | java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            LOG.warnf("%s: result not acknowledged by Kafka (%s); retrying in 1 s", source, e.getMessage());
            consumer.seek(tp, rec.offset());
            Thread.sleep(1000);
            return false;
        }
        try {
            consumer.commitSync(Map.of(tp, new OffsetAndMetadata(rec.offset() + 1)));
        } catch (CommitFailedException e) {
            LOG.warnf("commit of %s failed (%s); the series will be redelivered, harmlessly", source, e.getMessage());
            return false;
        }
        handled++;
        return true;
    }

    private boolean superseded(SeriesReady s, Map<String, Integer> latestInPoll) {
        Integer done = highestDone.get(s.seriesInstanceUid());
        return (done != null && s.revision() < done) || s.revision() < latestInPoll.getOrDefault(s.seriesInstanceUid(), 0);
    }

    private void segment(SeriesReady series, String source) throws InterruptedException,
            java.util.concurrent.ExecutionException, java.util.concurrent.TimeoutException {
        try {
            router.refresh(settings.registryTimeout());
        } catch (KafkaException | IllegalStateException e) {
            LOG.warnf("model registry not refreshed (%s); using the routes read before", e.getMessage());
        }
        SeriesProcessor.Outcome out = processor.process(series);
        byte[] value = resultSerde.serialize(settings.resultsTopic(), out.result());
        var resultAck = producer.send(new ProducerRecord<>(settings.resultsTopic(), series.seriesInstanceUid(), value));
        if (out.dlqReason() != null) {
            send(settings.dlqTopic(), series.seriesInstanceUid(), value, out.dlqReason(), source);
            metrics.deadLettered(out.dlqReason().split(":")[0]);
        }
        resultAck.get(30, TimeUnit.SECONDS);
        highestDone.put(series.seriesInstanceUid(), series.revision());
    }

    private void send(String topic, String key, byte[] value, String reason, String source) throws InterruptedException,
            java.util.concurrent.ExecutionException, java.util.concurrent.TimeoutException {
        ProducerRecord<String, byte[]> r = new ProducerRecord<>(topic, key, value);
        r.headers().add("dlq.reason", reason.getBytes(StandardCharsets.UTF_8));
        r.headers().add("dlq.source", source.getBytes(StandardCharsets.UTF_8));
        producer.send(r).get(30, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        consumer.wakeup();
        if (thread != null) thread.join(30_000);
    }
}
