package org.imagingpipeline.streams;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.kafka.KafkaClients;
import org.jboss.logging.Logger;

/**
 * Sends {@link DomainCommand}s to {@code imaging.domain.commands} (idempotent producer, acks=all) and waits, at most the
 * ack timeout, until Kafka acknowledged them: POST /domains/{id}/approve answers 202 only then. Every command goes to
 * partition 0, which the drift detector's task reads beside its one-partition {@code drift-features} input: the task
 * that owns the domain registry (key: the domain id). The producer gives up on a record after the ack timeout
 * ({@code delivery.timeout.ms}), so a command the caller was told failed is, but for a race at that very moment, not
 * written later; re-sending an approval is harmless (approving a KNOWN domain is a no-op).
 */
public final class DomainCommands implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(DomainCommands.class);
    /** The partition of {@link Topics#DOMAIN_COMMANDS} the detector's task reads with drift-features' only partition. */
    static final int PARTITION = 0;

    private final KafkaProducer<String, DomainCommand> producer;
    private final Duration ackTimeout;
    private final String topic;

    public DomainCommands(KafkaClients clients, Duration ackTimeout) {
        this(clients, ackTimeout, Topics.DOMAIN_COMMANDS);
    }

    DomainCommands(KafkaClients clients, Duration ackTimeout, String topic) {
        this.ackTimeout = ackTimeout;
        this.topic = topic;
        int ms = (int) Math.max(1000, ackTimeout.toMillis());
        this.producer = clients.producer(Map.of(ProducerConfig.CLIENT_ID_CONFIG, "streams-domain-commands",
                ProducerConfig.LINGER_MS_CONFIG, "0",
                ProducerConfig.MAX_BLOCK_MS_CONFIG, Integer.toString(ms),
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, Integer.toString(ms),
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Integer.toString(ms)), JsonSerde.of(DomainCommand.class));
    }

    public Duration ackTimeout() {
        return ackTimeout;
    }

    /**
     * Sends the command and waits for its acknowledgement.
     *
     * @throws TimeoutException   when Kafka did not acknowledge it within the ack timeout
     * @throws ExecutionException when Kafka refused it
     */
    public RecordMetadata send(DomainCommand c) throws TimeoutException, ExecutionException, InterruptedException {
        long deadline = System.nanoTime() + ackTimeout.toNanos();
        try {
            RecordMetadata m = producer.send(new ProducerRecord<>(topic, PARTITION, c.domainId(), c))
                    .get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            LOG.infof("domain command %s %s of %s by %s acknowledged (%s-%d@%d)", c.type(), c.requestId(), c.domainId(), c.principal(),
                    m.topic(), m.partition(), m.offset());
            return m;
        } catch (org.apache.kafka.common.errors.TimeoutException e) {
            // send() itself blocked past max.block.ms (no metadata: the broker is unreachable)
            throw new TimeoutException(e.getMessage());
        } catch (ExecutionException e) {
            // the producer gave up on it: no metadata within max.block.ms, or not delivered within delivery.timeout.ms
            if (e.getCause() instanceof org.apache.kafka.common.errors.TimeoutException) throw new TimeoutException(e.getCause().getMessage());
            throw e;
        }
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(5));
    }
}
