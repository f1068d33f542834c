package org.imagingpipeline.fhirbridge;

import java.nio.file.Path;
import java.util.Map;
import org.imagingpipeline.fhirbridge.ehr.EhrServer;
import org.imagingpipeline.testsupport.BrokerProcess;
import org.imagingpipeline.testsupport.BrokerTestResource;

/** The shared broker resource plus the EHR stand-in on a free port, for {@link BridgeAppTest}. */
public class StackResource extends BrokerTestResource {
    private EhrServer ehr;

    @Override
    protected Map<String, String> settings(BrokerProcess broker, Path home) throws Exception {
        ehr = new EhrServer("127.0.0.1", TestSupport.freePort()).start();
        return Map.of("bridge.fhir.base-url", ehr.baseUrl(),
                "bridge.kafka.group-id", "fhir-bridge-app-test", "bridge.retry.initial-backoff", "100ms",
                "bridge.retry.max-backoff", "1s");
    }

    @Override
    protected void stopped() throws Exception {
        if (ehr != null) ehr.stop();
    }
}
