package org.imagingpipeline.fhirbridge;

import io.micrometer.core.instrument.MeterRegistry;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.imagingpipeline.events.DeliveryFailure;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.kafka.Backoff;
import org.imagingpipeline.kafka.ConsumeLoop;
import org.imagingpipeline.kafka.KafkaClients;
import org.imagingpipeline.kafka.LoopHandler;
import org.jboss.logging.Logger;

/**
 * The bridge's records on the shared {@link ConsumeLoop}: each result is one delivery attempt
 * ({@link ResultProcessor}); a 2xx commits it, a permanent failure sends its {@link DeliveryFailure} to the DLQ topic
 * and commits, a transient one (EHR down, slow, overloaded or failing) pauses the partition and retries the record
 * after a backoff, for as long as the outage lasts. A record that makes the processor throw (a defect, or an
 * unexpected answer such as a 2xx body that is not FHIR) is kept and retried with backoff rather than lost: the log
 * and {@code fhir_bridge_retries_total{reason="internal_error"}} show it. A crash between the EHR's 2xx and the
 * commit redelivers the record; the bundle's conditional creates make that harmless.
 */
public final class DeliveryLoop extends LoopHandler<DeliveryLoop> {
    private static final Logger LOG = Logger.getLogger(DeliveryLoop.class);

    /**
     * @param clients  the Kafka clients (every kafka.* setting plus bridge.kafka.client)
     * @param groupId  consumer group
     * @param topic    the results topic
     * @param dlqTopic the dead-letter topic
     * @param backoff  retry policy for transient failures
     */
    public record Settings(KafkaClients clients, String groupId, String topic, String dlqTopic, Backoff backoff) {
    }

    private final ResultProcessor processor;
    private final JsonSerde<DeliveryFailure> failureSerde = JsonSerde.of(DeliveryFailure.class);

    public DeliveryLoop(Settings s, ResultProcessor processor, MeterRegistry meters) {
        super(s.clients(), ConsumeLoop.Settings.of("fhir-bridge-delivery", s.groupId(), s.topic(), s.dlqTopic())
                .withBackoff(s.backoff())
                .withConsumer(Map.of(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "50"))
                .withProducer(Map.of(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, "4194304")), meters);
        this.processor = processor;
    }

    @Override
    public void start(ConsumeLoop l) {
        processor.warmUp();
    }

    @Override
    public ConsumeLoop.Outcome handle(ConsumerRecord<String, byte[]> rec, ConsumeLoop.Attempt attempt)
            throws InterruptedException {
        DeliveryFailure.SourceRecord src = new DeliveryFailure.SourceRecord(rec.topic(), rec.partition(), rec.offset());
        ResultProcessor.Decision d = processor.attempt(rec.value(), src, attempt.number(), attempt.first());
        if (d instanceof ResultProcessor.DeadLetter dl) {
            DeliveryFailure f = dl.failure();
            return ConsumeLoop.Outcome.deadLetter(f.reason().name(), failureSerde.serialize(loop().settings().dlqTopic(), f))
                    .then(() -> processor.metricsDeadLettered(f.reason()));
        }
        if (d instanceof ResultProcessor.Retry r) return ConsumeLoop.Outcome.retry(r.reason(), r.detail());
        return ConsumeLoop.Outcome.done();
    }

    @Override
    public ConsumeLoop.Outcome poison(ConsumerRecord<String, byte[]> rec, RuntimeException e, ConsumeLoop.Attempt attempt,
                                      int poisonAttempts) {
        LOG.errorf("unexpected failure on %s (series key %s), attempt %d: kept and retried", ConsumeLoop.source(rec),
                rec.key(), attempt.number());
        return ConsumeLoop.Outcome.retry("internal_error", e.toString());
    }

    @Override
    public void retrying(ConsumerRecord<String, byte[]> rec, String reason, String detail) {
        processor.metricsRetried(reason);
    }
}
