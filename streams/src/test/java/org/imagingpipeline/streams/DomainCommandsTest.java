package org.imagingpipeline.streams;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeoutException;
import org.imagingpipeline.kafka.KafkaClients;
import org.imagingpipeline.testsupport.BrokerProcess;
import org.junit.jupiter.api.Test;

/** POST /domains/{id}/approve's bound: without a broker that acknowledges, the command's send fails within the ack timeout. */
class DomainCommandsTest {
    @Test
    void anApprovalNoBrokerAcknowledgesTimesOutWithinTheAckTimeout() throws Exception {
        String nowhere = "127.0.0.1:" + BrokerProcess.freePort();
        try (DomainCommands commands = new DomainCommands(KafkaClients.of(nowhere), Duration.ofSeconds(2))) {
            long start = System.nanoTime();
            assertThrows(TimeoutException.class, () -> commands.send(DomainCommand.approve("dom-000000000001", "test-mlops", Instant.now())));
            Duration took = Duration.ofNanos(System.nanoTime() - start);
            assertTrue(took.compareTo(Duration.ofSeconds(10)) < 0, "bounded: " + took);
        }
    }
}
