package org.imagingpipeline.fhirbridge;

import ca.uhn.fhir.context.FhirContext;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.List;
import org.hl7.fhir.r4.model.Resource;
import org.imagingpipeline.fhirbridge.ehr.EhrServer;

/** Shared, expensive parts of the tests: one FhirContext and one validator per test JVM. */
final class TestSupport {
    private TestSupport() {
    }

    static final FhirContext CTX = FhirContext.forR4Cached();
    private static BundleValidator validator;

    static synchronized BundleValidator validator() {
        if (validator == null) validator = new BundleValidator(CTX);
        return validator;
    }

    static EhrServer startEhr() throws Exception {
        return new EhrServer("127.0.0.1", freePort()).start();
    }

    static ResultProcessor processor(EhrServer ehr, SimpleMeterRegistry registry) {
        EhrClient client = new EhrClient(CTX, ehr.baseUrl(), Duration.ofSeconds(10), Duration.ofSeconds(60),
                AuthProvider.none());
        return new ResultProcessor(new ResultMapper(MappingOptions.defaults()), validator(), client,
                new BridgeMetrics(registry));
    }

    static List<Resource> all(EhrServer ehr, String type) {
        return ehr.store().search(type, r -> true);
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
