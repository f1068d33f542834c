package org.imagingpipeline.kafka;

import io.micrometer.core.instrument.MeterRegistry;
import java.time.Instant;

/**
 * A service's {@link ConsumeLoop.Handler} that owns its loop: start, stop and the loop's state for health checks.
 *
 * @param <T> the handler's own type (what {@link #start()} returns)
 */
public abstract class LoopHandler<T extends LoopHandler<T>> implements ConsumeLoop.Handler, AutoCloseable {
    private final ConsumeLoop loop;

    protected LoopHandler(KafkaClients clients, ConsumeLoop.Settings settings, MeterRegistry meters) {
        this.loop = new ConsumeLoop(clients, settings, this, meters);
    }

    @SuppressWarnings("unchecked")
    public T start() {
        loop.start();
        return (T) this;
    }

    public ConsumeLoop loop() {
        return loop;
    }

    public boolean isAlive() {
        return loop.isAlive();
    }

    /** When the loop last polled Kafka (it polls at least every second while alive). */
    public Instant lastPoll() {
        return loop.lastPoll();
    }

    /** Records handled and committed so far. */
    public long handled() {
        return loop.handled();
    }

    @Override
    public void close() throws InterruptedException {
        loop.close();
    }
}
