package org.imagingpipeline.kafka;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.imagingpipeline.kafka.dlq.DlqHeaders;
import org.jboss.logging.Logger;

/**
 * The services' one consume loop, on its own thread, with a plain consumer (auto-commit off, read_committed):
 * <ul>
 *   <li>records of a partition are handled strictly in order, one at a time, by a {@link Handler} that says what
 *       became of each ({@link Outcome});</li>
 *   <li>a record's offset is committed (synchronously) only after every output record of its outcome, and its
 *       dead-letter record when it has one, was acknowledged by the broker (idempotent producer, acks=all): a crash
 *       in between redelivers the record, nothing acknowledged is lost;</li>
 *   <li>a transient failure ({@link Outcome#retry}, or outputs not acknowledged) pauses that one partition, rewinds
 *       it to the record and tries the record again after an exponential backoff with jitter, for as long as the
 *       failure lasts; the loop keeps polling meanwhile, so the consumer stays in its group and the other partitions
 *       move on;</li>
 *   <li>a permanent failure ({@link Outcome#deadLetter}) goes to the dead-letter topic with its reason and the partition
 *       moves on; headers ({@link DlqHeaders}) {@code dlq.reason}, {@code dlq.source} (topic-partition@offset),
 *       {@code dlq.value} ({@code source} when the dead letter's value is the consumed record's bytes, {@code derived}
 *       when the handler gave another value), {@code dlq.loop}, and {@code dlq.replay.of} when the consumed record was
 *       itself replayed from a dead-letter topic ({@code ./pipeline dlq replay});</li>
 *   <li>a record that makes the handler throw (a poison record, or a defect) goes to {@link Handler#poison}: by
 *       default it is retried with backoff a few times, then dead-lettered with the exception as its reason; never
 *       a crash loop.</li>
 * </ul>
 * Health: {@link #isAlive()}, {@link #started()}, {@link #lastPoll()}, {@link #assignedPartitions()},
 * {@link #retryState()}, {@link #deadLettered()} ({@link LoopHealth} reports them). Metrics (tag {@code loop}):
 * {@code kafka_loop_records_total{outcome}}, {@code kafka_loop_retries_total{reason}}, {@code kafka_loop_waiting_partitions},
 * {@code kafka_dlq_records_total{topic}} (one counter per dead-letter topic).
 */
public final class ConsumeLoop extends PollingThread {
    private static final Logger LOG = Logger.getLogger(ConsumeLoop.class);
    /** Header of a dead-letter record: why it was dead-lettered. */
    public static final String DLQ_REASON = DlqHeaders.REASON;
    /** Header of a dead-letter record: topic-partition@offset of the record it stands for. */
    public static final String DLQ_SOURCE = DlqHeaders.SOURCE;

    /**
     * @param name            thread name, client id prefix and the {@code loop} tag of the metrics
     * @param groupId         consumer group
     * @param topics          topics to subscribe to
     * @param dlqTopic        dead-letter topic; null = none (dead letters then wait and retry, as outputs would)
     * @param backoff         retry policy for transient failures
     * @param poisonAttempts  attempts at a record that makes the handler throw before the default
     *                        {@link Handler#poison} dead-letters it
     * @param ackTimeout      how long to wait for the broker to acknowledge the outputs of one record
     * @param consumerDefaults consumer properties of this loop (poll size, fetch sizes), below the kafka.* settings
     * @param producerDefaults producer properties of this loop (max.request.size), below the kafka.* settings
     */
    public record Settings(String name, String groupId, List<String> topics, String dlqTopic, Backoff backoff,
                           int poisonAttempts, Duration ackTimeout, Map<String, ?> consumerDefaults,
                           Map<String, ?> producerDefaults) {
        public Settings {
            topics = List.copyOf(topics);
            consumerDefaults = Map.copyOf(consumerDefaults);
            producerDefaults = Map.copyOf(producerDefaults);
        }

        /** One topic, the default backoff (0.5 s doubling to 60 s, jitter 0.5), 5 poison attempts, 30 s ack timeout. */
        public static Settings of(String name, String groupId, String topic, String dlqTopic) {
            return new Settings(name, groupId, List.of(topic), dlqTopic, Backoff.DEFAULT, 5, Duration.ofSeconds(30),
                    Map.of(), Map.of());
        }

        public Settings withTopics(String... more) {
            return new Settings(name, groupId, Arrays.asList(more), dlqTopic, backoff, poisonAttempts, ackTimeout,
                    consumerDefaults, producerDefaults);
        }

        public Settings withBackoff(Backoff b) {
            return new Settings(name, groupId, topics, dlqTopic, b, poisonAttempts, ackTimeout, consumerDefaults,
                    producerDefaults);
        }

        public Settings withConsumer(Map<String, ?> c) {
            return new Settings(name, groupId, topics, dlqTopic, backoff, poisonAttempts, ackTimeout, c, producerDefaults);
        }

        public Settings withProducer(Map<String, ?> p) {
            return new Settings(name, groupId, topics, dlqTopic, backoff, poisonAttempts, ackTimeout, consumerDefaults, p);
        }
    }

    /** The n-th attempt at one record (1 = first) and when the first started. */
    public record Attempt(int number, Instant first) {
    }

    /** What the service does with each record. */
    public interface Handler {
        /** On the loop's thread before it subscribes (warm-up, reading a registry); may wait while the loop runs. */
        default void start(ConsumeLoop loop) throws InterruptedException {
        }

        /** Every poll's records, before they are handled one by one (e.g. to skip what a later record supersedes). */
        default void polled(ConsumerRecords<String, byte[]> records) {
        }

        /** What became of the record; must not commit or send by itself. */
        Outcome handle(ConsumerRecord<String, byte[]> record, Attempt attempt) throws InterruptedException;

        /**
         * The record made {@link #handle} throw. Default: retry with backoff until {@code poisonAttempts}, then
         * dead-letter the record as it is with the reason {@code POISON: <exception>}.
         */
        default Outcome poison(ConsumerRecord<String, byte[]> record, RuntimeException e, Attempt attempt, int poisonAttempts) {
            if (attempt.number() < poisonAttempts) return Outcome.retry("internal_error", e.toString());
            return Outcome.deadLetter("POISON: " + e, record.value());
        }

        /** A retry the loop decided by itself (outputs not acknowledged, a poison record): for the service's metrics. */
        default void retrying(ConsumerRecord<String, byte[]> record, String reason, String detail) {
        }
    }

    /** What became of one record. */
    public static final class Outcome {
        private final List<ProducerRecord<String, byte[]>> outputs;
        private final String dlqReason;
        private final byte[] dlqValue;
        private final String retryReason;
        private final String retryDetail;
        private Runnable onAcked = () -> { };

        private Outcome(List<ProducerRecord<String, byte[]>> outputs, String dlqReason, byte[] dlqValue,
                        String retryReason, String retryDetail) {
            this.outputs = outputs;
            this.dlqReason = dlqReason;
            this.dlqValue = dlqValue;
            this.retryReason = retryReason;
            this.retryDetail = retryDetail;
        }

        /** Done: send these records (maybe none), commit once all are acknowledged. */
        @SafeVarargs
        public static Outcome done(ProducerRecord<String, byte[]>... outputs) {
            return new Outcome(List.of(outputs), null, null, null, null);
        }

        /** Permanent failure: {@code value} to the dead-letter topic with {@code reason} (plus any outputs), then commit. */
        @SafeVarargs
        public static Outcome deadLetter(String reason, byte[] value, ProducerRecord<String, byte[]>... outputs) {
            return new Outcome(List.of(outputs), reason, value, null, null);
        }

        /** Transient failure: try the same record again after a backoff; nothing is sent or committed. */
        public static Outcome retry(String reason, String detail) {
            return new Outcome(List.of(), null, null, reason, detail);
        }

        /** Runs once everything of this outcome was acknowledged (e.g. a metric that must count only what is durable). */
        public Outcome then(Runnable r) {
            Runnable before = onAcked;
            onAcked = () -> {
                before.run();
                r.run();
            };
            return this;
        }

        public boolean isRetry() {
            return retryReason != null;
        }

        public String deadLetterReason() {
            return dlqReason;
        }
    }

    private record Waiting(long offset, int attempts, Instant firstAttempt, long resumeAtNanos) {
    }

    private final Settings settings;
    private final Handler handler;
    private final KafkaProducer<String, byte[]> producer;
    private final MeterRegistry meters;
    private final Map<TopicPartition, Waiting> waiting = new HashMap<>();
    private volatile boolean started;
    private volatile int assigned = -1;
    private volatile long handled;
    private volatile String lastRetryReason;
    private volatile long deadLettered;
    private volatile String lastDeadLetter;

    /** @param meters where the loop's metrics go; null = none */
    public ConsumeLoop(KafkaClients clients, Settings settings, Handler handler, MeterRegistry meters) {
        super(settings.name(), clients.consumer(consumerDefaults(settings)));
        this.settings = settings;
        this.handler = handler;
        this.meters = meters;
        Map<String, Object> p = new HashMap<>(settings.producerDefaults());
        p.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, settings.name() + "-producer");
        this.producer = clients.producer(p);
        if (meters != null) {
            Gauge.builder("kafka.loop.waiting.partitions", this, l -> l.waitingCount())
                    .description("partitions paused until a record is retried").tag("loop", settings.name()).register(meters);
        }
    }

    private static Map<String, Object> consumerDefaults(Settings s) {
        Map<String, Object> c = new HashMap<>(s.consumerDefaults());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, s.groupId());
        c.putIfAbsent(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.putIfAbsent(ConsumerConfig.CLIENT_ID_CONFIG, s.name() + "-consumer");
        return c;
    }

    @Override
    public ConsumeLoop start() {
        super.start();
        return this;
    }

    /** The loop's producer, for a {@link Handler#start} that must publish before consuming. */
    public KafkaProducer<String, byte[]> producer() {
        return producer;
    }

    public Settings settings() {
        return settings;
    }

    /** True once {@link Handler#start} returned and the consumer subscribed. */
    public boolean started() {
        return started;
    }

    /** Partitions this consumer holds; -1 until it first joined its group (so: Kafka not reached yet). */
    public int assignedPartitions() {
        return assigned;
    }

    /** Records handled and committed so far. */
    public long handled() {
        return handled;
    }

    /** Records dead-lettered so far (acknowledged by the broker). */
    public long deadLettered() {
        return deadLettered;
    }

    /** The last dead letter's reason, source and time; null when none. */
    public String lastDeadLetter() {
        return lastDeadLetter;
    }

    /** Partitions currently waiting to retry a record, and why the last retry happened. */
    public synchronized String retryState() {
        return waiting.isEmpty() ? "none" : waiting.size() + " partition(s) waiting, last reason " + lastRetryReason;
    }

    private synchronized int waitingCount() {
        return waiting.size();
    }

    @Override
    protected void consume() throws InterruptedException {
        handler.start(this);
        if (!running()) return;
        consumer.subscribe(settings.topics(), new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                assigned = Math.max(0, assigned - partitions.size());
                synchronized (ConsumeLoop.this) {
                    partitions.forEach(waiting::remove);
                }
            }

            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                assigned = Math.max(0, assigned) + partitions.size();
                LOG.infof("%s: assigned %s", name(), partitions);
            }
        });
        started = true;
        while (running()) {
            resumeDue();
            ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(500));
            polled();
            if (records.isEmpty()) continue;
            handler.polled(records);
            for (TopicPartition tp : records.partitions()) {
                for (ConsumerRecord<String, byte[]> rec : records.records(tp)) {
                    if (!running() || !handle(tp, rec)) break;
                }
            }
        }
    }

    @Override
    protected void closed() {
        producer.close(Duration.ofSeconds(5));
    }

    /** @return true to go on with the partition's next record, false when the partition now waits (or was revoked) */
    private boolean handle(TopicPartition tp, ConsumerRecord<String, byte[]> rec) throws InterruptedException {
        Waiting w;
        synchronized (this) {
            w = waiting.get(tp);
        }
        boolean again = w != null && w.offset() == rec.offset();
        Attempt attempt = new Attempt(again ? w.attempts() + 1 : 1, again ? w.firstAttempt() : Instant.now());
        Outcome o;
        try {
            o = handler.handle(rec, attempt);
        } catch (RuntimeException e) {
            LOG.errorf(e, "%s: %s threw on attempt %d (key %s)", name(), source(rec), attempt.number(), rec.key());
            o = handler.poison(rec, e, attempt, settings.poisonAttempts());
            if (o.isRetry()) handler.retrying(rec, o.retryReason, o.retryDetail);
        }
        if (!o.isRetry()) {
            try {
                send(rec, o);
            } catch (KafkaException | ExecutionException | TimeoutException e) {
                o = Outcome.retry(o.dlqReason != null ? "dlq_unavailable" : "output_unavailable", e.toString());
                handler.retrying(rec, o.retryReason, o.retryDetail);
            }
        }
        if (o.isRetry()) {
            waitToRetry(tp, rec, attempt, o);
            return false;
        }
        o.onAcked.run();
        count("records", "outcome", o.dlqReason == null ? "done" : "dead_lettered");
        if (o.dlqReason != null) {
            LOG.warnf("%s: dead-lettered %s (key %s): %s", name(), source(rec), rec.key(), o.dlqReason);
            deadLettered++;
            lastDeadLetter = o.dlqReason + " (" + source(rec) + " at " + Instant.now() + ")";
            if (meters != null) {
                Counter.builder("kafka.dlq.records").description("records written to a dead-letter topic").tag("loop", name())
                        .tag("topic", settings.dlqTopic()).register(meters).increment();
            }
        }
        try {
            consumer.commitSync(Map.of(tp, new OffsetAndMetadata(rec.offset() + 1)));
        } catch (CommitFailedException e) {
            LOG.warnf("%s: commit of %s failed (%s); the record will be redelivered, harmlessly", name(), source(rec),
                    e.getMessage());
            return false;
        }
        synchronized (this) {
            waiting.remove(tp);
        }
        handled++;
        return true;
    }

    private void send(ConsumerRecord<String, byte[]> rec, Outcome o) throws InterruptedException, ExecutionException,
            TimeoutException {
        List<Future<RecordMetadata>> acks = new ArrayList<>();
        for (ProducerRecord<String, byte[]> out : o.outputs) acks.add(producer.send(out));
        if (o.dlqReason != null) {
            if (settings.dlqTopic() == null) throw new KafkaException("no dead-letter topic configured for " + name());
            boolean asRead = o.dlqValue == null || Arrays.equals(o.dlqValue, rec.value());
            ProducerRecord<String, byte[]> r = new ProducerRecord<>(settings.dlqTopic(), rec.key(), asRead ? rec.value() : o.dlqValue);
            r.headers().add(DLQ_REASON, o.dlqReason.getBytes(StandardCharsets.UTF_8));
            r.headers().add(DLQ_SOURCE, source(rec).getBytes(StandardCharsets.UTF_8));
            DlqHeaders.add(r.headers(), DlqHeaders.VALUE, asRead ? DlqHeaders.VALUE_SOURCE : DlqHeaders.VALUE_DERIVED);
            DlqHeaders.add(r.headers(), DlqHeaders.LOOP, name());
            Header replayOf = rec.headers().lastHeader(DlqHeaders.REPLAY_OF);
            if (replayOf != null) r.headers().add(replayOf);
            acks.add(producer.send(r));
        }
        long deadline = System.nanoTime() + settings.ackTimeout().toNanos();
        for (Future<RecordMetadata> f : acks) f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    }

    private void waitToRetry(TopicPartition tp, ConsumerRecord<String, byte[]> rec, Attempt attempt, Outcome o) {
        Duration delay = settings.backoff().delay(attempt.number());
        synchronized (this) {
            waiting.put(tp, new Waiting(rec.offset(), attempt.number(), attempt.first(), System.nanoTime() + delay.toNanos()));
            lastRetryReason = o.retryReason;
        }
        consumer.pause(List.of(tp));
        consumer.seek(tp, rec.offset());
        count("retries", "reason", o.retryReason);
        if (attempt.number() == 1 || attempt.number() % 10 == 0) {
            LOG.warnf("%s: %s (key %s): attempt %d failed (%s: %s); retrying in %d ms", name(), source(rec), rec.key(),
                    attempt.number(), o.retryReason, o.retryDetail, delay.toMillis());
        }
    }

    private void resumeDue() {
        long now = System.nanoTime();
        List<TopicPartition> due;
        synchronized (this) {
            due = waiting.entrySet().stream().filter(e -> e.getValue().resumeAtNanos() - now <= 0)
                    .map(Map.Entry::getKey).toList();
        }
        if (!due.isEmpty()) consumer.resume(due);
    }

    private void count(String what, String tag, String value) {
        if (meters == null) return;
        Counter.builder("kafka.loop." + what).tag("loop", name()).tag(tag, value).register(meters).increment();
    }

    /** topic-partition@offset */
    public static String source(ConsumerRecord<?, ?> rec) {
        return rec.topic() + "-" + rec.partition() + "@" + rec.offset();
    }
}
