package org.imagingpipeline.kafka;

import java.time.Duration;
import java.time.Instant;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.jboss.logging.Logger;

/**
 * A {@link KafkaConsumer} polled on its own daemon thread until {@link #close()}: start, liveness, last poll, and a
 * clean stop (wakeup, join, close). Subclasses implement {@link #consume()}, which polls while {@link #running()} and
 * calls {@link #polled()} after each poll. An unexpected exception ends the thread (liveness turns DOWN); whatever
 * was not committed is read again after a restart.
 */
public abstract class PollingThread implements Runnable, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(PollingThread.class);

    protected final KafkaConsumer<String, byte[]> consumer;
    private final String name;
    private volatile boolean running = true;
    private volatile Instant lastPoll = Instant.EPOCH;
    private Thread thread;

    protected PollingThread(String name, KafkaConsumer<String, byte[]> consumer) {
        this.name = name;
        this.consumer = consumer;
    }

    public synchronized PollingThread start() {
        thread = new Thread(this, name);
        thread.setDaemon(true);
        thread.start();
        return this;
    }

    public String name() {
        return name;
    }

    /** The thread runs and was not told to stop. */
    public boolean isAlive() {
        return thread != null && thread.isAlive() && running;
    }

    /** When the consumer last returned from a poll. */
    public Instant lastPoll() {
        return lastPoll;
    }

    /** True until {@link #close()} (or a failure). */
    public boolean running() {
        return running;
    }

    protected void polled() {
        lastPoll = Instant.now();
    }

    protected abstract void consume() throws InterruptedException;

    /** Called on the thread after the consumer closed (e.g. to close a producer). */
    protected void closed() {
    }

    @Override
    public final void run() {
        try {
            consume();
        } catch (WakeupException e) {
            if (running) throw e;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            LOG.errorf(e, "%s failed; uncommitted records are read again after a restart", name);
            running = false;
            throw e;
        } finally {
            try {
                consumer.close(Duration.ofSeconds(5));
            } catch (RuntimeException e) {
                LOG.debug("consumer close", e);
            }
            closed();
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        consumer.wakeup();
        if (thread != null) thread.join(30_000);
    }
}
