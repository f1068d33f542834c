package org.imagingpipeline.ingest;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.eclipse.microprofile.config.Config;
import org.imagingpipeline.events.InstanceReceived;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.kafka.KafkaClients;

/**
 * Publishes {@link InstanceReceived} events and waits for Kafka's acknowledgement (idempotent producer,
 * acks=all; every kafka.* setting, TLS and SASL included, through {@link KafkaClients}). A caller answers its sender only after {@link #publish} returned.
 */
@ApplicationScoped
public class InstancePublisher {
    private final KafkaProducer<String, InstanceReceived> producer;
    private final Duration ackTimeout;

    /** @param kafka the service's configuration: every kafka.* key is a client setting (security included) */
    @Inject
    public InstancePublisher(Config kafka, IngestConfig config) {
        this.ackTimeout = config.ackTimeout();
        Map<String, String> p = new HashMap<>();
        p.put(ProducerConfig.CLIENT_ID_CONFIG, "ingest");
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, "5");
        p.put(ProducerConfig.LINGER_MS_CONFIG, "0");
        p.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        long ack = Math.max(1000, ackTimeout.toMillis());
        // Bound every wait by the ack timeout: while the broker is down, a send fails within it instead of
        // piling up in the producer's buffer.
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Long.toString(ack));
        p.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, Long.toString(Math.min(ack, 5000)));
        p.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Long.toString(ack));
        p.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, "1000");
        this.producer = KafkaClients.fromConfig(kafka, Map.of()).producer(p, JsonSerde.of(InstanceReceived.class));
    }

    /** Sends the event keyed by SeriesInstanceUID and blocks until acknowledged; throws when it was not. */
    public RecordMetadata publish(InstanceReceived event) throws PublishException {
        try {
            return producer.send(new ProducerRecord<>(Topics.INSTANCES_RECEIVED, event.seriesInstanceUid(), event))
                    .get(ackTimeout.toMillis() + 2000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new PublishException("interrupted while waiting for Kafka", e);
        } catch (ExecutionException e) {
            throw new PublishException(e.getCause().getClass().getSimpleName() + ": " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new PublishException("no Kafka acknowledgement within " + ackTimeout, e);
        } catch (RuntimeException e) { // e.g. metadata timeout thrown from send()
            throw new PublishException(e.getClass().getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    @PreDestroy
    void close() {
        producer.close(Duration.ofSeconds(10));
    }

    /** Kafka did not acknowledge the event. */
    public static class PublishException extends Exception {
        public PublishException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
