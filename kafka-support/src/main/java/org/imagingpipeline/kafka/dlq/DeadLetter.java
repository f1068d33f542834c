package org.imagingpipeline.kafka.dlq;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;
import org.apache.kafka.clients.consumer.ConsumerRecord;

/**
 * What the dead-letter tool shows of one dead letter: where it is, when, its key, why, where it came from and its size,
 * never its value (a dead letter's value can hold patient data).
 *
 * @param at         the dead letter itself, {@code dlqtopic-partition@offset}
 * @param time       its timestamp (when it was dead-lettered)
 * @param key        its key as text (a SeriesInstanceUID), or null
 * @param reason     {@code dlq.reason}; {@code "(none)"} when the header is missing
 * @param source     the input record it stands for ({@code dlq.source}); null when missing or unreadable
 * @param sourceText the {@code dlq.source} header as written (null when missing)
 * @param valueIsSource true: the value is the input record as read; false: something made of it; null: not said
 *                   (a dead letter written before {@code dlq.value} existed)
 * @param writer     who wrote it: the consume loop ({@code dlq.loop}) or {@code streams/<stage>}, or null
 * @param size       value size in bytes (0 for a null value)
 * @param replayOf   the dead letter this one's input was replayed from ({@code dlq.replay.of}), or null
 */
public record DeadLetter(RecordRef at, Instant time, String key, String reason, RecordRef source, String sourceText,
                         Boolean valueIsSource, String writer, int size, String replayOf) {
    /** The reason when a dead letter has no {@code dlq.reason} header. */
    public static final String NO_REASON = "(none)";
    private static final Pattern KIND = Pattern.compile("[A-Za-z0-9_.$]{1,100}");
    private static final int MAX_KEY = 256;

    public static DeadLetter of(ConsumerRecord<byte[], byte[]> r) {
        String reason = DlqHeaders.text(r.headers(), DlqHeaders.REASON);
        String sourceText = DlqHeaders.text(r.headers(), DlqHeaders.SOURCE);
        RecordRef source = RecordRef.parse(sourceText).orElse(null);
        String value = DlqHeaders.text(r.headers(), DlqHeaders.VALUE);
        String stage = DlqHeaders.text(r.headers(), DlqHeaders.STAGE);
        Boolean asRead = DlqHeaders.VALUE_SOURCE.equals(value) ? Boolean.TRUE : DlqHeaders.VALUE_DERIVED.equals(value) ? Boolean.FALSE
                // written by streams' exception handlers before dlq.value existed: always the input record as read
                : stage != null && sourceText != null ? Boolean.TRUE : null;
        String loop = DlqHeaders.text(r.headers(), DlqHeaders.LOOP);
        String writer = loop != null ? loop : stage != null ? "streams/" + stage : null;
        String key = r.key() == null ? null : new String(r.key(), StandardCharsets.UTF_8);
        if (key != null && key.length() > MAX_KEY) key = key.substring(0, MAX_KEY) + "...";
        return new DeadLetter(RecordRef.of(r), Instant.ofEpochMilli(r.timestamp()), key, reason == null ? NO_REASON : reason, source,
                sourceText, asRead, writer, r.value() == null ? 0 : r.value().length, DlqHeaders.text(r.headers(), DlqHeaders.REPLAY_OF));
    }

    /**
     * The kind of the reason, what the summaries count: the text before the first ':' when that is one word
     * ({@code EHR_REJECTED}, {@code POISON}, {@code PIXEL_LIMITS}, an exception class), else the whole reason.
     */
    public String reasonKind() {
        return kindOf(reason);
    }

    static String kindOf(String reason) {
        int colon = reason.indexOf(':');
        String head = (colon < 0 ? reason : reason.substring(0, colon)).trim();
        return KIND.matcher(head).matches() ? head : reason.length() > 100 ? reason.substring(0, 100) + "..." : reason;
    }

    /** True when {@code reason} names this dead letter's reason kind (case-insensitive) or starts its reason. */
    public boolean hasReason(String wanted) {
        return reasonKind().equalsIgnoreCase(wanted) || reason.startsWith(wanted);
    }

    /** The JSON object {@code dlq list} prints (snake_case; no value). */
    public Map<String, Object> json(ReplayMarker replay) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("topic", at.topic());
        m.put("partition", at.partition());
        m.put("offset", at.offset());
        m.put("time", time.toString());
        m.put("key", key);
        m.put("reason", reason);
        m.put("reason_kind", reasonKind());
        m.put("source_topic", source == null ? null : source.topic());
        m.put("source_partition", source == null ? null : source.partition());
        m.put("source_offset", source == null ? null : source.offset());
        if (source == null && sourceText != null) m.put("source_unreadable", sourceText);
        m.put("value", valueIsSource == null ? "unknown" : valueIsSource ? DlqHeaders.VALUE_SOURCE : DlqHeaders.VALUE_DERIVED);
        m.put("written_by", writer);
        m.put("size", size);
        if (replayOf != null) m.put("replay_of", replayOf);
        m.put("replayed", replay != null);
        if (replay != null) {
            m.put("replayed_as", replay.replayedAs());
            m.put("replayed_at", replay.replayedAt() == null ? null : replay.replayedAt().toString());
        }
        return m;
    }
}
