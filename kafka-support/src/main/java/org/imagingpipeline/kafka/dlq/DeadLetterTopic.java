package org.imagingpipeline.kafka.dlq;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.imagingpipeline.events.EventJson;
import org.imagingpipeline.events.TopicSpec;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.kafka.KafkaClients;

/**
 * One dead-letter topic, for operators ({@code ./pipeline dlq list|replay TOPIC}): lists its dead letters without their
 * values, and re-injects selected ones into the topic they came from.
 *
 * <p><b>Replay.</b> A dead letter names its input record in {@code dlq.source} (topic-partition@offset). When its value is
 * that record as read ({@code dlq.value=source}: streams' handlers, a ConsumeLoop record dead-lettered as it was), the
 * value and key are re-injected as they are; when it is something a stage made of it ({@code dlq.value=derived}: an
 * inference ERROR result, a fhir-bridge DeliveryFailure) or the header is missing, the input record is read again from
 * its topic at that offset (with its headers), and the replay is refused when retention has removed it. Each re-injected
 * record goes to the source topic (partitioned by its key, as the original was) with the headers {@code dlq.replay.of}
 * (this dead letter), {@code dlq.replay.source} (the original input record) and {@code dlq.replay.at}.
 *
 * <p><b>Once only.</b> Every replay writes a {@link ReplayMarker} to {@code dlq.replays} (compacted, key = the dead letter's
 * coordinates) in the same Kafka transaction as the re-injected record: both are there or neither. A replay first
 * initialises its transactional producer (id {@code dlq-replay-<topic>}, which fences any older replay of the same topic
 * that is still running), then reads the markers (read_committed), and skips every dead letter that has one. So a second
 * replay of the same selection sends nothing, also after a crash in the middle of the first.
 */
public final class DeadLetterTopic {
    /** Re-injected records are committed in transactions of at most this many. */
    static final int TRANSACTION_BATCH = 50;
    private static final Duration POLL = Duration.ofMillis(200);
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(120);
    private static final ObjectMapper JSON = EventJson.mapper();

    /** Which dead letters {@code list} shows: reason kind (or reason prefix), not before {@code since}, at most {@code limit}. */
    public record Filter(String reason, Instant since, Integer limit) {
        public static final Filter ALL = new Filter(null, null, null);

        boolean matches(DeadLetter d) {
            return (reason == null || d.hasReason(reason)) && (since == null || !d.time().isBefore(since));
        }
    }

    /**
     * Which dead letters {@code replay} re-injects: those at {@code offsets} (partition, offset of the dead letter), or
     * of {@code reason}, or all ({@code all}); combined, a dead letter must match each one given; {@code since} and
     * {@code limit} narrow further. At least one of offsets, reason and all is required.
     */
    public record Selection(Set<Offset> offsets, String reason, Instant since, boolean all, Integer limit) {
        public Selection {
            offsets = offsets == null ? Set.of() : Set.copyOf(offsets);
            if (offsets.isEmpty() && reason == null && !all) {
                throw new IllegalArgumentException("say which dead letters to replay: --offset, --reason or --all");
            }
        }

        boolean matches(DeadLetter d) {
            return (offsets.isEmpty() || offsets.contains(new Offset(d.at().partition(), d.at().offset())))
                    && (reason == null || d.hasReason(reason)) && (since == null || !d.time().isBefore(since));
        }
    }

    /** A dead letter's place in its topic. */
    public record Offset(int partition, long offset) {
        /** {@code OFFSET} (partition 0) or {@code PARTITION:OFFSET} / {@code PARTITION@OFFSET}. */
        public static Offset parse(String text) {
            String t = text.trim();
            int sep = Math.max(t.indexOf(':'), t.indexOf('@'));
            try {
                Offset o = sep < 0 ? new Offset(0, Long.parseLong(t))
                        : new Offset(Integer.parseInt(t.substring(0, sep)), Long.parseLong(t.substring(sep + 1)));
                if (o.partition < 0 || o.offset < 0) throw new NumberFormatException();
                return o;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("an offset is OFFSET or PARTITION:OFFSET, got '" + text + "'");
            }
        }
    }

    /** What {@code list} saw: dead letters read, matching the filter, printed, per reason kind (of the matching ones). */
    public record ListSummary(String topic, long records, long matched, long listed, long replayed, Map<String, Long> byReason) {
        public Map<String, Object> json() {
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("topic", topic);
            m.put("records", records);
            m.put("matched", matched);
            m.put("listed", listed);
            m.put("replayed", replayed);
            m.put("not_replayed", matched - replayed);
            m.put("by_reason", byReason);
            return m;
        }
    }

    public enum Action {
        /** re-injected (and marked) */
        REPLAYED,
        /** a dry run: would be re-injected */
        WOULD_REPLAY,
        /** a marker says it was re-injected before: nothing sent */
        ALREADY_REPLAYED,
        /** cannot be re-injected: {@link ReplayResult#why} */
        REFUSED
    }

    /**
     * What became of one selected dead letter; {@code to} is the re-injected record (REPLAYED, ALREADY_REPLAYED) or the
     * topic it would go to (WOULD_REPLAY).
     */
    public record ReplayResult(DeadLetter deadLetter, Action action, String to, String why) {
        public Map<String, Object> json() {
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("partition", deadLetter.at().partition());
            m.put("offset", deadLetter.at().offset());
            m.put("key", deadLetter.key());
            m.put("reason_kind", deadLetter.reasonKind());
            m.put("action", action.name().toLowerCase());
            if (to != null) m.put(action == Action.WOULD_REPLAY ? "to_topic" : "replayed_as", to);
            if (why != null) m.put("why", why);
            return m;
        }
    }

    /** Counts of one replay run. */
    public record ReplaySummary(String topic, boolean dryRun, long records, long selected, long replayed, long wouldReplay,
                                long alreadyReplayed, long refused, Map<String, Long> refusedBy, Map<String, Long> toTopics) {
        public Map<String, Object> json() {
            Map<String, Object> m = new java.util.LinkedHashMap<>();
            m.put("topic", topic);
            m.put("dry_run", dryRun);
            m.put("records", records);
            m.put("selected", selected);
            m.put("replayed", replayed);
            m.put("would_replay", wouldReplay);
            m.put("already_replayed", alreadyReplayed);
            m.put("refused", refused);
            m.put("refused_by", refusedBy);
            m.put("to", toTopics);
            return m;
        }
    }

    /** Why a replay is refused: the first word of {@link ReplayResult#why}. */
    public enum Refusal { NO_SOURCE, UNKNOWN_SOURCE_TOPIC, SOURCE_GONE, NO_VALUE }

    private final KafkaClients clients;
    private final String topic;
    private final String markerTopic;
    private final Clock clock;

    public DeadLetterTopic(KafkaClients clients, String topic) {
        this(clients, topic, Topics.DLQ_REPLAYS, Clock.systemUTC());
    }

    DeadLetterTopic(KafkaClients clients, String topic, String markerTopic, Clock clock) {
        this.clients = clients;
        this.topic = topic;
        this.markerTopic = markerTopic;
        this.clock = clock;
    }

    public String topic() {
        return topic;
    }

    /** Prints nothing itself: gives each dead letter the filter passes (with its marker, or null) to {@code each}. */
    public ListSummary list(Filter filter, java.util.function.BiConsumer<DeadLetter, ReplayMarker> each) throws IOException {
        requireTopic(Set.of(topic));
        Map<String, ReplayMarker> markers = markers();
        long[] n = new long[4]; // records, matched, listed, replayed
        Map<String, Long> byReason = new TreeMap<>();
        scan(filter.since(), r -> {
            n[0]++;
            DeadLetter d = DeadLetter.of(r);
            if (!filter.matches(d)) return true;
            n[1]++;
            byReason.merge(d.reasonKind(), 1L, Long::sum);
            ReplayMarker m = markers.get(d.at().toString());
            if (m != null) n[3]++;
            if (filter.limit() == null || n[2] < filter.limit()) {
                n[2]++;
                each.accept(d, m);
            }
            return true;
        });
        return new ListSummary(topic, n[0], n[1], n[2], n[3], byReason);
    }

    /**
     * Re-injects the selected dead letters (see the class comment); {@code dryRun} sends nothing and writes no marker.
     * Each result goes to {@code each} once it is durable (after its transaction committed).
     *
     * @throws IOException when the topic does not exist or the broker cannot be used; what was committed before stays
     */
    public ReplaySummary replay(Selection selection, boolean dryRun, Consumer<ReplayResult> each) throws IOException {
        requireTopic(Set.of(topic));
        if (!dryRun) ensureMarkerTopic();
        Counts c = new Counts();
        try (KafkaProducer<byte[], byte[]> producer = dryRun ? null : transactionalProducer();
             KafkaConsumer<byte[], byte[]> sources = consumer("sources")) {
            if (producer != null) producer.initTransactions(); // fences an older replay of this topic, aborts what it left open
            Map<String, ReplayMarker> markers = markers();
            Set<String> existing = topics();
            Batch batch = new Batch(producer, each, c);
            try {
                scan(selection.since(), r -> {
                    c.records++;
                    DeadLetter d = DeadLetter.of(r);
                    if (!selection.matches(d)) return true;
                    if (selection.limit() != null && c.selected >= selection.limit()) return false;
                    c.selected++;
                    ReplayMarker m = markers.get(d.at().toString());
                    if (m != null) {
                        c.alreadyReplayed++;
                        each.accept(new ReplayResult(d, Action.ALREADY_REPLAYED, m.replayedAs(), null));
                        return true;
                    }
                    Plan p = plan(d, r, existing, sources);
                    if (p.refusal != null) {
                        c.refused++;
                        c.refusedBy.merge(p.refusal.name(), 1L, Long::sum);
                        each.accept(new ReplayResult(d, Action.REFUSED, null, p.refusal + ": " + p.why));
                    } else if (dryRun) {
                        c.wouldReplay++;
                        c.toTopics.merge(p.record.topic(), 1L, Long::sum);
                        each.accept(new ReplayResult(d, Action.WOULD_REPLAY, p.record.topic(), null));
                    } else {
                        batch.send(d, p.record);
                    }
                    return true;
                });
                batch.commit();
            } catch (RuntimeException e) {
                batch.abort();
                throw e;
            }
        } catch (ProducerFencedException e) {
            throw new IOException("another replay of " + topic + " started meanwhile and took over; what this one committed"
                    + " stays, the rest was rolled back: run it again", e);
        } catch (KafkaException e) {
            throw new IOException("replay of " + topic + " stopped: " + e.getMessage() + " (what was committed before stays)", e);
        }
        return new ReplaySummary(topic, dryRun, c.records, c.selected, c.replayed, c.wouldReplay, c.alreadyReplayed, c.refused,
                c.refusedBy, c.toTopics);
    }

    private static final class Counts {
        long records;
        long selected;
        long replayed;
        long wouldReplay;
        long alreadyReplayed;
        long refused;
        final Map<String, Long> refusedBy = new TreeMap<>();
        final Map<String, Long> toTopics = new TreeMap<>();
    }

    /** Re-injected records and their markers, committed in transactions of {@link #TRANSACTION_BATCH}; results reported after commit. */
    private final class Batch {
        private final KafkaProducer<byte[], byte[]> producer;
        private final Consumer<ReplayResult> each;
        private final Counts counts;
        private final List<ReplayResult> pending = new ArrayList<>();
        private boolean open;

        Batch(KafkaProducer<byte[], byte[]> producer, Consumer<ReplayResult> each, Counts counts) {
            this.producer = producer;
            this.each = each;
            this.counts = counts;
        }

        void send(DeadLetter d, ProducerRecord<byte[], byte[]> record) {
            if (!open) {
                producer.beginTransaction();
                open = true;
            }
            RecordMetadata meta;
            try {
                meta = producer.send(record).get(60, TimeUnit.SECONDS);
                String as = new RecordRef(meta.topic(), meta.partition(), meta.offset()).toString();
                ReplayMarker marker = new ReplayMarker(ReplayMarker.SCHEMA_VERSION, d.at().toString(),
                        d.source() == null ? null : d.source().toString(), as, d.reason(), clock.instant());
                producer.send(new ProducerRecord<>(markerTopic, d.at().toString().getBytes(StandardCharsets.UTF_8),
                        JSON.writeValueAsBytes(marker))).get(60, TimeUnit.SECONDS);
                pending.add(new ReplayResult(d, Action.REPLAYED, as, null));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new KafkaException("interrupted", e);
            } catch (ExecutionException | TimeoutException | IOException e) {
                throw new KafkaException("could not re-inject " + d.at() + ": " + e, e);
            }
            if (pending.size() >= TRANSACTION_BATCH) commit();
        }

        void commit() {
            if (!open) return;
            producer.commitTransaction();
            open = false;
            for (ReplayResult r : pending) {
                counts.replayed++;
                counts.toTopics.merge(RecordRef.parse(r.to()).map(RecordRef::topic).orElse(r.to()), 1L, Long::sum);
                each.accept(r);
            }
            pending.clear();
        }

        void abort() {
            if (!open) return;
            try {
                producer.abortTransaction();
            } catch (KafkaException ignored) {
                // fenced or broken: the broker aborts the transaction on its own
            }
            open = false;
            pending.clear();
        }
    }

    private record Plan(ProducerRecord<byte[], byte[]> record, Refusal refusal, String why) {
        static Plan refuse(Refusal r, String why) {
            return new Plan(null, r, why);
        }
    }

    private Plan plan(DeadLetter d, ConsumerRecord<byte[], byte[]> dead, Set<String> existing, KafkaConsumer<byte[], byte[]> sources) {
        if (d.sourceText() == null) {
            return Plan.refuse(Refusal.NO_SOURCE, "the dead letter has no dlq.source header: it was not made from one input record"
                    + " (e.g. a quarantined series) or its writer did not say which; nothing to re-inject it into");
        }
        if (d.source() == null) {
            return Plan.refuse(Refusal.NO_SOURCE, "dlq.source '" + d.sourceText() + "' is not topic-partition@offset");
        }
        RecordRef src = d.source();
        if (!existing.contains(src.topic())) {
            return Plan.refuse(Refusal.UNKNOWN_SOURCE_TOPIC, "source topic " + src.topic() + " does not exist on this broker");
        }
        byte[] key;
        byte[] value;
        List<Header> headers = new ArrayList<>();
        if (Boolean.TRUE.equals(d.valueIsSource())) {
            key = dead.key();
            value = dead.value();
        } else {
            Optional<ConsumerRecord<byte[], byte[]>> original = readRecord(sources, src);
            if (original.isEmpty()) {
                return Plan.refuse(Refusal.SOURCE_GONE, "the dead letter holds " + (d.valueIsSource() == null ? "a value it does not"
                        + " describe (no dlq.value)" : "what the stage made of its input (dlq.value=derived)") + ", and the input record "
                        + src + " is no longer on its topic (retention)");
            }
            key = original.get().key();
            value = original.get().value();
            for (Header h : original.get().headers()) {
                if (!h.key().startsWith(DlqHeaders.PREFIX)) headers.add(h);
            }
        }
        if (value == null) return Plan.refuse(Refusal.NO_VALUE, "the record to re-inject has no value");
        ProducerRecord<byte[], byte[]> r = new ProducerRecord<>(src.topic(), null, key, value);
        headers.forEach(h -> r.headers().add(h));
        DlqHeaders.add(r.headers(), DlqHeaders.REPLAY_OF, d.at().toString());
        DlqHeaders.add(r.headers(), DlqHeaders.REPLAY_SOURCE, src.toString());
        DlqHeaders.add(r.headers(), DlqHeaders.REPLAY_AT, clock.instant().toString());
        return new Plan(r, null, null);
    }

    /** The record at {@code ref} (read_committed), or empty when retention or compaction removed it. */
    private static Optional<ConsumerRecord<byte[], byte[]>> readRecord(KafkaConsumer<byte[], byte[]> c, RecordRef ref) {
        TopicPartition tp = ref.topicPartition();
        List<TopicPartition> one = List.of(tp);
        long begin = c.beginningOffsets(one, Duration.ofSeconds(30)).getOrDefault(tp, 0L);
        long end = c.endOffsets(one, Duration.ofSeconds(30)).getOrDefault(tp, 0L);
        if (ref.offset() < begin || ref.offset() >= end) return Optional.empty();
        c.assign(one);
        c.seek(tp, ref.offset());
        long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline && c.position(tp) < end) {
            for (ConsumerRecord<byte[], byte[]> r : c.poll(POLL)) {
                return r.offset() == ref.offset() ? Optional.of(r) : Optional.empty(); // a later offset: this one is gone
            }
        }
        return Optional.empty();
    }

    /** The markers of this topic's dead letters, by dead-letter coordinates (read_committed, to the end). */
    Map<String, ReplayMarker> markers() throws IOException {
        Map<String, ReplayMarker> out = new HashMap<>();
        if (!topics().contains(markerTopic)) return out;
        String prefix = topic + "-";
        read(markerTopic, null, r -> {
            String key = r.key() == null ? "" : new String(r.key(), StandardCharsets.UTF_8);
            if (!key.startsWith(prefix)) return true;
            if (r.value() == null) {
                out.remove(key);
                return true;
            }
            ReplayMarker m;
            try {
                m = JSON.readValue(r.value(), ReplayMarker.class);
            } catch (IOException e) {
                // unreadable, but it says the dead letter was replayed: never replay it again
                m = new ReplayMarker(ReplayMarker.SCHEMA_VERSION, key, null, "(unreadable marker at " + RecordRef.of(r) + ")", null, null);
            }
            out.put(key, m);
            return true;
        });
        return out;
    }

    private void scan(Instant since, java.util.function.Predicate<ConsumerRecord<byte[], byte[]>> each) throws IOException {
        read(topic, since, each);
    }

    /** Reads a topic from the beginning (or {@code since}) to its end offsets of now; {@code each} returns false to stop. */
    private void read(String name, Instant since, java.util.function.Predicate<ConsumerRecord<byte[], byte[]>> each) throws IOException {
        try (KafkaConsumer<byte[], byte[]> c = consumer("read")) {
            List<TopicPartition> parts = c.partitionsFor(name, Duration.ofSeconds(30)).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            c.assign(parts);
            c.seekToBeginning(parts);
            if (since != null) {
                Map<TopicPartition, Long> times = new HashMap<>();
                parts.forEach(p -> times.put(p, since.toEpochMilli()));
                Map<TopicPartition, OffsetAndTimestamp> at = c.offsetsForTimes(times, Duration.ofSeconds(30));
                for (TopicPartition p : parts) {
                    OffsetAndTimestamp o = at.get(p);
                    if (o != null) c.seek(p, o.offset());
                    else c.seekToEnd(List.of(p));
                }
            }
            Map<TopicPartition, Long> end = c.endOffsets(parts, Duration.ofSeconds(30));
            long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
            while (!atEnd(c, end)) {
                if (System.nanoTime() > deadline) throw new IOException("timed out reading " + name + " to its end offsets " + end);
                for (ConsumerRecord<byte[], byte[]> r : c.poll(POLL)) {
                    if (r.offset() >= end.get(new TopicPartition(r.topic(), r.partition()))) continue;
                    if (!each.test(r)) return;
                }
            }
        } catch (KafkaException e) {
            throw new IOException("cannot read " + name + ": " + e.getMessage(), e);
        }
    }

    private static boolean atEnd(KafkaConsumer<?, ?> c, Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (c.position(e.getKey()) < e.getValue()) return false;
        }
        return true;
    }

    private KafkaConsumer<byte[], byte[]> consumer(String purpose) {
        // No group: assigned partitions, nothing committed. read_committed (KafkaClients): aborted replays are never seen.
        return new KafkaConsumer<>(clients.consumerProperties(Map.of(ConsumerConfig.CLIENT_ID_CONFIG, "dlq-tool-" + purpose,
                ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, Integer.toString(16 << 20))),
                new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private KafkaProducer<byte[], byte[]> transactionalProducer() {
        return new KafkaProducer<>(clients.producerProperties(Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "dlq-replay-" + topic,
                ProducerConfig.CLIENT_ID_CONFIG, "dlq-tool-replay", ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(16 << 20),
                ProducerConfig.LINGER_MS_CONFIG, "0")), new ByteArraySerializer(), new ByteArraySerializer());
    }

    private Set<String> topics() throws IOException {
        try (Admin admin = clients.admin(Map.of())) {
            return admin.listTopics().names().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("cannot list the broker's topics (" + clients.bootstrapServers() + "): " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    private void requireTopic(Set<String> names) throws IOException {
        Set<String> have = topics();
        for (String n : names) {
            if (!have.contains(n)) throw new IOException("topic " + n + " does not exist on " + clients.bootstrapServers());
        }
    }

    /** {@code dlq.replays} as the catalogue gives it, created when a stack older than it lacks it (broker default replicas). */
    private void ensureMarkerTopic() throws IOException {
        if (topics().contains(markerTopic)) return;
        TopicSpec spec = Topics.byName(Topics.DLQ_REPLAYS).orElseThrow();
        Map<String, String> configs = new HashMap<>(spec.configs());
        configs.remove("min.insync.replicas");
        try (Admin admin = clients.admin(Map.of())) {
            admin.createTopics(List.of(new NewTopic(markerTopic, Optional.of(spec.partitions()), Optional.empty()).configs(configs)))
                    .all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof org.apache.kafka.common.errors.TopicExistsException)) {
                throw new IOException("cannot create " + markerTopic + ": " + e.getCause(), e);
            }
        } catch (TimeoutException e) {
            throw new IOException("cannot create " + markerTopic + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
