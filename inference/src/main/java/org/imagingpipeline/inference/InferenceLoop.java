package org.imagingpipeline.inference;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.Header;
import org.imagingpipeline.events.JsonSerde;
import org.imagingpipeline.events.ReplayPredecessor;
import org.imagingpipeline.events.SegmentationResult;
import org.imagingpipeline.events.SeriesReady;
import org.imagingpipeline.kafka.ConsumeLoop;
import org.imagingpipeline.kafka.KafkaClients;
import org.imagingpipeline.kafka.LoopHandler;
import org.jboss.logging.Logger;

/**
 * Inference's records on the shared {@link ConsumeLoop}: each series is segmented and its result published; the
 * series' offset is committed only after its result (and, for failures, its DLQ record) was acknowledged by the broker,
 * so a crash re-segments the series rather than lose it; the result's eventId (series, model version) makes the
 * repeat recognisable. A result the broker does not acknowledge pauses the partition and the series is segmented again
 * after a backoff. Before the first series it reads the model registry and, when the registry has no default model,
 * registers the configured source model.
 *
 * <p>Revisions: a series re-emitted by streams (LATE_UPDATE) replaces the earlier revision. A record whose revision
 * is lower than one already segmented, or than a later revision of the same series in the same poll, is skipped
 * (log line + {@code inference_series_superseded_total}) and committed.
 */
public final class InferenceLoop extends LoopHandler<InferenceLoop> {
    private static final Logger LOG = Logger.getLogger(InferenceLoop.class);
    private static final int REMEMBERED_SERIES = 100_000;

    /**
     * @param clients         the Kafka clients (every kafka.* setting plus inference.kafka.client)
     * @param sourceModel     the model to register as the default when the registry has none; null = never
     * @param registryTimeout how long one registry refresh may wait for the topic's end
     */
    public record Settings(KafkaClients clients, String groupId, String seriesTopic, String resultsTopic,
                           String dlqTopic, String modelsTopic, Path sourceModel, String sourceModelName,
                           Duration registryTimeout) {
    }

    private final Settings settings;
    private final SeriesProcessor processor;
    private final ModelRouter router;
    private final InferenceMetrics metrics;
    private final JsonSerde<SeriesReady> seriesSerde = JsonSerde.of(SeriesReady.class);
    private final JsonSerde<SegmentationResult> resultSerde = JsonSerde.of(SegmentationResult.class);
    private final Map<String, Integer> highestDone = new LinkedHashMap<>(1024, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Integer> eldest) {
            return size() > REMEMBERED_SERIES;
        }
    };
    private Map<String, Integer> latestInPoll = Map.of();

    public InferenceLoop(Settings settings, SeriesProcessor processor, ModelRouter router, InferenceMetrics metrics) {
        // A series takes seconds on CPU: few records per poll keep the loop well inside max.poll.interval.ms.
        super(settings.clients(), ConsumeLoop.Settings.of("inference-loop", settings.groupId(), settings.seriesTopic(),
                        settings.dlqTopic())
                .withConsumer(Map.of(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "8",
                        ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(16 << 20),
                        ConsumerConfig.FETCH_MAX_BYTES_CONFIG, Integer.toString(32 << 20)))
                .withProducer(Map.of(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(16 << 20))), metrics.registry());
        this.settings = settings;
        this.processor = processor;
        this.router = router;
        this.metrics = metrics;
    }

    /** True once the registry was read (and the source model registered when needed) and the loop consumes. */
    public boolean ready() {
        return loop().started();
    }

    @Override
    public void start(ConsumeLoop l) throws InterruptedException {
        if (settings.sourceModel() != null) {
            try {
                router.trustLocalSource(ModelSessions.sha256(java.nio.file.Files.readAllBytes(settings.sourceModel())));
            } catch (IOException e) {
                LOG.errorf("inference.source-model %s unreadable: %s", settings.sourceModel(), e.getMessage());
            }
        }
        while (l.running()) {
            try {
                if (router.refresh(settings.registryTimeout())) break;
            } catch (KafkaException | IllegalStateException e) {
                LOG.warnf("model registry %s not readable yet (%s); retrying", settings.modelsTopic(), e.getMessage());
            }
            Thread.sleep(1000);
        }
        if (!router.hasDefault() && settings.sourceModel() != null) {
            try {
                new SourceModelRegistrar(l.producer(), settings.modelsTopic()).register(settings.sourceModel(),
                        settings.sourceModelName());
                router.refresh(settings.registryTimeout());
            } catch (IOException e) {
                LOG.errorf("the source model was not registered: %s; series will get ERROR results (NO_MODEL) until a"
                        + " default model is promoted", e.getMessage());
            }
        } else if (!router.hasDefault()) {
            LOG.warn("no default model on the registry and inference.source-model is not set: series of domains without"
                    + " their own model get ERROR results (NO_MODEL)");
        }
    }

    @Override
    public void polled(ConsumerRecords<String, byte[]> records) {
        Map<String, Integer> latest = new HashMap<>();
        for (ConsumerRecord<String, byte[]> r : records) {
            SeriesReady s = decode(r);
            if (s != null) latest.merge(s.seriesInstanceUid(), s.revision(), Math::max);
        }
        latestInPoll = latest;
    }

    private SeriesReady decode(ConsumerRecord<String, byte[]> rec) {
        try {
            return seriesSerde.deserialize(rec.topic(), rec.value());
        } catch (SerializationException | IllegalArgumentException | NullPointerException e) {
            return null;
        }
    }

    @Override
    public ConsumeLoop.Outcome handle(ConsumerRecord<String, byte[]> rec, ConsumeLoop.Attempt attempt) throws InterruptedException {
        if (rec.value() == null) return ConsumeLoop.Outcome.done();
        SeriesReady series = decode(rec);
        if (series == null) {
            LOG.errorf("%s (key %s) is not a readable SeriesReady: dead-lettered", ConsumeLoop.source(rec), rec.key());
            return ConsumeLoop.Outcome.deadLetter("UNREADABLE_EVENT", rec.value())
                    .then(() -> metrics.deadLettered("UNREADABLE_EVENT"));
        }
        if (superseded(series)) {
            metrics.superseded();
            LOG.infof("series %s revision %d skipped: a later revision is or was segmented", series.seriesInstanceUid(),
                    series.revision());
            return ConsumeLoop.Outcome.done();
        }
        try {
            router.refresh(settings.registryTimeout());
        } catch (KafkaException | IllegalStateException e) {
            LOG.warnf("model registry not refreshed (%s); using the routes read before", e.getMessage());
        }
        SeriesProcessor.Outcome out = processor.process(series, attempt.number(), predecessor(rec, series));
        if (out.isRetry()) {
            // a transient failure (blob not visible yet, execution provider busy, blob store full): nothing is published;
            // the loop pauses this partition and tries the series again after its backoff
            return ConsumeLoop.Outcome.retry(out.retry().kind().name().toLowerCase(java.util.Locale.ROOT), out.retry().describe());
        }
        byte[] value = resultSerde.serialize(settings.resultsTopic(), out.result());
        ProducerRecord<String, byte[]> result = new ProducerRecord<>(settings.resultsTopic(), series.seriesInstanceUid(), value);
        String reason = out.dlqReason();
        ConsumeLoop.Outcome o = reason == null ? ConsumeLoop.Outcome.done(result)
                : ConsumeLoop.Outcome.deadLetter(reason, value, result).then(() -> metrics.deadLettered(reason.split(":")[0]));
        return o.then(() -> highestDone.put(series.seriesInstanceUid(), series.revision()));
    }

    /**
     * The report a series sent again after a promotion supersedes (header {@link ReplayPredecessor#HEADER}, only on a
     * record that is a replay); a header that does not parse is logged and ignored: the new SR then names none.
     */
    private static ReplayPredecessor predecessor(ConsumerRecord<String, byte[]> rec, SeriesReady series) {
        if (rec.headers().lastHeader(SeriesReady.REPLAY_HEADER) == null) return null;
        Header h = rec.headers().lastHeader(ReplayPredecessor.HEADER);
        if (h == null) return null;
        Optional<ReplayPredecessor> p = ReplayPredecessor.fromHeader(h.value());
        if (p.isEmpty()) {
            LOG.warnf("series %s: header %s is not a readable predecessor; its new SR names none", series.seriesInstanceUid(),
                    ReplayPredecessor.HEADER);
        }
        return p.orElse(null);
    }

    private boolean superseded(SeriesReady s) {
        Integer done = highestDone.get(s.seriesInstanceUid());
        return (done != null && s.revision() < done) || s.revision() < latestInPoll.getOrDefault(s.seriesInstanceUid(), 0);
    }

    @Override
    public void close() throws InterruptedException {
        super.close();
        router.close();
    }
}
