package org.imagingpipeline.retrain.service.registry;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.errors.TimeoutException;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.ModelVersion;
import org.imagingpipeline.events.signing.ModelSigning;
import org.imagingpipeline.kafka.KafkaClients;
import org.imagingpipeline.kafka.PollingThread;
import org.jboss.logging.Logger;

/**
 * Reads {@code ml.model.versions} into a {@link RegistryView} on its own thread: all partitions, from the beginning,
 * without a consumer group (every start rebuilds the view; the topic is compacted, so that stays small). Only records
 * signed by a trusted model-signing key enter the view (retrain's own, and earlier ones during a rotation): a forged
 * record must not become a job's parent or a rollback target that retrain would then sign. Others are logged (key,
 * domain and version only) and skipped.
 */
public final class RegistryReader extends PollingThread {
    private static final Logger LOG = Logger.getLogger(RegistryReader.class);

    private final String topic;
    private final RegistryView view;
    private final JsonSerde<ModelVersion> serde = JsonSerde.of(ModelVersion.class);
    private final ModelSigning.Verifier verifier;

    public RegistryReader(KafkaClients clients, String topic, RegistryView view, ModelSigning.Verifier verifier) {
        super("retrain-registry-reader", clients.consumer(Map.of(ConsumerConfig.CLIENT_ID_CONFIG, "retrain-registry-reader")));
        this.topic = topic;
        this.view = view;
        this.verifier = verifier;
    }

    @Override
    public RegistryReader start() {
        super.start();
        return this;
    }

    @Override
    protected void consume() throws InterruptedException {
        // A broker that is slow or not up yet is waited for: a metadata timeout here used to end the thread for good
        // (the view never caught up, retrain never became ready; seen on a loaded machine in the demo scenario).
        List<TopicPartition> partitions = List.of();
        Map<TopicPartition, Long> end = null;
        while (running() && end == null) {
            try {
                partitions = consumer.partitionsFor(topic, Duration.ofSeconds(10)).stream()
                        .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
                if (!partitions.isEmpty()) end = consumer.endOffsets(partitions, Duration.ofSeconds(30));
            } catch (TimeoutException e) {
                LOG.warnf("%s: no answer from the broker yet (%s); trying again", topic, e.getMessage());
            }
            if (end == null) Thread.sleep(1000);
        }
        if (end == null) return;
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        while (running()) {
            for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                try {
                    ModelVersion v = serde.deserialize(r.topic(), r.value());
                    ModelSigning.Verdict verdict = v == null ? ModelSigning.Verdict.UNSIGNED : verifier.verify(r.key(), v);
                    if (verdict == ModelSigning.Verdict.VALID) {
                        view.apply(r.key(), v, r.offset());
                    } else {
                        LOG.warnf("ignoring registry record %s-%d@%d (key %s, domain %s, version %s): %s", r.topic(), r.partition(), r.offset(),
                                r.key(), v == null ? "-" : v.domainId(), v == null ? "-" : v.version(), verdict.reason());
                    }
                } catch (SerializationException e) {
                    LOG.warnf("skipping unreadable record %s-%d@%d: %s", r.topic(), r.partition(), r.offset(), e.getMessage());
                }
            }
            polled();
            if (!view.caughtUp() && end.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue())) {
                view.markCaughtUp();
                LOG.infof("registry view caught up with %s", topic);
            }
        }
    }
}
