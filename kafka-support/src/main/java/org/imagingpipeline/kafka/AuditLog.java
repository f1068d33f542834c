package org.imagingpipeline.kafka;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.imagingpipeline.events.AuditEvent;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.Topics;
import org.jboss.logging.Logger;

/**
 * A service's audit trail on {@link Topics#AUDIT_EVENTS} (issue 19 item 6): {@link #record} sends one
 * {@link AuditEvent} (idempotent producer, acks=all, keyed by the service) without blocking the caller, so that it can
 * be called on an HTTP I/O thread; a record the broker does not take is logged (action, target, outcome: never patient
 * data). {@link #recent} reads the last records of the topic, for {@code GET /audit}.
 */
public final class AuditLog implements AuditSink, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(AuditLog.class);
    private static final JsonSerde<AuditEvent> SERDE = JsonSerde.of(AuditEvent.class);

    private final String service;
    private final String topic;
    private final KafkaProducer<String, AuditEvent> producer;

    public AuditLog(KafkaClients clients, String service) {
        this(clients, service, Topics.AUDIT_EVENTS);
    }

    public AuditLog(KafkaClients clients, String service, String topic) {
        this.service = service;
        this.topic = topic;
        this.producer = clients.producer(Map.of(ProducerConfig.CLIENT_ID_CONFIG, service + "-audit",
                ProducerConfig.MAX_BLOCK_MS_CONFIG, "10000"), SERDE);
    }

    /** Records one event, asynchronously, and returns it. */
    @Override
    public AuditEvent record(String principal, String action, String target, String outcome, String detail) {
        AuditEvent e = AuditEvent.of(service, principal, action, target, outcome, detail);
        try {
            producer.send(new ProducerRecord<>(topic, service, e), (m, ex) -> {
                if (ex != null) lost(e, ex);
            });
        } catch (RuntimeException ex) {
            lost(e, ex);
        }
        LOG.infof("audit: %s %s %s -> %s%s", e.principal(), action, target, outcome, detail == null ? "" : " (" + detail + ")");
        return e;
    }

    private static void lost(AuditEvent e, Exception ex) {
        LOG.errorf("audit event %s (%s %s %s) not written to %s: %s", e.eventId(), e.action(), e.target(), e.outcome(),
                Topics.AUDIT_EVENTS, ex.getMessage());
    }

    /** Waits until every event recorded so far was acknowledged or failed (tests, shutdown). */
    public void flush() {
        producer.flush();
    }

    /**
     * The last {@code limit} events of the topic (all partitions), oldest first; waits at most {@code timeout} for
     * them. Unreadable records are left out.
     */
    public static List<AuditEvent> recent(KafkaClients clients, String topic, int limit, Duration timeout) {
        List<AuditEvent> out = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = clients.consumer(Map.of(ConsumerConfig.CLIENT_ID_CONFIG, "audit-reader"))) {
            List<TopicPartition> parts = c.partitionsFor(topic, timeout).stream().map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            if (parts.isEmpty()) return out;
            c.assign(parts);
            Map<TopicPartition, Long> begin = c.beginningOffsets(parts, timeout);
            Map<TopicPartition, Long> end = c.endOffsets(parts, timeout);
            for (TopicPartition tp : parts) c.seek(tp, Math.max(begin.get(tp), end.get(tp) - limit));
            long deadline = System.nanoTime() + timeout.toNanos();
            while (parts.stream().anyMatch(tp -> c.position(tp) < end.get(tp)) && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                    if (r.offset() >= end.get(new TopicPartition(r.topic(), r.partition()))) continue;
                    try {
                        AuditEvent e = SERDE.deserialize(r.topic(), r.value());
                        if (e != null) out.add(e);
                    } catch (SerializationException | IllegalArgumentException | NullPointerException ex) {
                        LOG.warnf("unreadable audit record %s-%d@%d left out", r.topic(), r.partition(), r.offset());
                    }
                }
            }
        }
        out.sort(Comparator.comparing(AuditEvent::at, Comparator.nullsFirst(Comparator.naturalOrder())));
        return out.size() > limit ? List.copyOf(out.subList(out.size() - limit, out.size())) : out;
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(5));
    }
}
