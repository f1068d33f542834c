package org.imagingpipeline.fhirbridge;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import java.nio.file.Files;
import java.util.Map;
import org.imagingpipeline.deploy.BrokerProcess;
import org.imagingpipeline.fhirbridge.ehr.EhrServer;

/** A real KRaft broker and the EHR stand-in on free ports for {@link BridgeAppTest}. */
public class StackResource implements QuarkusTestResourceLifecycleManager {
    private BrokerProcess broker;
    private EhrServer ehr;

    @Override
    public Map<String, String> start() {
        try {
            broker = BrokerProcess.startWithTopics(Files.createTempDirectory("fhir-bridge-app-test"));
            ehr = new EhrServer("127.0.0.1", TestSupport.freePort()).start();
        } catch (Exception e) {
            throw new IllegalStateException("cannot start broker or EHR stand-in", e);
        }
        return Map.of("kafka.bootstrap.servers", broker.bootstrap(), "bridge.fhir.base-url", ehr.baseUrl(),
                "bridge.kafka.group-id", "fhir-bridge-app-test", "bridge.retry.initial-backoff", "100ms",
                "bridge.retry.max-backoff", "1s");
    }

    @Override
    public void stop() {
        try {
            if (ehr != null) ehr.stop();
            if (broker != null) broker.stop();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
