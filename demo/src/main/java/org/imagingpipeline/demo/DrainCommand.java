package org.imagingpipeline.demo;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.kafka.KafkaClients;
import org.imagingpipeline.kafka.TopicReader;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * Waits until every stage of the stack has handled what is on its input topic now, in data-flow order (so that each
 * stage's input is complete when it is checked): a stage's consumer group has committed, on every partition, past the
 * last record there ({@link TopicReader#awaitConsumed}). A stage commits after its outputs were acknowledged (the bridge
 * after the EHR's answer), so once this returns, a report a redelivered record would write again is in the EHR: the
 * check that makes a duplicate count final. Used by {@code ./pipeline chaos}.
 */
@Command(name = "drain", mixinStandardHelpOptions = true, sortOptions = false,
        description = "Wait until streams, inference and fhir-bridge have consumed their input topics (exit 1 on timeout).")
public final class DrainCommand implements Callable<Integer> {

    /** The stages in data-flow order: consumer group (the services' configured group ids) and its input topic. */
    static final List<String[]> STAGES = List.of(
            new String[] {"imaging-streams", Topics.INSTANCES_RECEIVED},
            new String[] {"inference", Topics.SERIES_READY},
            new String[] {"fhir-bridge", Topics.SEGMENTATION_RESULTS});

    @Option(names = "--bootstrap", required = true, description = "Kafka bootstrap servers")
    String bootstrap;

    @Option(names = "--client-properties", description = "Kafka client properties (the stack's secrets/kafka/cli.properties)")
    Path clientProperties;

    @Option(names = "--timeout-seconds", defaultValue = "300", description = "per stage (default ${DEFAULT-VALUE})")
    int timeoutSeconds;

    public static void main(String[] args) {
        System.exit(new CommandLine(new DrainCommand()).execute(args));
    }

    @Override
    public Integer call() throws InterruptedException {
        KafkaClients clients = clientProperties != null && Files.isRegularFile(clientProperties)
                ? KafkaClients.of(bootstrap, clientProperties) : KafkaClients.of(bootstrap);
        for (String[] stage : STAGES) {
            long t0 = System.nanoTime();
            try {
                TopicReader.awaitConsumed(clients, stage[0], Duration.ofSeconds(timeoutSeconds), stage[1]);
            } catch (IllegalStateException e) {
                System.err.println("drain: " + e.getMessage());
                return 1;
            }
            System.err.printf("drain: %s consumed %s (%.1f s)%n", stage[0], stage[1], (System.nanoTime() - t0) / 1e9);
        }
        return 0;
    }
}
