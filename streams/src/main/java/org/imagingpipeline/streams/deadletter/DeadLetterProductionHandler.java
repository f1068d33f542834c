package org.imagingpipeline.streams.deadletter;

import java.util.Map;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.RetriableException;
import org.apache.kafka.streams.errors.ErrorHandlerContext;
import org.apache.kafka.streams.errors.ProductionExceptionHandler;
import org.jboss.logging.Logger;

/**
 * {@code production.exception.handler}: an output that cannot be serialised, or that the broker refuses for good (e.g.
 * a record too large for its topic), is dead-lettered as the input record that produced it (the output may be the
 * problem: a 16 MiB series would not fit either) with reason {@code PRODUCTION: ...} or {@code SERIALIZATION: ...}
 * naming the output topic; the stream goes on (CONTINUE). A retriable send error is retried (RETRY). FAIL only when
 * the dead letter could not be written.
 */
public class DeadLetterProductionHandler implements ProductionExceptionHandler {
    private static final Logger LOG = Logger.getLogger(DeadLetterProductionHandler.class);
    private DeadLetters deadLetters;

    @Override
    public void configure(Map<String, ?> configs) {
        deadLetters = DeadLetters.forConfig(configs);
    }

    @Override
    public ProductionExceptionHandlerResponse handle(ErrorHandlerContext context, ProducerRecord<byte[], byte[]> record, Exception exception) {
        if (exception instanceof RetriableException) {
            LOG.warnf("output to %s failed transiently (%s); retrying", record.topic(), exception.toString());
            return ProductionExceptionHandlerResponse.RETRY;
        }
        return deadLetter("PRODUCTION: output to " + record.topic() + " refused: " + Reasons.describe(exception), context, exception);
    }

    @Override
    public ProductionExceptionHandlerResponse handleSerializationException(ErrorHandlerContext context, ProducerRecord record, Exception exception,
                                                                           SerializationExceptionOrigin origin) {
        return deadLetter("SERIALIZATION: the " + origin.name().toLowerCase() + " of an output to " + record.topic() + " cannot be written: "
                + Reasons.describe(exception), context, exception);
    }

    private ProductionExceptionHandlerResponse deadLetter(String reason, ErrorHandlerContext context, Exception exception) {
        String source = Reasons.source(context);
        LOG.errorf(exception, "%s: %s", source, reason);
        boolean sent = deadLetters.send(DeadLetters.Stage.PRODUCTION, reason, source, context == null ? null : context.processorNodeId(),
                context == null ? null : context.sourceRawKey(), context == null ? null : context.sourceRawValue());
        return sent ? ProductionExceptionHandlerResponse.CONTINUE : ProductionExceptionHandlerResponse.FAIL;
    }
}
