package org.imagingpipeline.retrain.service.registry;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.ModelVersion;
import org.imagingpipeline.events.signing.ModelSigning;
import org.imagingpipeline.kafka.KafkaClients;

/**
 * Writes registry records on {@code ml.model.versions}: idempotent producer, acks=all, each record acknowledged
 * before the next is sent (so CANDIDATE is on the topic before PROMOTED or REJECTED, and a history record before
 * its routing record). Every record is signed with retrain's model-signing key ({@link ModelSigning}) before it is
 * sent: inference acts only on signed records.
 */
public final class RegistryPublisher implements AutoCloseable {
    private final String topic;
    private final KafkaProducer<String, ModelVersion> producer;
    private final RegistryView view;
    private final ModelSigning.Signer signer;
    private volatile java.util.function.BiConsumer<String, ModelVersion> published = (k, v) -> { };

    /**
     * @param view   updated with each record once the broker acknowledged it (the reader applies it again, harmlessly)
     * @param signer retrain's model-signing key
     */
    public RegistryPublisher(KafkaClients clients, String topic, RegistryView view, ModelSigning.Signer signer) {
        this.topic = topic;
        this.view = view;
        this.signer = signer;
        this.producer = clients.producer(Map.of(ProducerConfig.CLIENT_ID_CONFIG, "retrain-registry"), JsonSerde.of(ModelVersion.class));
    }

    /** Sends the records in order, each acknowledged before the next; fails on the first that is not. */
    public void publish(List<RegistryRecords.Keyed> records) throws InterruptedException {
        for (RegistryRecords.Keyed r : records) {
            ModelVersion signed = signer.sign(r.key(), r.value());
            try {
                RecordMetadata m = producer.send(new ProducerRecord<>(topic, r.key(), signed)).get(60, TimeUnit.SECONDS);
                view.apply(r.key(), signed, m.offset());
                published.accept(r.key(), signed);
            } catch (ExecutionException | TimeoutException e) {
                throw new IllegalStateException("ml.model.versions did not acknowledge " + r.value().eventId() + ": " + e, e);
            }
        }
    }

    /** Told about each record once the broker acknowledged it (the audit trail of promotions). */
    public void onPublished(java.util.function.BiConsumer<String, ModelVersion> listener) {
        this.published = listener;
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(10));
    }
}
