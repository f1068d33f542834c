package org.imagingpipeline.retrain.service;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.imagingpipeline.events.Topics;
import org.imagingpipeline.events.signing.ModelSigning;
import org.imagingpipeline.kafka.KafkaClients;
import org.imagingpipeline.retrain.service.registry.RegistryReader;
import org.imagingpipeline.retrain.service.registry.RegistryView;
import org.imagingpipeline.testsupport.BrokerProcess;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The registry reader started while its broker does not answer (down, or too slow on a loaded machine): it waits,
 * and catches up once the broker is there, instead of ending on the first metadata timeout (retrain then never became
 * ready: the demo scenario on a loaded machine).
 */
class RegistryReaderStartTest {
    @TempDir
    Path tmp;

    @Test
    void aBrokerThatIsNotThereYetIsWaitedFor() throws Exception {
        try (BrokerProcess broker = BrokerProcess.startWithTopics(tmp.resolve("kafka"))) {
            broker.stop();
            RegistryView view = new RegistryView();
            try (RegistryReader reader = new RegistryReader(KafkaClients.of(broker.bootstrap()), Topics.MODEL_VERSIONS, view,
                    new ModelSigning.Verifier(List.of(ModelSigning.generate().publicKey()))).start()) {
                Thread.sleep(15_000); // past the first metadata timeout (10 s)
                assertTrue(reader.isAlive(), "the reader waits for the broker");
                broker.start();
                assertTrue(view.await(RegistryView::caughtUp, Duration.ofSeconds(120)), "caught up once the broker answered");
                assertTrue(reader.isAlive());
            }
        }
    }
}
