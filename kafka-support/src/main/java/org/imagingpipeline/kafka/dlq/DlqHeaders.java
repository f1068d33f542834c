package org.imagingpipeline.kafka.dlq;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * The headers of the pipeline's dead letters and of the records {@link DeadLetterTopic#replay replay} re-injects. Written
 * by kafka-support's {@code ConsumeLoop} (inference, fhir-bridge) and by streams' {@code DeadLetters} (its exception
 * handlers); read by {@code ./pipeline dlq}. All values are UTF-8 text.
 *
 * <table>
 *   <caption>headers</caption>
 *   <tr><th>header</th><th>on</th><th>what</th></tr>
 *   <tr><td>{@value #REASON}</td><td>every dead letter</td><td>why: {@code KIND: detail} (never patient values)</td></tr>
 *   <tr><td>{@value #SOURCE}</td><td>every dead letter with an input record</td><td>{@code topic-partition@offset} of
 *       the record it stands for: where replay re-injects it</td></tr>
 *   <tr><td>{@value #VALUE}</td><td>dead letters written since this header exists</td><td>{@value #VALUE_SOURCE}: the value
 *       is the input record's bytes as read (replay re-injects it); {@value #VALUE_DERIVED}: the value is something the
 *       stage made of it (an ERROR result, a DeliveryFailure), so replay re-reads the input record from its topic</td></tr>
 *   <tr><td>{@value #LOOP}</td><td>ConsumeLoop dead letters</td><td>the consume loop that wrote it</td></tr>
 *   <tr><td>{@value #STAGE}, {@value #PROCESSOR}</td><td>streams dead letters</td><td>the handler (deserialization,
 *       processing, production) and the processor node</td></tr>
 *   <tr><td>{@value #REPLAY_OF}</td><td>a replayed record, and a dead letter of a replayed record</td><td>the dead letter
 *       it was replayed from: {@code dlqtopic-partition@offset}</td></tr>
 *   <tr><td>{@value #REPLAY_SOURCE}, {@value #REPLAY_AT}</td><td>a replayed record</td><td>the original input record's
 *       coordinates, and when it was replayed (ISO-8601)</td></tr>
 * </table>
 */
public final class DlqHeaders {
    public static final String REASON = "dlq.reason";
    public static final String SOURCE = "dlq.source";
    public static final String VALUE = "dlq.value";
    public static final String VALUE_SOURCE = "source";
    public static final String VALUE_DERIVED = "derived";
    public static final String LOOP = "dlq.loop";
    public static final String STAGE = "dlq.stage";
    public static final String PROCESSOR = "dlq.processor";
    public static final String REPLAY_OF = "dlq.replay.of";
    public static final String REPLAY_SOURCE = "dlq.replay.source";
    public static final String REPLAY_AT = "dlq.replay.at";
    /** Every header name starts with this: a replay does not copy them from the record it re-injects. */
    public static final String PREFIX = "dlq.";

    private DlqHeaders() {
    }

    /** The last value of a header as text, or null. */
    public static String text(Headers headers, String name) {
        Header h = headers.lastHeader(name);
        return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    /** Adds a text header. */
    public static void add(Headers headers, String name, String value) {
        headers.add(name, value.getBytes(StandardCharsets.UTF_8));
    }
}
