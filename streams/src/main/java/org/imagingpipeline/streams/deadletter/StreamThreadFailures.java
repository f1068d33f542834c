package org.imagingpipeline.streams.deadletter;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler;
import org.jboss.logging.Logger;

/**
 * What becomes of a stream thread when something escapes the exception handlers (Quarkus hands this bean to
 * KafkaStreams): the thread is replaced (REPLACE_THREAD), never SHUTDOWN_CLIENT, so one failure does not stop the
 * service; the uncommitted input is read again. Each consecutive failure (within 10 minutes of the previous one) waits
 * twice as long before the replacement, 1 s up to 60 s, so a failure that repeats is a slow retry, not a busy crash loop.
 *
 * <p>An OutOfMemoryError (any VirtualMachineError) is never treated as a record's ordinary failure: it is logged at
 * ERROR as such, counted in {@code streams_thread_failures_total{error="OutOfMemoryError"}} and reported by health
 * (the last one, with when). Pixel decoding, the one place whose memory depends on a record, refuses oversized pixel data
 * before allocating ({@code streams.pixels.*}) and turns an allocation failure there into that record's
 * {@code OUT_OF_MEMORY} dead letter; an OutOfMemoryError anywhere else reaches this handler.
 */
@ApplicationScoped
public class StreamThreadFailures implements StreamsUncaughtExceptionHandler {
    private static final Logger LOG = Logger.getLogger(StreamThreadFailures.class);
    private static final Duration STREAK = Duration.ofMinutes(10);
    private final AtomicLong failures = new AtomicLong();
    private final AtomicReference<String> last = new AtomicReference<>();
    private int streak;
    private Instant lastAt = Instant.EPOCH;
    @Inject
    MeterRegistry meters;

    @Override
    public StreamThreadExceptionResponse handle(Throwable exception) {
        Throwable fatal = vmError(exception);
        String what = (fatal != null ? fatal : exception).getClass().getSimpleName();
        failures.incrementAndGet();
        last.set(what + " at " + Instant.now());
        if (meters != null) {
            Counter.builder("streams.thread.failures").description("stream threads replaced after an exception escaped the handlers")
                    .tag("error", what).register(meters).increment();
        }
        long delay = backoff();
        if (fatal != null) {
            LOG.errorf(exception, "stream thread died of %s (not a record's failure: the heap was exhausted); replacing it in %d ms."
                    + " If it recurs, raise the heap (-Xmx) or lower streams.pixels.* and streams.drift.slices-per-series", what, delay);
        } else {
            LOG.errorf(exception, "stream thread failed (%s); replacing it in %d ms, the uncommitted records are read again", what, delay);
        }
        try {
            Thread.sleep(delay);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return StreamThreadExceptionResponse.REPLACE_THREAD;
    }

    private synchronized long backoff() {
        Instant now = Instant.now();
        streak = Duration.between(lastAt, now).compareTo(STREAK) < 0 ? streak + 1 : 1;
        lastAt = now;
        return Math.min(60_000L, 1000L << Math.min(6, streak - 1));
    }

    private static Throwable vmError(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (c instanceof VirtualMachineError) return c;
        }
        return null;
    }

    /** Stream threads replaced so far. */
    public long failures() {
        return failures.get();
    }

    /** The last failure (error class and when), null when none. */
    public String last() {
        return last.get();
    }
}
