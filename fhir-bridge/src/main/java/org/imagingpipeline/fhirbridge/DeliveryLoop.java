package org.imagingpipeline.fhirbridge;

import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.imagingpipeline.events.DeliveryFailure;
import org.imagingpipeline.events.JsonSerde;
import org.jboss.logging.Logger;

/**
 * The consume-deliver-commit loop, on its own thread, with a plain {@link KafkaConsumer} (auto-commit off):
 * <ul>
 *   <li>records of a partition are handled strictly in order, one at a time;</li>
 *   <li>a record's offset is committed (synchronously) only after the EHR answered 2xx, or after its
 *       {@link DeliveryFailure} was acknowledged by the DLQ topic (acks=all);</li>
 *   <li>on a transient failure the partition is paused and rewound to the failed record, and the record is tried
 *       again after an exponential backoff with jitter, for as long as the outage lasts; the loop keeps polling
 *       meanwhile, so the consumer stays in its group (no max.poll.interval.ms eviction) and other partitions move
 *       on.</li>
 * </ul>
 * A crash between the EHR's 2xx and the commit redelivers the record; the bundle's conditional creates make
 * that harmless.
 */
public final class DeliveryLoop implements Runnable, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DeliveryLoop.class);

    /**
     * @param bootstrapServers Kafka bootstrap servers
     * @param groupId          consumer group
     * @param topic            the results topic
     * @param dlqTopic         the dead-letter topic
     * @param backoff          retry policy for transient failures
     * @param extraKafka       further client properties (security etc.), applied to consumer and producer
     */
    public record Settings(String bootstrapServers, String groupId, String topic, String dlqTopic, Backoff backoff,
                           Map<String, String> extraKafka) {
    }

    private record Waiting(long offset, int attempts, Instant firstAttempt, long resumeAtNanos) {
    }

    private final Settings settings;
    private final ResultProcessor processor;
    private final KafkaConsumer<String, byte[]> consumer;
    private final KafkaProducer<String, byte[]> producer;
    private final JsonSerde<DeliveryFailure> failureSerde = JsonSerde.of(DeliveryFailure.class);
    private final Map<TopicPartition, Waiting> waiting = new HashMap<>();
    private volatile boolean running = true;
    private volatile Instant lastPoll = Instant.EPOCH;
    private volatile String lastRetryReason;
    private volatile int assigned = -1;
    private Thread thread;

    public DeliveryLoop(Settings settings, ResultProcessor processor) {
        this.settings = settings;
        this.processor = processor;
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        c.put(ConsumerConfig.GROUP_ID_CONFIG, settings.groupId());
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "50");
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, "fhir-bridge-consumer");
        c.putAll(settings.extraKafka());
        this.consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, "4194304");
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "fhir-bridge-dlq");
        p.putAll(settings.extraKafka());
        this.producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
    }

    public synchronized DeliveryLoop start() {
        thread = new Thread(this, "fhir-bridge-delivery");
        thread.setDaemon(true);
        thread.start();
        return this;
    }

    public boolean isAlive() {
        return thread != null && thread.isAlive() && running;
    }

    /** When the loop last polled Kafka (it polls at least every second while alive). */
    public Instant lastPoll() {
        return lastPoll;
    }

    /** Partitions this consumer holds; -1 until it first joined its group (so: Kafka not reached yet). */
    public int assignedPartitions() {
        return assigned;
    }

    /** Partitions currently waiting to retry a record, and why the last retry happened. */
    public synchronized String retryState() {
        return waiting.isEmpty() ? "none" : waiting.size() + " partition(s) waiting, last reason " + lastRetryReason;
    }

    @Override
    public void run() {
        try {
            processor.warmUp();
            consumer.subscribe(List.of(settings.topic()), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    assigned = Math.max(0, assigned - partitions.size());
                    synchronized (DeliveryLoop.this) {
                        partitions.forEach(waiting::remove);
                    }
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    assigned = Math.max(0, assigned) + partitions.size();
                    LOG.infof("assigned %s", partitions);
                }
            });
            while (running) {
                resumeDue();
                ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(500));
                lastPoll = Instant.now();
                for (TopicPartition tp : records.partitions()) {
                    for (ConsumerRecord<String, byte[]> rec : records.records(tp)) {
                        if (!running || !handle(tp, rec)) break;
                    }
                }
            }
        } catch (WakeupException e) {
            if (running) throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.error("delivery loop failed; uncommitted records will be redelivered", e);
            running = false;
            throw e;
        } finally {
            try {
                consumer.close(Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                LOG.debug("consumer close", e);
            }
            producer.close(Duration.ofSeconds(5));
        }
    }

    /** @return true to go on with the partition's next record, false when the partition now waits */
    private boolean handle(TopicPartition tp, ConsumerRecord<String, byte[]> rec) throws InterruptedException {
        Waiting w;
        synchronized (this) {
            w = waiting.get(tp);
        }
        int attempt = w != null && w.offset() == rec.offset() ? w.attempts() + 1 : 1;
        Instant first = w != null && w.offset() == rec.offset() ? w.firstAttempt() : Instant.now();
        DeliveryFailure.SourceRecord src = new DeliveryFailure.SourceRecord(rec.topic(), rec.partition(), rec.offset());
        ResultProcessor.Decision d;
        try {
            d = processor.attempt(rec.value(), src, attempt, first);
        } catch (RuntimeException e) {
            // A defect or an unexpected answer (e.g. a 2xx body that is not FHIR): keep the record and retry it
            // with backoff rather than lose it or stop the whole loop; the log and the retries metric show it.
            LOG.errorf(e, "unexpected failure on %s-%d@%d (series key %s)", rec.topic(), rec.partition(),
                    rec.offset(), rec.key());
            processor.metricsRetried("internal_error");
            d = new ResultProcessor.Retry("internal_error", e.toString());
        }
        if (d instanceof ResultProcessor.DeadLetter dl) {
            try {
                producer.send(new ProducerRecord<>(settings.dlqTopic(), rec.key(),
                        failureSerde.serialize(settings.dlqTopic(), dl.failure()))).get(30, TimeUnit.SECONDS);
                processor.metricsDeadLettered(dl.failure().reason());
                LOG.warnf("dead-lettered %s-%d@%d (series key %s): %s", rec.topic(), rec.partition(), rec.offset(),
                        rec.key(), dl.failure().reason());
            } catch (Exception e) {
                if (e instanceof InterruptedException ie) throw ie;
                processor.metricsRetried("dlq_unavailable");
                d = new ResultProcessor.Retry("dlq_unavailable", e.toString());
            }
        }
        if (d instanceof ResultProcessor.Retry r) {
            Duration delay = settings.backoff().delay(attempt);
            synchronized (this) {
                waiting.put(tp, new Waiting(rec.offset(), attempt, first, System.nanoTime() + delay.toNanos()));
                lastRetryReason = r.reason();
            }
            consumer.pause(List.of(tp));
            consumer.seek(tp, rec.offset());
            if (attempt == 1 || attempt % 10 == 0) {
                LOG.warnf("series key %s: attempt %d failed (%s: %s); retrying in %d ms", rec.key(), attempt,
                        r.reason(), r.detail(), delay.toMillis());
            }
            return false;
        }
        try {
            consumer.commitSync(Map.of(tp, new OffsetAndMetadata(rec.offset() + 1)));
        } catch (CommitFailedException e) {
            LOG.warnf("commit of %s@%d failed (%s); the record will be redelivered, harmlessly", tp, rec.offset(),
                    e.getMessage());
            return false;
        }
        synchronized (this) {
            waiting.remove(tp);
        }
        return true;
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

    @Override
    public void close() throws InterruptedException {
        running = false;
        consumer.wakeup();
        if (thread != null) thread.join(30_000);
    }
}
