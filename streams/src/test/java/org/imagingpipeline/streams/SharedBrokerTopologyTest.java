package org.imagingpipeline.streams;

import java.util.Properties;
import org.apache.kafka.streams.StreamsConfig;
import org.imagingpipeline.streams.deadletter.DeadLetterDeserializationHandler;
import org.imagingpipeline.streams.deadletter.DeadLetterProcessingHandler;
import org.imagingpipeline.streams.deadletter.DeadLetterProductionHandler;
import org.imagingpipeline.streams.deadletter.DeadLetters;
import org.imagingpipeline.testsupport.BrokerProcess;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/** Topology tests on the JVM's shared broker ({@link BrokerProcess#shared()}), with the service's dead-letter handlers. */
abstract class SharedBrokerTopologyTest {
    static BrokerProcess broker;

    @BeforeAll
    static void startBroker() throws Exception {
        broker = BrokerProcess.shared();
    }

    @AfterAll
    static void closeDeadLetters() {
        DeadLetters.closeAll();
    }

    /** The exception handlers as application.properties sets them for the service (dead letters to imaging.streams.dlq). */
    static Properties withDeadLetterHandlers(Properties p) {
        p.put(StreamsConfig.DESERIALIZATION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterDeserializationHandler.class.getName());
        p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterProcessingHandler.class.getName());
        p.put(StreamsConfig.PRODUCTION_EXCEPTION_HANDLER_CLASS_CONFIG, DeadLetterProductionHandler.class.getName());
        return p;
    }
}
