package org.imagingpipeline.streams.deadletter;

import java.util.Map;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProcessingExceptionHandler;
import org.apache.kafka.streams.processor.api.Record;
import org.jboss.logging.Logger;

/**
 * {@code processing.exception.handler}: a record that makes a processor throw goes to the dead-letter topic as the input
 * record's bytes (the source topic's record that led to it) with the reason: a {@link RefusedRecord}'s
 * ({@code PIXEL_LIMITS: ...}, {@code OUT_OF_MEMORY: ...}) or {@code PROCESSING_ERROR: <exception>}; the stream goes on
 * (CONTINUE). FAIL only when the dead letter could not be written. Errors (OutOfMemoryError and other
 * VirtualMachineErrors) never reach this handler: Kafka Streams hands only Exceptions here; they go to the stream thread's
 * uncaught-exception handler ({@code StreamThreadFailures}).
 */
public class DeadLetterProcessingHandler implements ProcessingExceptionHandler {
    private static final Logger LOG = Logger.getLogger(DeadLetterProcessingHandler.class);
    private DeadLetters deadLetters;

    @Override
    public void configure(Map<String, ?> configs) {
        deadLetters = DeadLetters.forConfig(configs);
    }

    @Override
    public ProcessingHandlerResponse handle(ErrorHandlerContext context, Record<?, ?> record, Exception exception) {
        String reason = exception instanceof RefusedRecord r ? r.reason() : "PROCESSING_ERROR: " + Reasons.describe(exception);
        String source = Reasons.source(context);
        if (exception instanceof RefusedRecord r && r.kind() != RefusedRecord.Kind.OUT_OF_MEMORY) {
            LOG.errorf("%s refused by %s: %s", source, context.processorNodeId(), reason);
        } else {
            LOG.errorf(exception, "%s failed in %s: %s", source, context.processorNodeId(), reason);
        }
        byte[] key = context.sourceRawKey();
        if (key == null && record != null && record.key() != null) key = String.valueOf(record.key()).getBytes(java.nio.charset.StandardCharsets.UTF_8);
        boolean sent = deadLetters.send(DeadLetters.Stage.PROCESSING, reason, source, context.processorNodeId(), key, context.sourceRawValue());
        return sent ? ProcessingHandlerResponse.CONTINUE : ProcessingHandlerResponse.FAIL;
    }
}
