package org.imagingpipeline.streams.deadletter;

import java.util.Map;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.streams.errors.DeserializationExceptionHandler;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.imagingpipeline.kafka.ConsumeLoop;
import org.jboss.logging.Logger;

/**
 * {@code deserialization.exception.handler}: an input record whose key or value cannot be read goes, as its bytes, to
 * the dead-letter topic with reason {@code DESERIALIZATION: ...}; the stream goes on (CONTINUE). FAIL only when the
 * dead letter itself could not be written (the record is then read again, never skipped unrecorded).
 */
public class DeadLetterDeserializationHandler implements DeserializationExceptionHandler {
    private static final Logger LOG = Logger.getLogger(DeadLetterDeserializationHandler.class);
    private DeadLetters deadLetters;

    @Override
    public void configure(Map<String, ?> configs) {
        deadLetters = DeadLetters.forConfig(configs);
    }

    @Override
    public DeserializationHandlerResponse handle(ErrorHandlerContext context, ConsumerRecord<byte[], byte[]> record, Exception exception) {
        String reason = "DESERIALIZATION: " + Reasons.describe(exception);
        LOG.errorf("%s (key %s) cannot be read: %s", ConsumeLoop.source(record), record.key() == null ? null : new String(record.key(),
                java.nio.charset.StandardCharsets.UTF_8), reason);
        boolean sent = deadLetters.send(DeadLetters.Stage.DESERIALIZATION, reason, ConsumeLoop.source(record),
                context == null ? null : context.processorNodeId(), record.key(), record.value());
        return sent ? DeserializationHandlerResponse.CONTINUE : DeserializationHandlerResponse.FAIL;
    }
}
