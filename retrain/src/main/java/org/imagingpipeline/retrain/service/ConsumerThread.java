package org.imagingpipeline.retrain.service;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.jboss.logging.Logger;

/**
 * A {@link KafkaConsumer} (manual commits, read_committed) polled on its own daemon thread until {@link #close()}:
 * the start/stop/liveness part shared by the service's consumers. Subclasses implement {@link #consume()}, which
 * polls while {@link #running()} and calls {@link #polled()} after each poll.
 */
public abstract class ConsumerThread implements Runnable, AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ConsumerThread.class);

    protected final KafkaConsumer<String, byte[]> consumer;
    private final String name;
    private volatile boolean running = true;
    private volatile Instant lastPoll = Instant.EPOCH;
    private Thread thread;

    /** @param settings consumer settings besides bootstrap servers, deserializers, auto-commit and isolation */
    protected ConsumerThread(String name, String bootstrapServers, Map<String, String> settings, Map<String, String> extraKafka) {
        this.name = name;
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        c.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, name);
        c.putAll(settings);
        c.putAll(extraKafka);
        this.consumer = new KafkaConsumer<>(c, new StringDeserializer(), new ByteArrayDeserializer());
    }

    public synchronized ConsumerThread start() {
        thread = new Thread(this, name);
        thread.setDaemon(true);
        thread.start();
        return this;
    }

    public boolean isAlive() {
        return thread != null && thread.isAlive() && running;
    }

    /** When the consumer last returned from a poll. */
    public Instant lastPoll() {
        return lastPoll;
    }

    protected boolean running() {
        return running;
    }

    protected void polled() {
        lastPoll = Instant.now();
    }

    protected abstract void consume() throws InterruptedException;

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
            consumer.close(Duration.ofSeconds(5));
        }
    }

    @Override
    public void close() throws InterruptedException {
        running = false;
        consumer.wakeup();
        if (thread != null) thread.join(15_000);
    }
}
