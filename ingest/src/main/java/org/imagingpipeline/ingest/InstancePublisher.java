package org.imagingpipeline.ingest;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
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
    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(InstancePublisher.class);
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

    /**
     * After the last instance a sender stored of each series (an association's A-RELEASE, the end of a STOW-RS request):
     * one marker per series, keyed by SeriesInstanceUID, null value, header {@link InstanceReceived#SENDER_DONE_HEADER}
     * = {@code how}. The series' instances were acknowledged before, so the marker follows them on their partition.
     * The caller waits at most {@link #SENDER_DONE_WAIT} (so that the sender's release response or STOW-RS answer
     * normally comes after its markers are durable); the sends run on one background thread, so a broker that is down
     * (a send blocking for metadata) never holds the sender longer. Advisory: a marker that is not written only leaves
     * the series to the inactivity timeout (logged); with too many releases waiting (a long outage) new ones are dropped.
     */
    public void senderDone(java.util.Collection<String> seriesUids, String how) {
        List<String> series = List.copyOf(seriesUids);
        java.util.concurrent.Future<?> done;
        try {
            done = markerSender.submit(() -> sendMarkers(series, how));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            LOG.warnf("%d sender-done markers (%s) dropped: too many waiting for Kafka; those series complete by inactivity", series.size(), how);
            return;
        }
        try {
            done.get(SENDER_DONE_WAIT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (ExecutionException | TimeoutException e) {
            // logged by sendMarkers; not waited for any longer
        }
    }

    private void sendMarkers(List<String> seriesUids, String how) {
        List<java.util.concurrent.Future<RecordMetadata>> sent = new java.util.ArrayList<>();
        for (String series : seriesUids) {
            ProducerRecord<String, InstanceReceived> marker = new ProducerRecord<>(Topics.INSTANCES_RECEIVED, series, null);
            marker.headers().add(InstanceReceived.SENDER_DONE_HEADER, how.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            try {
                sent.add(producer.send(marker));
            } catch (RuntimeException e) {
                LOG.warnf("series %s: the sender-done marker (%s) was not sent: %s; the series completes by inactivity", series, how, e.toString());
            }
        }
        for (int i = 0; i < sent.size(); i++) {
            try {
                sent.get(i).get(ackTimeout.toMillis() + 2000, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            } catch (ExecutionException | TimeoutException e) {
                LOG.warnf("a sender-done marker (%s) was not acknowledged: %s; its series completes by inactivity", how,
                        e instanceof ExecutionException ee ? ee.getCause().toString() : "no acknowledgement within " + ackTimeout);
            }
        }
    }

    /** The longest a sender's release response or STOW-RS answer waits for its sender-done markers. */
    static final Duration SENDER_DONE_WAIT = Duration.ofSeconds(2);

    /** One thread, at most 1000 releases waiting: markers of one series keep their order. */
    private final java.util.concurrent.ExecutorService markerSender = new java.util.concurrent.ThreadPoolExecutor(1, 1, 0,
            TimeUnit.MILLISECONDS, new java.util.concurrent.ArrayBlockingQueue<>(1000), r -> {
                Thread t = new Thread(r, "ingest-sender-done");
                t.setDaemon(true);
                return t;
            });

    @PreDestroy
    void close() {
        markerSender.shutdownNow();
        producer.close(Duration.ofSeconds(10));
    }

    /** Kafka did not acknowledge the event. */
    public static class PublishException extends Exception {
        public PublishException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
