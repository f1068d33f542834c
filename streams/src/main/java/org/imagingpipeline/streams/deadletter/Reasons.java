package org.imagingpipeline.streams.deadletter;

import org.apache.kafka.streams.errors.ErrorHandlerContext;

/** The text of a {@code dlq.reason}: what failed and where. */
final class Reasons {
    private static final int MAX_MESSAGE = 300;

    private Reasons() {
    }

    /**
     * A {@link RefusedRecord}'s own reason; otherwise the exception's class and message, truncated. The events' JSON serde
     * already says only where a record failed to parse, never its values.
     */
    static String describe(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof RefusedRecord r) return r.reason();
        }
        String m = e.getMessage();
        if (m != null && m.length() > MAX_MESSAGE) m = m.substring(0, MAX_MESSAGE) + "...";
        return e.getClass().getName() + (m == null ? "" : ": " + m);
    }

    /** topic-partition@offset of the input record, or null when the failure came from no input record (a punctuation). */
    static String source(ErrorHandlerContext c) {
        if (c == null || c.topic() == null || c.offset() < 0) return null;
        return c.topic() + "-" + c.partition() + "@" + c.offset();
    }
}
