package org.imagingpipeline.streams.deadletter;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Metrics;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.kafka.ConsumeLoop;
import org.imagingpipeline.kafka.dlq.DlqHeaders;
import org.jboss.logging.Logger;

/**
 * The streams service's dead-letter topic, written by its exception handlers ({@link DeadLetterDeserializationHandler},
 * {@link DeadLetterProcessingHandler}, {@link DeadLetterProductionHandler}): the input record as it was read, with the
 * project's headers {@code dlq.reason} and {@code dlq.source} (topic-partition@offset, as kafka-support's
 * {@link ConsumeLoop} writes them), {@code dlq.value} = {@code source} (the value is the input record as read), plus
 * {@code dlq.stage} and {@code dlq.processor}; {@code ./pipeline dlq list|replay} reads them ({@link DlqHeaders}).
 *
 * <p>Kafka Streams 4.1 gives exception handlers no way to emit records into the task's transaction, so the DLQ record
 * goes through this idempotent producer (acks=all) and the handler waits for its acknowledgement before it answers
 * CONTINUE: the input offset is committed only after its dead letter is durable. A crash between the two re-reads the
 * record and dead-letters it again (the same {@code dlq.source}). When the DLQ cannot be written within the ack timeout
 * the handler answers FAIL; the stream thread is then replaced (after a backoff, {@code StreamThreadFailures}) and reads
 * the record again: the record waits, it is never lost.
 *
 * <p>One instance per application id and bootstrap address (the handlers are created by Kafka Streams from class names,
 * one per thread or task); {@link #closeAll()} at shutdown. Counts per stage feed the health check and the metric
 * {@code streams_dlq_records_total{topic,stage}}.
 */
public final class DeadLetters implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DeadLetters.class);
    /** Streams setting: the dead-letter topic (default {@link Topics#STREAMS_DLQ}). */
    public static final String TOPIC_CONFIG = "imaging.dlq.topic";
    /** Streams setting: how long a handler waits for the DLQ record's acknowledgement, ms (default 10000). */
    public static final String ACK_TIMEOUT_CONFIG = "imaging.dlq.ack-timeout.ms";
    /** Header: which handler dead-lettered the record (deserialization, processing, production). */
    public static final String DLQ_STAGE = DlqHeaders.STAGE;
    /** Header: the processor node that failed (or the sink that could not write). */
    public static final String DLQ_PROCESSOR = DlqHeaders.PROCESSOR;
    private static final int MAX_REASON = 1000;
    private static final Map<String, DeadLetters> INSTANCES = new ConcurrentHashMap<>();

    /** The stages, each a handler and a {@code stage} tag value. */
    public enum Stage {
        DESERIALIZATION, PROCESSING, PRODUCTION;

        public String tag() {
            return name().toLowerCase();
        }
    }

    /** One dead-lettered record as health reports it (no record contents). */
    public record Last(Stage stage, String reason, String source, Instant at) {
    }

    private final String topic;
    private final Duration ackTimeout;
    private final Map<String, Object> producerConfig;
    private final MeterRegistry meters;
    private final Map<Stage, AtomicLong> counts = new ConcurrentHashMap<>();
    private final AtomicReference<Last> last = new AtomicReference<>();
    private volatile KafkaProducer<byte[], byte[]> producer;

    private DeadLetters(String topic, Duration ackTimeout, Map<String, Object> producerConfig, MeterRegistry meters) {
        this.topic = topic;
        this.ackTimeout = ackTimeout;
        this.producerConfig = producerConfig;
        this.meters = meters;
        for (Stage s : Stage.values()) counts.put(s, new AtomicLong());
    }

    /** The instance for these Kafka Streams settings (as a handler's {@code configure} receives them). */
    public static DeadLetters forConfig(Map<String, ?> configs) {
        String topic = String.valueOf(configs.containsKey(TOPIC_CONFIG) ? configs.get(TOPIC_CONFIG) : Topics.STREAMS_DLQ);
        Duration timeout = Duration.ofMillis(configs.containsKey(ACK_TIMEOUT_CONFIG)
                ? Long.parseLong(String.valueOf(configs.get(ACK_TIMEOUT_CONFIG))) : 10_000);
        String key = configs.get(StreamsConfig.APPLICATION_ID_CONFIG) + "|" + configs.get(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG) + "|" + topic;
        return INSTANCES.computeIfAbsent(key, k -> new DeadLetters(topic, timeout, producerConfig(configs), Metrics.globalRegistry));
    }

    /** Every instance of this JVM (the health check reports them). */
    public static Collection<DeadLetters> all() {
        return List.copyOf(INSTANCES.values());
    }

    /** Closes every instance's producer (service shutdown, tests). */
    public static void closeAll() {
        for (String k : List.copyOf(INSTANCES.keySet())) {
            DeadLetters d = INSTANCES.remove(k);
            if (d != null) d.close();
        }
    }

    private static Map<String, Object> producerConfig(Map<String, ?> configs) {
        String appId = String.valueOf(configs.get(StreamsConfig.APPLICATION_ID_CONFIG));
        // The same connection settings (security included) as the streams' own producers.
        Map<String, Object> p = new StreamsConfig(configs).getProducerConfigs(appId + "-dlq");
        p.remove(ProducerConfig.TRANSACTIONAL_ID_CONFIG);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 16 << 20);
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 10_000);
        return p;
    }

    private KafkaProducer<byte[], byte[]> producer() {
        KafkaProducer<byte[], byte[]> p = producer;
        if (p == null) {
            synchronized (this) {
                if (producer == null) producer = new KafkaProducer<>(producerConfig, new ByteArraySerializer(), new ByteArraySerializer());
                p = producer;
            }
        }
        return p;
    }

    public String topic() {
        return topic;
    }

    /**
     * Writes one dead letter and waits for its acknowledgement.
     *
     * @param source    topic-partition@offset of the input record (null: not from an input record, e.g. a punctuation)
     * @param processor the processor node, or null
     * @return true once the broker acknowledged it; false when it could not be written (logged)
     */
    public boolean send(Stage stage, String reason, String source, String processor, byte[] key, byte[] value) {
        String r = reason.length() > MAX_REASON ? reason.substring(0, MAX_REASON) + "..." : reason;
        ProducerRecord<byte[], byte[]> rec = new ProducerRecord<>(topic, key, value);
        rec.headers().add(ConsumeLoop.DLQ_REASON, r.getBytes(StandardCharsets.UTF_8));
        if (source != null) rec.headers().add(ConsumeLoop.DLQ_SOURCE, source.getBytes(StandardCharsets.UTF_8));
        // The value is always the input record as it was read: ./pipeline dlq replay re-injects it as it is.
        DlqHeaders.add(rec.headers(), DlqHeaders.VALUE, DlqHeaders.VALUE_SOURCE);
        rec.headers().add(DLQ_STAGE, stage.tag().getBytes(StandardCharsets.UTF_8));
        if (processor != null) rec.headers().add(DLQ_PROCESSOR, processor.getBytes(StandardCharsets.UTF_8));
        try {
            producer().send(rec).get(ackTimeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            LOG.errorf("%s: %s not dead-lettered (interrupted); it will be read again", topic, source);
            return false;
        } catch (Exception e) {
            LOG.errorf("%s: %s could not be dead-lettered (%s); it will be read again after the stream thread is replaced",
                    topic, source, e.toString());
            return false;
        }
        counts.get(stage).incrementAndGet();
        last.set(new Last(stage, r, source, Instant.now()));
        Counter.builder("streams.dlq.records").description("records written to the streams dead-letter topic")
                .tag("topic", topic).tag("stage", stage.tag()).register(meters).increment();
        LOG.warnf("dead-lettered %s to %s (%s, processor %s): %s", source, topic, stage.tag(), processor, r);
        return true;
    }

    /** Records dead-lettered by this instance, per stage. */
    public Map<Stage, Long> counts() {
        Map<Stage, Long> m = new java.util.EnumMap<>(Stage.class);
        counts.forEach((s, c) -> m.put(s, c.get()));
        return m;
    }

    public long total() {
        return counts.values().stream().mapToLong(AtomicLong::get).sum();
    }

    /** The last dead letter, null when none. */
    public Last last() {
        return last.get();
    }

    @Override
    public void close() {
        KafkaProducer<byte[], byte[]> p = producer;
        if (p != null) p.close(Duration.ofSeconds(5));
    }
}
